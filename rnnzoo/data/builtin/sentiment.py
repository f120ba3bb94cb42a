"""Sentences about films whose label depends on word order: negation and
diminishers flip a clause, intensifiers do not, and in "X but Y" /
"although X, Y" the second clause decides. "good but dull" and "dull but
good" hold the same words and opposite labels, so a bag of words fails."""

from rnnzoo.data.builtin.seeds import default_size, split_rng
from rnnzoo.data.examples import LabeledText

SUBJECTS = ["the film", "the movie", "the plot", "the acting", "the ending", "the cast",
            "the soundtrack", "the dialogue", "this story", "the script", "the director's work"]
VERBS = ["was", "is", "seemed", "felt", "looked"]
POSITIVE = ["good", "great", "funny", "moving", "brilliant", "charming", "clever", "gripping", "fresh"]
NEGATIVE = ["bad", "dull", "boring", "awful", "weak", "predictable", "clumsy", "tedious", "flat"]
INTENSIFIERS = ["very", "really", "quite", "truly", "extremely", "remarkably"]
FLIPPERS = ["not", "never", "barely", "hardly"]


def _clause(rng):
    """(words, polarity) of one clause: subject verb [flip] [intensifier] adjective."""
    positive = bool(rng.integers(2))
    words = [SUBJECTS[rng.integers(len(SUBJECTS))], VERBS[rng.integers(len(VERBS))]]
    flipped = rng.random() < 0.35
    if flipped:
        words.append(FLIPPERS[rng.integers(len(FLIPPERS))])
    if rng.random() < 0.4:
        words.append(INTENSIFIERS[rng.integers(len(INTENSIFIERS))])
    words.append((POSITIVE if positive else NEGATIVE)[rng.integers(len(POSITIVE))])
    return " ".join(words), positive != flipped


def sentiment_sentences(split="train", size=None, seed=0):
    """`LabeledText(sentence, "1" positive / "0" negative)`; 4,000 train,
    600 validation and test sentences by default."""
    rng = split_rng(split, seed)
    examples = []
    for _ in range(size or default_size(split, 4000, 600)):
        first, first_positive = _clause(rng)
        form = rng.integers(4)
        if form == 0:
            text, positive = first, first_positive
        else:
            second, positive = _clause(rng)
            if form == 1:
                text = f"{first} but {second}"
            elif form == 2:
                text = f"although {first} , {second}"
            else:  # "and" joins clauses of the same polarity
                while positive != first_positive:
                    second, positive = _clause(rng)
                text = f"{first} and {second}"
        examples.append(LabeledText(text, "1" if positive else "0"))
    return examples
