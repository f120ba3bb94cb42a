"""Sentiment classification: embeddings + a (bi)LSTM/GRU stack + a classifier.

```bash
python -m recipes.sentiment                        # built-in data, about a minute
python -m recipes.sentiment --data sst2 --data-root ../shared/data
python -m recipes.sentiment --data reviews.tsv     # `text<TAB>label` lines
```
Reports accuracy, precision / recall / F1 and the confusion matrix; saves the
model, its vocabularies, `metrics.json`, plots, and a SavedModel whose
default signature maps raw strings (`text`) to `label`, `label_id` and
`probabilities`.
"""

import dataclasses
import os
import sys

import numpy as np

import rnnzoo
from rnnzoo.data import UNK_ID, formats
from rnnzoo.data.batching import ragged_dataset
from rnnzoo.data.datasets import label_names
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.metrics import classification_report, plot_confusion_matrix
from rnnzoo.tasks import recipe
from rnnzoo.tasks.text_classification import DATASETS, TextClassifier, load_labels, load_path, save_labels
from rnnzoo.topologies.blocks import POOLING
from rnnzoo.training import parse_config, recipe_parser

MAX_SERVING_CHECK = 512


def build_parser():
    parser = recipe_parser("python -m recipes.sentiment", "Train a sentiment classifier.",
                           units=128, embedding_dim=128, epochs=8, batch_size=32)
    group = parser.add_argument_group("sentiment")
    group.add_argument("--tokenizer", choices=("word", "wordpiece"), default="word")
    group.add_argument("--vocab-size", type=int, default=20000, help="largest vocabulary (reserved ids included)")
    group.add_argument("--min-frequency", type=int, default=1, help="rarer tokens become <unk>")
    group.add_argument("--embeddings", default=None,
                       help="pretrained word vectors in GloVe / word2vec text format (sets --embedding-dim)")
    group.add_argument("--pooling", choices=POOLING, default="last",
                       help="what the classifier reads: the final states, or the max / mean of the outputs")
    return parser


def _vocabularies(run, config, train):
    """Tokens, labels and label names: read back when resuming, so ids match."""
    tokens_dir = run.file("tokens")
    if os.path.isdir(tokens_dir):
        return (TextEncoder.load(tokens_dir), *load_labels(run.path))
    encoder = TextEncoder.adapt([e.text for e in train], tokenizer=config.tokenizer,
                                min_frequency=config.min_frequency, max_size=config.vocab_size)
    labels = Vocabulary(sorted({e.label for e in train}), reserved=())
    names = label_names("sentiment" if config.data == "builtin" else config.data, labels.tokens)
    encoder.save(tokens_dir)
    save_labels(run.path, labels, names)
    return encoder, labels, names


def _encode(encoder, labels, examples):
    ids = [row or [UNK_ID] for row in encoder.encode_to_lists(e.text for e in examples)]
    return ids, labels.lookup([e.label for e in examples])


def export_serving(run, classifier, test_texts, test_probabilities):
    """Write the text-in SavedModel and check it against the Keras model."""
    from rnnzoo.exporting.text_serving import load_signature, serve_in_batches

    folder = classifier.export(run.file("saved_model"))
    count = min(len(test_texts), MAX_SERVING_CHECK)
    outputs = serve_in_batches(load_signature(folder), test_texts[:count])
    served = np.concatenate([o["probabilities"] for o in outputs])
    expected = test_probabilities[:count]
    check = {"examples": count, "max_abs_diff": float(np.max(np.abs(served - expected))),
             "label_agreement": float(np.mean(served.argmax(-1) == expected.argmax(-1)))}
    print(f"SavedModel (text in): {folder}; max |p - p_keras| {check['max_abs_diff']:.2e} "
          f"on {count} test texts")
    return check


TFLITE_INPUTS = """`tokens`: int32 `(1, length)` token ids: tokenize the text as `tokens/tokenizer.json` says and
look each token up in `tokens/vocabulary.txt` (line number = id; 1 `<unk>` for unknown tokens).
The output `logits` `(1, classes)` is in the order of `labels.txt`."""


def export_tflite(run, config, model, data):
    """TFLite files scored by validation accuracy, int8 calibrated on
    training texts (the input length is fixed to the longest training text
    only for int8, which needs it)."""
    ids, labels = data["validation"]

    def accuracy(outputs):
        return float(np.mean(np.argmax(outputs, axis=-1) == np.asarray(labels[: len(outputs)])))

    def examples(rows):
        return [{"tokens": np.asarray(row, "int32")} for row in rows]

    longest = max(len(row) for row in data["train"][0])
    return recipe.export_tflite(run, config, model, examples(ids), accuracy,
                                calibration_examples=examples(data["train"][0][:100]),
                                sequence_length=longest if "int8" in config.export_quantize else None)


def main(argv=None):
    config = parse_config(build_parser(), argv)
    splits, run = recipe.start("sentiment", config, builtin="sentiment", load_path=load_path,
                               names=DATASETS)
    encoder, labels, names = _vocabularies(run, config, splits["train"])
    vectors = None
    if config.embeddings:
        vectors, found = formats.load_word_vectors(config.embeddings, encoder.vocabulary, seed=config.seed)
        config = dataclasses.replace(config, embedding_dim=vectors.shape[1])
        print(f"pretrained vectors: {found} of {encoder.vocab_size} vocabulary words found in {config.embeddings}")

    data = {split: _encode(encoder, labels, examples) for split, examples in splits.items()}
    train_set = ragged_dataset(*data["train"])
    with recipe.distribution(config).scope():
        model = rnnzoo.build_model(
            "many_to_one", vocab_size=encoder.vocab_size, num_classes=len(labels), cell=config.cell,
            units=config.units, num_layers=config.num_layers, bidirectional=config.bidirectional,
            dropout=config.dropout, embedding_dim=config.embedding_dim, pooling=config.pooling, compile=False,
        )
        if vectors is not None:
            model.get_layer("embedding").embeddings.assign(vectors)
        recipe.compile_model(model, config)
    model, state = recipe.train(
        model, recipe.epoch_batches(train_set, config, [len(ids) for ids in data["train"][0]]),
        recipe.ordered_batches(ragged_dataset(*data["validation"]), config), run, config,
        monitor="val_accuracy", mode="max",
    )

    classifier = TextClassifier(encoder, labels, model, names)
    test_texts, test_labels = [e.text for e in splits["test"]], data["test"][1]
    probabilities = classifier.predict_probabilities(test_texts, batch_size=config.batch_size)
    metrics = classification_report(test_labels, probabilities.argmax(-1), labels=range(len(labels)),
                                    label_names=names)
    plot_confusion_matrix(metrics["confusion_matrix"], names, run.file("confusion_matrix.png"))
    serving = export_serving(run, classifier, test_texts, probabilities)
    tflite = export_tflite(run, config, model, data)
    headline = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"], **metrics}
    card = {"title": f"Sentiment classifier: {os.path.basename(run.path)}",
            "description": f"{'Bidirectional ' if config.bidirectional else ''}{config.cell.upper()} many-to-one "
                           f"classifier over {config.tokenizer} tokens, labels {names}.",
            "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving, "tflite": tflite,
            "metric_name": "accuracy", "text_example": splits["test"][0].text,
            "tflite_inputs": TFLITE_INPUTS}
    recipe.finish(run, config, model, headline, state, dataset=config.data, num_examples=len(test_labels),
                  curve_metric="accuracy", extra={"serving_check": serving, "tflite": tflite}, card=card)
    return headline


if __name__ == "__main__":
    main(sys.argv[1:])
