"""Sequence tagging: word embeddings + a character-level encoder (Lample et
al. 2016) + a BiLSTM + a softmax or CRF output layer.

```bash
python -m recipes.tagging                               # built-in POS data, about a minute
python -m recipes.tagging --task ner                    # built-in BIO entities, CRF output
python -m recipes.tagging --data ud_english_ewt --data-root ../shared/data     # UPOS
python -m recipes.tagging --task ner --data wnut17 --data-root ../shared/data  # entity F1
python -m recipes.tagging --data my.conllu              # or a BIO file: `word ... tag` per line
python -m recipes.tagging --data ud_english_ewt --data-root ../shared/data --string-embeddings FWD,BWD
```
`--string-embeddings` adds contextual string embeddings (Akbik et al. 2018): two character-level
`recipes.language_model` runs (one `--backward`) read each sentence, frozen.
POS is scored by token accuracy, NER by entity span F1. The SavedModel's
default signature takes `text` (space-separated tokens, one sentence per
string) and returns `tags` (strings, "" past each sentence), `tag_ids`,
`probabilities` (CRF marginals or softmax) and `lengths`.
"""

import dataclasses
import functools
import os

import rnnzoo
from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import TaggingConfig
from rnnzoo.metrics import plot_per_class_f1
from rnnzoo.tasks import recipe, tagging

NAMED_DATASETS = {"pos": ("ud_english_ewt",), "ner": ("wnut17",)}


def main(argv=None):
    config = parse_config(TaggingConfig, argv, prog="python -m recipes.tagging")
    config = dataclasses.replace(config, output_layer=config.head)  # "auto" resolved

    # Data: tagged sentences, word and character vocabularies, the tag set.
    splits, run = recipe.start("tagging", config, builtin=config.task, names=NAMED_DATASETS[config.task],
                               load_path=functools.partial(tagging.load_path, tag=config.tag),
                               **({"tag": config.tag} if config.data == "ud_english_ewt" else {}))
    language_models = tagging.string_embedding_models(config.string_embeddings)  # character LMs, if any
    encoder, tags = tagging.tagging_vocabularies(run, config, splits, language_models)
    datasets = {split: tagging.tagged_dataset(encoder, tags, sentences) for split, sentences in splits.items()}
    ner = config.task == "ner"

    # Model: word embeddings + a character encoder (+ string embeddings), a BiLSTM, a softmax or CRF head.
    with recipe.distribution(config).scope():
        model = rnnzoo.build_model(
            "many_to_many", vocab_size=len(encoder.words), num_classes=len(tags), tag_names=tags.tokens,
            char_vocab_size=len(encoder.characters) if encoder.characters else None,
            char_embedding_dim=config.char_dim or 25, char_units=config.char_units, output_layer=config.output_layer,
            crf_constraints="bio" if ner and config.output_layer == "crf" else None, **config.model_options(),
            string_embeddings=tagging.string_embedding_options(language_models, config.fine_tune_string_embeddings))
        if language_models:
            print(tagging.load_string_embeddings(model, language_models))
        recipe.compile_model(model, config)

    # Training: scored each epoch on validation by decoding (span F1 for NER, accuracy for POS).
    validation = recipe.ordered_batches(datasets["validation"][0], config)
    monitor = "val_f1" if ner else "val_accuracy"

    def validate(model):
        scores = tagging.score_ids(config.task, tags, splits["validation"], tagging.predict(model, validation)[0])
        return {f"val_{k}": v for k, v in (scores[0] if ner else scores).items()}

    model, state = recipe.train(
        model, recipe.epoch_batches(datasets["train"][0], config, [len(w) for w in datasets["train"][1]]),
        validation, run, config, monitor=monitor, mode="max", validate=validate,
    )

    # Evaluation on the test sentences.
    predicted, _ = tagging.predict(model, recipe.ordered_batches(datasets["test"][0], config))
    metrics, per_class = tagging.test_metrics(config.task, tags, splits["test"], predicted)
    plot_per_class_f1(per_class, run.file("per_type_f1.png" if ner else "per_tag_f1.png"))

    recipe.save_metrics(run, config, model, metrics, state, dataset=config.data, num_examples=len(splits["test"]))

    # Export: a SavedModel taking sentences and TFLite files, each checked; the report and model card.
    tagger = tagging.SequenceTagger(encoder, tags, model, config.task)
    serving = recipe.export_saved_model(run, config, tagger, [s.words for s in splits["test"]])
    tflite = tagging.export_tflite(run, config, model, encoder, tags, splits)
    metric_name = "f1" if ner else "accuracy"
    card = {"title": f"{config.task.upper()} tagger: {os.path.basename(run.path)}",
            "description": f"{'Bidirectional ' if config.bidirectional else ''}{config.cell.upper()} tagger "
                           f"({'with' if encoder.characters else 'without'} a character encoder"
                           f"{', with contextual string embeddings' if language_models else ''}) with a "
                           f"{config.output_layer} output layer over {len(tags) - 1} tags.",
            "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving, "tflite": tflite,
            "metric_name": metric_name, "text_example": " ".join(splits["test"][0].words),
            "tflite_inputs": tagging.TFLITE_INPUTS + (tagging.TFLITE_CRF if config.output_layer == "crf" else "")}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=len(splits["test"]),
                  curve_metric=None, card=card,
                  extra={"serving_check": serving, "output_layer": config.output_layer, "tflite": tflite},
                  task=tagger)
    return metrics


if __name__ == "__main__":
    recipe.command(main)
