"""Document classification: each sentence's words, then the sentences, read
by a hierarchical attention network (Yang et al. 2016), or all the words as
one sequence by a flat model.

```bash
python -m recipes.document_classification              # built-in reviews, about a minute
python -m recipes.document_classification --data movie_reviews --data-root ../shared/data   # 10-fold CV
python -m recipes.document_classification --data movie_reviews --fold 3 --model flat --pooling max
python -m recipes.document_classification --data reviews/   # a folder per class, a document per .txt file
```
Reports accuracy, P/R/F1 and the confusion matrix (over the ten folds of
movie_reviews: their mean and standard deviation); saves the model, a
SavedModel mapping a raw document to its label and each sentence's
attention, TFLite files, and `attention.png` / `attention.html`: test
documents shaded by sentence and word attention.
"""

import dataclasses
import os

from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import DocumentConfig
from rnnzoo.data.batching import ragged_dataset
from rnnzoo.metrics import document_attention_html, plot_confusion_matrix, plot_document_attention
from rnnzoo.tasks import document_classification as documents
from rnnzoo.tasks import recipe
from rnnzoo.tasks import text_classification as classification


def main(argv=None):
    config = parse_config(DocumentConfig, argv, prog="python -m recipes.document_classification")
    if config.data != "movie_reviews" or config.fold is not None:
        return train(config)
    # The literature's protocol: train and test on each of the ten folds, report the mean and deviation.
    folds = [recipe.finished(train, dataclasses.replace(config, fold=k, run=config.run and f"{config.run}-fold{k}"))
             for k in range(10)]
    return documents.write_cross_validation(config, folds)


def train(config):
    # Data: the documents (a fold of movie_reviews), a vocabulary of the training texts, label names.
    if config.init_from and config.model == "hierarchical":
        raise ValueError("--init-from starts a classifier from a language model's words in order: use --model flat.")
    pretrained, config = recipe.pretrained_language_model(config)  # --init-from: its vocabulary and layers (ULMFiT)
    splits, run = recipe.start(documents.RECIPE, config, builtin="documents", load_path=documents.load_path,
                               names=documents.DATASETS, splits=documents.cross_validation_splits(config),
                               unit="documents")
    encoder, labels, names = classification.classifier_vocabularies(run, config, splits["train"], builtin="documents",
                                                                    encoder=pretrained and pretrained.encoder)
    rows = documents.DocumentEncoder(encoder, config.max_sentences, config.max_words)
    token_ids = rows.model_rows if config.model == "hierarchical" else rows.flat_rows  # sentences, or all the words
    data = {split: (token_ids([e.text for e in examples]),
                    classification.label_ids(labels, names, [e.label for e in examples]))
            for split, examples in splits.items()}
    train_batches = recipe.epoch_batches(ragged_dataset(*data["train"]), config, [len(ids) for ids in data["train"][0]])

    # Model: sentences of words (or all the words) -> a (bi)GRU per level with attention -> a classifier.
    topology = "hierarchical" if config.model == "hierarchical" else "many_to_one"
    options = dict(segment_pooling=config.sentence_pooling) if topology == "hierarchical" else {}
    model, callbacks = recipe.classifier_model(topology, encoder.vocab_size, len(labels), config, pretrained,
                                               train_batches, pooling=config.pooling, **options)
    classifier = documents.DocumentClassifier(encoder, labels, model, names, config.max_sentences, config.max_words)

    # Training: the best epoch by validation accuracy, resumable, early stopping.
    classifier.model, state = recipe.train(
        model, train_batches, recipe.ordered_batches(ragged_dataset(*data["validation"]), config), run, config,
        monitor="val_accuracy", mode="max", callbacks=callbacks)

    # Evaluation on the raw test documents; the attention of a few of them, as pictures.
    test_texts = [e.text for e in splits["test"]]
    metrics = classifier.evaluate(test_texts, [e.label for e in splits["test"]])
    plot_confusion_matrix(metrics["confusion_matrix"], names, run.file("confusion_matrix.png"))
    headline = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"], **metrics}
    recipe.save_metrics(run, config, classifier.model, headline, state, dataset=config.data,
                        num_examples=len(test_texts))
    if classifier.sentence_attention and config.explain:
        explained = classifier.explain(test_texts[: config.explain])
        plot_document_attention(explained[0], run.file("attention.png"))
        document_attention_html(explained, run.file("attention.html"), f"Attention: {os.path.basename(run.path)}")

    # Export: a SavedModel taking raw documents, TFLite files taking sentence-by-word ids; checks, card.
    serving = recipe.export_saved_model(run, config, classifier, test_texts)
    tflite = documents.export_tflite(run, config, classifier, data)
    card = {"title": f"Document classifier: {os.path.basename(run.path)}",
            "description": f"{config.model.capitalize()} {config.cell.upper()} document classifier over "
                           f"{config.tokenizer} tokens ({config.max_sentences} sentences of {config.max_words} "
                           f"words at most), labels {names}"
                           + (f"; started from the language model {config.init_from} (ULMFiT)." if pretrained else "."),
            "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving, "tflite": tflite,
            "metric_name": "accuracy", "text_example": test_texts[0][:300], "tflite_inputs": documents.TFLITE_INPUTS}
    recipe.finish(run, config, classifier.model, headline, state, dataset=config.data, num_examples=len(test_texts),
                  curve_metric="accuracy", extra={"serving_check": serving, "tflite": tflite, "fold": config.fold},
                  card=card, unit="documents", task=classifier)
    return headline


if __name__ == "__main__":
    recipe.command(main)
