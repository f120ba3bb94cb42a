"""Text classification (the sentiment recipe): `TextClassifier`, the files
it reads, label names, the SavedModel that maps raw strings to labels, and
scoring a finished run on a file.

A preset (and a run folder) holds `tokens/` (the `TextEncoder`), `labels.txt`
(the labels as the data writes them, in id order), `label_names.txt` (what
to print for each: `positive` for SST-2's `1`), `model.keras`, and in a run
folder `saved_model/`.
"""

import os

import numpy as np

from rnnzoo.data import UNK_ID, formats
from rnnzoo.data.datasets import label_names
from rnnzoo.data.reading import read_lines
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.exporting.text_serving import load_signature, serve_in_batches
from rnnzoo.metrics import classification_report
from rnnzoo.tasks import Evaluation, recipe
from rnnzoo.tasks.base import Task, max_abs_difference
from rnnzoo.utils.files import write_text

RECIPE = "sentiment"
DATASETS = ("sst2", "imdb")
TOKENS = "tokens"
LABELS = "labels.txt"
LABEL_NAMES = "label_names.txt"
MAX_SERVING_CHECK = 512


def load_path(path, encoding="utf-8"):
    """A folder of class sub-folders (aclImdb), or a file of `label text` or
    `text<TAB>label` lines (decided by the first non-blank line)."""
    if os.path.isdir(path):
        classes = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)) and d != "unsup")
        return formats.load_class_folders(path, classes=classes, encoding=encoding)
    first = next((line for _, line in read_lines(path, encoding) if line.strip()), "")
    return formats.load_labeled_lines(path, "tab_label_last" if "\t" in first else "label_first", encoding=encoding)


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


def label_ids(labels, names, found):
    """Labels as a file writes them, or their names -> ids; any other label
    is refused, naming it."""
    by_label = {**{name: i for i, name in enumerate(names)}, **labels.index}
    unknown = sorted({str(label) for label in found} - set(by_label))
    if unknown:
        first = next(index for index, label in enumerate(found) if str(label) not in by_label)
        raise ValueError(f"labels {unknown} (the first in example {first + 1}) are not among {labels.tokens} "
                         f"(names {names}).")
    return [by_label[str(label)] for label in found]


def serving_function(model, encoder, names):
    """`text` (raw strings) -> `label` (names), `label_id`, `probabilities`,
    in one graph: standardize, tokenize, look up, classify."""
    import tensorflow as tf

    names = tf.constant(list(names))

    def serve(text):
        probabilities = tf.nn.softmax(model(encoder.model_inputs(text), training=False), axis=-1)
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
    texts = [e.text for e in examples]
    outputs = serve_in_batches(load_signature(os.path.join(run_dir, "saved_model")), texts)
    predicted = np.concatenate([o["label_id"] for o in outputs])
    metrics = classification_report(label_ids(labels, names, [e.label for e in examples]), predicted,
                                    labels=range(len(labels)), label_names=names)
    metrics["unknown_token_rate"] = unknown_token_rate(TextEncoder.load(os.path.join(run_dir, TOKENS)), texts)
    return metrics


