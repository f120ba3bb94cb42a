"""A toy language pair with reordering and agreement.

Source (English-like, SVO): "the big dogs see a small cat near the house ."
Target (SOV, adjectives after nouns, gender and number agreement):
"los kanos grandos una gata pequena cerca la kasa viden ."

The verb moves to the end past phrases of any length, the adjective moves
behind its noun, and the article, adjective and verb agree with a noun that
the source gives only later (or in another word), so word-by-word
translation fails.
"""

from rnnzoo.data.builtin.seeds import default_size, split_rng
from rnnzoo.data.examples import TextPair

# source noun -> (target stem, gender)
NOUNS = {"dog": ("kan", "m"), "cat": ("gat", "f"), "horse": ("kabal", "m"), "bird": ("pajar", "m"),
         "girl": ("nin", "f"), "boy": ("chic", "m"), "house": ("kas", "f"), "tree": ("arbol", "m"),
         "flower": ("flor", "f"), "river": ("ri", "m"), "table": ("mes", "f"), "book": ("libr", "m")}
ADJECTIVES = {"big": "grand", "small": "pequen", "red": "roj", "old": "viej", "new": "nuev",
              "white": "blanc"}
# source verb (singular, plural) -> target (singular, plural)
VERBS = {("sees", "see"): ("vide", "viden"), ("likes", "like"): ("ama", "aman"),
         ("follows", "follow"): ("sigue", "siguen"), ("finds", "find"): ("trova", "trovan")}
PREPOSITIONS = {"near": "cerca", "behind": "tras", "with": "kon"}
ARTICLES = {("the", "m", False): "lo", ("the", "f", False): "la", ("the", "m", True): "los",
            ("the", "f", True): "las", ("a", "m", False): "un", ("a", "f", False): "una",
            ("some", "m", True): "unos", ("some", "f", True): "unas"}


def _pick(rng, items):
    items = list(items)
    return items[rng.integers(len(items))]


def _noun_phrase(rng):
    noun = _pick(rng, NOUNS)
    stem, gender = NOUNS[noun]
    plural = bool(rng.integers(2))
    article = _pick(rng, ("the", "some") if plural else ("the", "a"))
    source = [article]
    target = [ARTICLES[(article, gender, plural)], stem + ("o" if gender == "m" else "a") + ("s" if plural else "")]
    if rng.random() < 0.5:
        adjective = _pick(rng, ADJECTIVES)
        source.append(adjective)
        target.append(ADJECTIVES[adjective] + ("o" if gender == "m" else "a") + ("s" if plural else ""))
    source.append(noun + ("s" if plural else ""))
    return source, target, plural


def translation_pairs(split="train", size=None, seed=0):
    """`TextPair(source, target)`; 6,000 train, 500 validation and test."""
    rng = split_rng(split, seed)
    pairs = []
    for _ in range(size or default_size(split, 6000, 500)):
        subject_source, subject_target, plural = _noun_phrase(rng)
        verbs = _pick(rng, VERBS)
        object_source, object_target, _ = _noun_phrase(rng)
        source = subject_source + [verbs[plural]] + object_source
        target = subject_target + object_target
        if rng.random() < 0.4:
            preposition = _pick(rng, PREPOSITIONS)
            extra_source, extra_target, _ = _noun_phrase(rng)
            source += [preposition] + extra_source
            target += [PREPOSITIONS[preposition]] + extra_target
        target.append(VERBS[verbs][plural])
        pairs.append(TextPair(" ".join(source + ["."]), " ".join(target + ["."])))
    return pairs
