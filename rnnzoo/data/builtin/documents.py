"""Film reviews of several sentences, one per line, whose label is decided
by one sentence: the verdict ("all in all , the film was not good ."),
anywhere in the review. The other sentences are plot summary and opinions
on details whose polarity is random, so counting opinion words over the
whole review is right about as often as chance says; a model must find the
verdict sentence and read its word order (negation, "but")."""

from rnnzoo.data.builtin.seeds import default_size, split_rng
from rnnzoo.data.builtin.sentiment import _clause
from rnnzoo.data.examples import LabeledText

VERDICTS = ["all in all ,", "overall ,", "in the end ,", "to sum up ,", "my verdict :"]
PLOT = ["a {who} {does} in {where} .", "the story follows a {who} who {does} .",
        "it opens in {where} , where a {who} {does} .", "later the {who} {does} again ."]
WHO = ["detective", "young teacher", "family", "soldier", "painter", "couple", "journalist", "farmer"]
DOES = ["loses a letter", "moves to the city", "meets an old friend", "hides a secret", "starts a band",
        "leaves home", "finds a map", "waits for news"]
WHERE = ["paris", "a small town", "the mountains", "a hospital", "new york", "the desert", "a school"]


def _plot(rng):
    template = PLOT[rng.integers(len(PLOT))]
    return template.format(who=WHO[rng.integers(len(WHO))], does=DOES[rng.integers(len(DOES))],
                           where=WHERE[rng.integers(len(WHERE))])


def review_documents(split="train", size=None, seed=0):
    """`LabeledText(review, "pos" / "neg")`, sentences separated by line
    breaks; 1,500 train, 300 validation and test reviews by default."""
    rng = split_rng(split, seed)
    examples = []
    for _ in range(size or default_size(split, 1500, 300)):
        sentences = [_plot(rng) if rng.random() < 0.5 else f"{_clause(rng)[0]} ." for _ in range(rng.integers(3, 9))]
        verdict, positive = _clause(rng)
        sentences.insert(int(rng.integers(len(sentences) + 1)),
                         f"{VERDICTS[rng.integers(len(VERDICTS))]} {verdict} .")
        examples.append(LabeledText("\n".join(sentences), "pos" if positive else "neg"))
    return examples
