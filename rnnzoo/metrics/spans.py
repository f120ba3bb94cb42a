"""Entity span F1 with the conlleval definition (CoNLL-2000 shared task).

A span counts as correct when its type and both boundaries match. Spans are
read by seqeval (`get_entities`, its conlleval-compatible default mode), so
BIO (IOB2), IOB1 and BIOES (IOBES) tags all work, and an `I-X` that does
not continue an `X` span starts a new one (as conlleval does). Ours are only
the tag check (seqeval warns and guesses on a malformed tag; we say which
tag is wrong) and the per-type counts of correct, found and expected spans
(seqeval's report gives rates and support only).
"""

import collections


def _split_tag(tag):
    if tag in ("O", "", None):
        return "O", ""
    prefix, _, entity_type = tag.partition("-")
    if prefix not in ("B", "I", "E", "S") or not entity_type:
        raise ValueError(
            f"Tag {tag!r} is not 'O' or PREFIX-TYPE with PREFIX one of B, I, E, S."
        )
    return prefix, entity_type


def extract_spans(tags):
    """`[(type, start, end_exclusive), ...]` for one tag sequence."""
    from seqeval.metrics.sequence_labeling import get_entities

    tags = [tag if tag else "O" for tag in tags]
    for tag in tags:
        _split_tag(tag)
    return [(entity_type, start, end + 1) for entity_type, start, end in get_entities(tags)]


def _prf(correct, found, expected):
    precision = correct / found if found else 0.0
    recall = correct / expected if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "correct": correct, "found": found, "expected": expected}


def span_f1(true_sequences, predicted_sequences):
    """Overall and per-type span precision, recall and F1.

    Args: lists of tag sequences (one per sentence), of equal lengths.
    Returns `{"overall": {...}, "per_type": {type: {...}}}` where each entry
    has precision, recall, f1 and the correct / found / expected counts.
    """
    if len(true_sequences) != len(predicted_sequences):
        raise ValueError(
            f"span_f1: {len(true_sequences)} true sequences but "
            f"{len(predicted_sequences)} predicted sequences."
        )
    expected, found = set(), set()
    for index, (true_tags, predicted_tags) in enumerate(zip(true_sequences, predicted_sequences)):
        if len(true_tags) != len(predicted_tags):
            raise ValueError(
                f"span_f1: sentence {index} has {len(true_tags)} true tags but "
                f"{len(predicted_tags)} predicted tags."
            )
        expected.update((index, *span) for span in extract_spans(true_tags))
        found.update((index, *span) for span in extract_spans(predicted_tags))
    correct = expected & found
    counts = collections.defaultdict(lambda: [0, 0, 0])
    for group, position in ((correct, 0), (found, 1), (expected, 2)):
        for span in group:
            counts[span[1]][position] += 1
    return {
        "overall": _prf(len(correct), len(found), len(expected)),
        "per_type": {t: _prf(*counts[t]) for t in sorted(counts)},
    }
