"""The example types every loader and built-in dataset returns, so a recipe
reads real files and built-in data the same way."""

import typing

import numpy as np


class TaggedSentence(typing.NamedTuple):
    """One tag per word (POS or BIO entity tags)."""
    words: list
    tags: list


class LabeledText(typing.NamedTuple):
    """A text and its class label (a string, e.g. "0"/"1" or "pos"/"neg");
    `source`: the file it came from, where each example is a file (class
    folders), for splits that go by file name (cross-validation folds)."""
    text: str
    label: str
    source: str = None


class TextPair(typing.NamedTuple):
    """A source sentence and its translation."""
    source: str
    target: str


class CaptionedImage(typing.NamedTuple):
    """An image (a file path, or an array for built-in data) and its captions."""
    image: object
    captions: list


class AudioClip(typing.NamedTuple):
    """A recording named `{label}_{speaker}_{index}.wav`."""
    path: str
    label: str
    speaker: str
    index: int


def random_split(examples, fraction, seed=0):
    """Split `examples` into (rest, held_out) with `fraction` of them held
    out, chosen by a seeded shuffle (for sets with no official split)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}.")
    examples = list(examples)
    held_out_count = int(round(len(examples) * fraction))
    if held_out_count == 0 or held_out_count == len(examples):
        raise ValueError(f"cannot hold out {fraction:.0%} of {len(examples)} examples.")
    order = np.random.default_rng(seed).permutation(len(examples))
    held_out = set(order[:held_out_count].tolist())
    rest = [e for i, e in enumerate(examples) if i not in held_out]
    return rest, [examples[i] for i in sorted(held_out)]
