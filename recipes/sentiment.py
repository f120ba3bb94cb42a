"""Sentiment classification: embeddings + a (bi)LSTM/GRU stack + a classifier.

```bash
python -m recipes.sentiment                        # built-in data, about a minute
python -m recipes.sentiment --data sst2 --data-root ../shared/data
python -m recipes.sentiment --data reviews.tsv     # `text<TAB>label` lines
python -m recipes.sentiment --data sst2 --data-root ../shared/data --init-from saved_models/language_model/RUN \
    --pooling concat                                # ULMFiT: start from a pretrained word-level language model
```
Reports accuracy, precision / recall / F1 and the confusion matrix; saves the
model, its vocabularies, `metrics.json`, plots, and a SavedModel whose
default signature maps raw strings (`text`) to `label`, `label_id` and
`probabilities`.
"""

import dataclasses
import os

from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import SentimentConfig
from rnnzoo.data import formats
from rnnzoo.data.batching import ragged_dataset
from rnnzoo.metrics import classification_report, plot_confusion_matrix
from rnnzoo.tasks import recipe
from rnnzoo.tasks import text_classification as classification


def main(argv=None):
    config = parse_config(SentimentConfig, argv, prog="python -m recipes.sentiment")
    pretrained, config = recipe.pretrained_language_model(config)  # --init-from: its vocabulary and layers (ULMFiT)

    # Data: the splits, a vocabulary of the training texts, label names, token ids.
    splits, run = recipe.start("sentiment", config, builtin="sentiment", load_path=classification.load_path,
                               names=classification.DATASETS)
    encoder, labels, names = classification.classifier_vocabularies(run, config, splits["train"],
                                                                    encoder=pretrained and pretrained.encoder)
    vectors = None
    if config.embeddings:
        vectors, found = formats.load_word_vectors(config.embeddings, encoder.vocabulary, seed=config.seed)
        config = dataclasses.replace(config, embedding_dim=vectors.shape[1])
        print(f"pretrained vectors: {found} of {encoder.vocab_size} vocabulary words found in {config.embeddings}")

    data = {split: classification.encode_examples(encoder, labels, examples) for split, examples in splits.items()}
    train_batches = recipe.epoch_batches(ragged_dataset(*data["train"]), config, [len(ids) for ids in data["train"][0]])

    # Model: embeddings, a recurrent stack and a classifier, compiled with Adam (ULMFiT's with --init-from:
    # a rate per layer, slanted triangular over the steps, the layers unfrozen one per epoch from the top).
    model, callbacks = recipe.classifier_model("many_to_one", encoder.vocab_size, len(labels), config, pretrained,
                                               train_batches, vectors, pooling=config.pooling)

    # Training: the best epoch by validation accuracy, resumable, early stopping.
    model, state = recipe.train(model, train_batches,
                                recipe.ordered_batches(ragged_dataset(*data["validation"]), config), run, config,
                                monitor="val_accuracy", mode="max", callbacks=callbacks)

    # Evaluation on the test texts, as raw strings, through the task model.
    classifier = classification.TextClassifier(encoder, labels, model, names)
    test_texts, test_labels = [e.text for e in splits["test"]], data["test"][1]
    probabilities = classifier.predict_probabilities(test_texts, batch_size=config.batch_size)
    metrics = classification_report(test_labels, probabilities.argmax(-1), labels=range(len(labels)),
                                    label_names=names)
    plot_confusion_matrix(metrics["confusion_matrix"], names, run.file("confusion_matrix.png"))

    headline = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"], **metrics}
    recipe.save_metrics(run, config, model, headline, state, dataset=config.data, num_examples=len(test_labels))

    # Export: a SavedModel taking raw strings and TFLite files, each checked; the report and model card.
    serving = recipe.export_saved_model(run, config, classifier, test_texts)
    tflite = classification.export_tflite(run, config, model, data)
    card = {"title": f"Sentiment classifier: {os.path.basename(run.path)}",
            "description": f"{'Bidirectional ' if config.bidirectional else ''}{config.cell.upper()} many-to-one "
                           f"classifier over {config.tokenizer} tokens, labels {names}"
                           + (f"; started from the language model {config.init_from} (ULMFiT)." if pretrained else "."),
            "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving, "tflite": tflite,
            "metric_name": "accuracy", "text_example": splits["test"][0].text,
            "tflite_inputs": classification.TFLITE_INPUTS}
    recipe.finish(run, config, model, headline, state, dataset=config.data, num_examples=len(test_labels),
                  curve_metric="accuracy", extra={"serving_check": serving, "tflite": tflite}, card=card,
                  task=classifier)
    return headline


if __name__ == "__main__":
    recipe.command(main)