class TextClassifier(Task):
    """A text classifier that takes raw strings and answers with label names:
    a `TextEncoder` and the labels (the preprocessor) and a `many_to_one`
    model, saved together as a preset folder (a sentiment run folder is one).

    ```python
    classifier = TextClassifier.from_examples(texts, labels, units=64, bidirectional=True)
    classifier.fit(texts, labels, validation_data=(val_texts, val_labels), epochs=3)
    classifier.predict(["A gripping, funny film."])   # [("positive", 0.93)]
    classifier.evaluate(test_texts, test_labels)["accuracy"]
    classifier.save_to_preset("my_classifier")        # then TextClassifier.from_preset("my_classifier")
    classifier.export("my_classifier/saved_model")    # raw strings in, label names out
    ```
    """

    recipe = RECIPE
    serves = "text in, label out"

    def __init__(self, encoder, labels, model, names=None):
        self.encoder, self.labels, self.model = encoder, labels, model
        self.names = list(names or labels.tokens)
        if len(self.names) != len(labels):
            raise ValueError(f"{len(self.names)} names for {len(labels)} labels.")

    @classmethod
    def from_examples(cls, texts, labels, *, names=None, tokenizer="word", min_frequency=1, max_vocabulary=20000,
                      **model_options):
        """Learn the vocabulary and the label set from training examples and
        build the model (`rnnzoo.build_model("many_to_one", **model_options)`,
        compiled). `names`: a dict of label -> name to print (`{"1": "positive"}`)."""
        from rnnzoo.topologies import build_model

        encoder = TextEncoder.adapt(texts, tokenizer=tokenizer, min_frequency=min_frequency, max_size=max_vocabulary)
        labels = Vocabulary(sorted({str(label) for label in labels}), reserved=())
        model = build_model("many_to_one", vocab_size=encoder.vocab_size, num_classes=len(labels), **model_options)
        return cls(encoder, labels, model, [(names or {}).get(label, label) for label in labels.tokens])

    def token_ids(self, texts):
        """Raw strings -> id lists (a text with no token reads as one <unk>)."""
        return self.encoder.model_rows(texts)

    def label_ids(self, labels):
        """Labels (as the data writes them, or their names) -> ids."""
        return label_ids(self.labels, self.names, labels)

    def dataset(self, texts, labels=None, *, batch_size=32, shuffle=False, seed=0):
        """Batches of right-padded ids (and label ids), bucketed by length."""
        from rnnzoo.data.batching import batch_dataset, ragged_dataset

        columns = [self.token_ids(texts)] + ([self.label_ids(labels)] if labels is not None else [])
        return batch_dataset(ragged_dataset(*columns), batch_size,
                             shuffle_buffer=len(columns[0]) if shuffle else None, seed=seed)

    def predict_probabilities(self, texts, batch_size=64):
        """`(texts, classes)` probabilities, in the order of `self.names`."""
        from keras import ops

        from rnnzoo.data.batching import in_length_order

        def probabilities(batch):
            return np.asarray(ops.convert_to_numpy(ops.softmax(self.model.predict_on_batch(batch))))

        return np.stack(in_length_order(probabilities, self.token_ids(texts), batch_size))

    def predict(self, texts, batch_size=64):
        """`[(name, probability), ...]`: the most likely label of each text."""
        probabilities = self.predict_probabilities(texts, batch_size)
        return [(self.names[i], float(row[i])) for row, i in zip(probabilities, probabilities.argmax(-1))]

    def evaluate(self, texts, labels, batch_size=64):
        """The classification report (accuracy, P/R/F1 per class and
        averaged, confusion matrix) and the `<unk>` rate of `texts`."""
        predicted = self.predict_probabilities(texts, batch_size).argmax(-1)
        report = classification_report(self.label_ids(labels), predicted, labels=range(len(self.labels)),
                                       label_names=self.names)
        return {**report, "unknown_token_rate": unknown_token_rate(self.encoder, texts)}

    def serving(self):
        """Raw strings (`text`) -> `label` names, `label_id` and
        `probabilities`, needing TensorFlow and tensorflow-text only."""
        from rnnzoo.exporting.text_serving import TEXT_SPEC

        return (serving_function(self.model, self.encoder, self.names), (TEXT_SPEC,),
                [self.model, self.encoder.vocabulary.tf_table()])

    def export_check(self, signature, texts):
        texts = list(texts)[:MAX_SERVING_CHECK]
        served = np.concatenate([o["probabilities"] for o in serve_in_batches(signature, texts)])
        expected = self.predict_probabilities(texts)
        return {"examples": len(texts), "max_abs_diff": max_abs_difference(served, expected),
                "label_agreement": float(np.mean(served.argmax(-1) == expected.argmax(-1)))}

    def save_assets(self, folder):
        self.encoder.save(os.path.join(folder, TOKENS))
        save_labels(folder, self.labels, self.names)

    @classmethod
    def load_assets(cls, folder):
        labels, names = load_labels(folder)
        return {"encoder": TextEncoder.load(os.path.join(folder, TOKENS)), "labels": labels, "names": names}


def classifier_vocabularies(run, config, train, builtin="sentiment", encoder=None):
    """Tokens, labels and label names: read back when resuming, so ids match.
    A new run learns its tokens from the training texts, or takes `encoder`
    (a pretrained language model's)."""
    if encoder is not None and not os.path.isdir(run.file(TOKENS)):
        encoder.save(run.file(TOKENS))
    encoder = TextEncoder.resume_or_adapt(run.file(TOKENS), [e.text for e in train], tokenizer=config.tokenizer,
                                          min_frequency=config.min_frequency, max_size=config.vocab_size)
    if os.path.exists(run.file(LABEL_NAMES)):
        return (encoder, *load_labels(run.path))
    # A new run, or one made before label names were saved: name its labels now.
    labels = (Vocabulary.load(run.file(LABELS), reserved=()) if os.path.exists(run.file(LABELS))
              else Vocabulary(sorted({e.label for e in train}), reserved=()))
    names = label_names(builtin if config.data == "builtin" else config.data, labels.tokens)
    save_labels(run.path, labels, names)
    return encoder, labels, names


def encode_examples(encoder, labels, examples):
    """`(id lists, label ids)` of `LabeledText`s; an empty text reads as <unk>."""
    ids = encoder.model_rows(e.text for e in examples)
    return ids, labels.lookup([e.label for e in examples])


TFLITE_INPUTS = """`tokens`: int32 `(1, length)` token ids: tokenize the text as `tokens/tokenizer.json` says and
look each token up in `tokens/vocabulary.txt` (line number = id; 1 `<unk>` for unknown tokens).
The output `logits` `(1, classes)` is in the order of `labels.txt`."""


def export_tflite(run, config, model, data, **lengths):
    """TFLite files scored by validation accuracy, int8 calibrated on
    training texts (its file's length is fixed to the longest of them, or
    as `lengths` say: `sequence_length`, `word_length`)."""
    ids, labels = data["validation"]

    def accuracy(outputs):
        return float(np.mean(np.argmax(outputs, axis=-1) == np.asarray(labels[: len(outputs)])))

    def examples(rows):
        return [{"tokens": np.asarray(row, "int32")} for row in rows]

    lengths = lengths or {"longest": max(len(row) for row in data["train"][0])}
    return recipe.export_tflite(run, config, model, examples(ids), accuracy,
                                calibration_examples=examples(data["train"][0][:100]), **lengths)


EVALUATION = Evaluation(RECIPE, DATASETS, lambda config: "sentiment", load_path, evaluate_run, is_run=is_run)
