"""A tagging language where the right context decides some tags.

POS: a noun phrase is `DET [ADJ] word* word`; the same nominal words
("stone", "paper", "garden") are tagged ADJ when another nominal follows
("the stone wall") and NOUN when they end the phrase ("the stone fell").
NER (BIO): some entity words change type with the next word ("paris" is
B-LOC, "paris hilton" is B-PER I-PER; "washington post" is B-ORG I-ORG).
Reading left to right cannot settle these tags; a bidirectional tagger can.
"""

from rnnzoo.data.builtin.seeds import default_size, split_rng
from rnnzoo.data.examples import TaggedSentence

NOMINALS = ["stone", "paper", "garden", "glass", "river", "kitchen", "winter", "silver",
            "school", "door", "light", "house", "field", "market"]
ADJECTIVES = ["old", "small", "green", "quiet", "broken", "tall"]
DETERMINERS = ["the", "a", "this", "every"]
VERBS = ["fell", "moved", "shone", "closed", "stood", "waited", "opened"]
TRANSITIVE = ["saw", "found", "painted", "sold", "visited", "liked"]
PREPOSITIONS = ["near", "behind", "under", "beside"]
ADVERBS = ["slowly", "today", "again", "quietly"]
# (words, entity type): the first word alone is a different entity type.
ENTITIES = [
    (["paris"], "LOC"), (["paris", "hilton"], "PER"),
    (["washington"], "LOC"), (["washington", "post"], "ORG"), (["washington", "irving"], "PER"),
    (["georgia"], "LOC"), (["georgia", "tech"], "ORG"),
    (["jackson"], "PER"), (["jackson", "hole"], "LOC"),
    (["amazon"], "ORG"), (["amazon", "river"], "LOC"),
    (["lima"], "LOC"), (["maria", "lopez"], "PER"), (["acme", "corp"], "ORG"),
]


def _noun_phrase(rng):
    words = [DETERMINERS[rng.integers(len(DETERMINERS))]]
    tags = ["DET"]
    if rng.random() < 0.3:
        words.append(ADJECTIVES[rng.integers(len(ADJECTIVES))])
        tags.append("ADJ")
    count = 1 + rng.integers(3)  # 1-3 nominals; all but the last are modifiers
    for i in range(count):
        words.append(NOMINALS[rng.integers(len(NOMINALS))])
        tags.append("NOUN" if i == count - 1 else "ADJ")
    return words, tags, ["O"] * len(words)


def _entity(rng):
    words, kind = ENTITIES[rng.integers(len(ENTITIES))]
    return list(words), ["PROPN"] * len(words), [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1)


def _argument(rng):
    return _entity(rng) if rng.random() < 0.4 else _noun_phrase(rng)


def _sentence(rng):
    parts = [_argument(rng)]
    if rng.random() < 0.5:
        parts.append(([VERBS[rng.integers(len(VERBS))]], ["VERB"], ["O"]))
    else:
        parts.append(([TRANSITIVE[rng.integers(len(TRANSITIVE))]], ["VERB"], ["O"]))
        parts.append(_argument(rng))
    if rng.random() < 0.4:
        parts.append(([PREPOSITIONS[rng.integers(len(PREPOSITIONS))]], ["ADP"], ["O"]))
        parts.append(_argument(rng))
    if rng.random() < 0.3:
        parts.append(([ADVERBS[rng.integers(len(ADVERBS))]], ["ADV"], ["O"]))
    parts.append((["."], ["PUNCT"], ["O"]))
    words, pos, ner = ([x for part in parts for x in part[i]] for i in range(3))
    return words, pos, ner


def tagged_sentences(split="train", scheme="pos", size=None, seed=0):
    """`TaggedSentence(words, tags)` with UPOS-style tags (`scheme="pos"`) or
    BIO entity tags (`scheme="ner"`); 3,000 train, 500 validation and test."""
    if scheme not in ("pos", "ner"):
        raise ValueError(f"scheme must be 'pos' or 'ner', got {scheme!r}.")
    rng = split_rng(split, seed)
    sentences = []
    for _ in range(size or default_size(split, 3000, 500)):
        words, pos, ner = _sentence(rng)
        sentences.append(TaggedSentence(words, pos if scheme == "pos" else ner))
    return sentences
