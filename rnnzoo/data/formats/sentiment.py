"""Labelled text for classification: `label sentence` lines (SST),
`sentence<TAB>label` lines, and one folder per class (`aclImdb/train/pos`)."""

import os

from rnnzoo.data.examples import LabeledText
from rnnzoo.data.reading import DataFormatError, read_text, read_lines, require_examples

LINE_FORMATS = ("label_first", "tab_label_last")


def load_labeled_lines(path, line_format="label_first", encoding="utf-8"):
    """`label_first`: `1 a gripping film` (SST-2 / MR). `tab_label_last`:
    `a gripping film<TAB>1`. Blank lines are skipped."""
    if line_format not in LINE_FORMATS:
        raise ValueError(f"line_format must be one of {LINE_FORMATS}, got {line_format!r}.")
    examples = []
    for number, line in read_lines(path, encoding):
        if not line.strip():
            continue
        if line_format == "label_first":
            label, _, text = line.strip().partition(" ")
            expected = "`label sentence`"
        else:
            text, _, label = line.rpartition("\t")
            expected = "`sentence<TAB>label`"
        text, label = text.strip(), label.strip()
        if line_format == "label_first" and "\t" in line:
            raise DataFormatError(path, number, f"expected {expected}, found a tab in {line!r} "
                                                "(for `sentence<TAB>label` use line_format='tab_label_last').")
        if not text or not label:
            raise DataFormatError(path, number, f"expected {expected}, found {line!r}.")
        examples.append(LabeledText(text, label))
    return require_examples(examples, path, "labelled lines")


def load_class_folders(root, classes=None, encoding="utf-8"):
    """One sub-folder per class holding one `.txt` file per example
    (`aclImdb/train/{neg,pos}/*.txt`). `classes` picks sub-folders (IMDB's
    `train/` also holds `unsup/`); by default every sub-folder with text."""
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root}: no such folder.")
    if classes is None:
        classes = sorted(
            name for name in os.listdir(root)
            if os.path.isdir(os.path.join(root, name))
            and any(f.endswith(".txt") for f in os.listdir(os.path.join(root, name)))
        )
    examples = []
    for label in classes:
        folder = os.path.join(root, label)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{folder}: class folder {label!r} does not exist.")
        for name in sorted(os.listdir(folder)):
            if name.endswith(".txt"):
                text = read_text(os.path.join(folder, name), encoding).strip()
                if not text:
                    raise DataFormatError(os.path.join(folder, name), None, "empty example.")
                examples.append(LabeledText(text.replace("<br />", " "), label, f"{label}/{name}"))
    return require_examples(examples, root, "class folders with .txt files")
