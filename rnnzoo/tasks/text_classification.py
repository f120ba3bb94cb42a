"""Text classification (the sentiment recipe): the files it reads, label
names, the SavedModel that maps raw strings to labels, and scoring a
finished run on a file.

A run folder holds `tokens/` (the `TextEncoder`), `labels.txt` (the labels as
the data writes them, in id order), `label_names.txt` (what to print for
each: `positive` for SST-2's `1`) and `saved_model/`.
"""

import os

import numpy as np

from rnnzoo.data import UNK_ID, formats
from rnnzoo.data.reading import read_lines
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.exporting.text_serving import load_signature, serve_in_batches
from rnnzoo.metrics import classification_report
from rnnzoo.utils.files import write_text

RECIPE = "sentiment"
DATASETS = ("sst2", "imdb")
TOKENS = "tokens"
LABELS = "labels.txt"
LABEL_NAMES = "label_names.txt"


def load_path(path, encoding="utf-8"):
    """A folder of class sub-folders (aclImdb), or a file of `label text` or
    `text<TAB>label` lines (decided by the first non-blank line)."""
    if os.path.isdir(path):
        classes = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)) and d != "unsup")
        return formats.load_class_folders(path, classes=classes, encoding=encoding)
    first = next((line for _, line in read_lines(path, encoding) if line.strip()), "")
    return formats.load_labeled_lines(path, "tab_label_last" if "\t" in first else "label_first", encoding=encoding)


def builtin_name(config):
    return "sentiment"


def file_options(config):
    return {}


def dataset_options(data, config):
    return {}


def is_run(run_dir):
    return os.path.exists(os.path.join(run_dir, LABELS)) and os.path.isdir(os.path.join(run_dir, TOKENS))


def save_labels(run_dir, labels, names):
    labels.save(os.path.join(run_dir, LABELS))
    write_text(os.path.join(run_dir, LABEL_NAMES), "".join(f"{name}\n" for name in names))


def load_labels(run_dir):
    """`(labels, names)`: the label `Vocabulary` and a name per label (the
    labels themselves for runs made before names were saved)."""
    labels = Vocabulary.load(os.path.join(run_dir, LABELS), reserved=())
    names_path = os.path.join(run_dir, LABEL_NAMES)
    names = [line for _, line in read_lines(names_path)] if os.path.exists(names_path) else list(labels.tokens)
    if len(names) != len(labels):
        raise ValueError(f"{names_path}: {len(names)} names for the {len(labels)} labels of {LABELS}.")
    return labels, names


def serving_function(model, encoder, names):
    """`text` (raw strings) -> `label` (names), `label_id`, `probabilities`,
    in one graph: standardize, tokenize, look up, classify."""
    import tensorflow as tf

    names = tf.constant(list(names))

    def serve(text):
        ragged = encoder.encode(text)
        # One extra padding column keeps the width >= 1; a text with no
        # tokens reads as one <unk>, as in training.
        ids = tf.pad(ragged.to_tensor(), [[0, 0], [0, 1]])
        first = tf.where(tf.equal(ragged.row_lengths(), 0), UNK_ID, ids[:, 0])
        ids = tf.concat([first[:, None], ids[:, 1:]], axis=1)
        probabilities = tf.nn.softmax(model(ids, training=False), axis=-1)
        label_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {"label": tf.gather(names, label_id), "label_id": label_id, "probabilities": probabilities}

    return serve


def unknown_token_rate(encoder, texts):
    """The fraction of tokens that are not in the vocabulary."""
    rows = encoder.encode_to_lists(texts)
    total = sum(len(row) for row in rows)
    return float(sum(row.count(UNK_ID) for row in rows) / total) if total else 0.0


def evaluate_run(run_dir, examples, config):
    """Score the run's text-in SavedModel on `LabeledText` examples: the
    classification report (accuracy, P/R/F1, confusion matrix) and the
    `<unk>` rate of the texts."""
    labels, names = load_labels(run_dir)
    by_label = {**{name: i for i, name in enumerate(names)}, **labels.index}
    unknown = sorted({e.label for e in examples} - set(by_label))
    if unknown:
        raise ValueError(f"labels {unknown} are not among this run's labels {labels.tokens} (names {names}).")
    texts = [e.text for e in examples]
    outputs = serve_in_batches(load_signature(os.path.join(run_dir, "saved_model")), texts)
    predicted = np.concatenate([o["label_id"] for o in outputs])
    metrics = classification_report([by_label[e.label] for e in examples], predicted, labels=range(len(labels)),
                                    label_names=names)
    metrics["unknown_token_rate"] = unknown_token_rate(TextEncoder.load(os.path.join(run_dir, TOKENS)), texts)
    return metrics
