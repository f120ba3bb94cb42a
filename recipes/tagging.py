"""Sequence tagging: word embeddings + a character-level encoder (Lample et
al. 2016) + a BiLSTM + a softmax or CRF output layer.

```bash
python -m recipes.tagging                               # built-in POS data, about a minute
python -m recipes.tagging --task ner                    # built-in BIO entities, CRF output
python -m recipes.tagging --data ud_english_ewt --data-root ../shared/data     # UPOS
python -m recipes.tagging --task ner --data wnut17 --data-root ../shared/data  # entity F1
python -m recipes.tagging --data my.conllu              # or a BIO file: `word ... tag` per line
```
POS is scored by token accuracy, NER by entity span F1. The SavedModel's
default signature takes `text` (space-separated tokens, one sentence per
string) and returns `tags` (strings, "" past each sentence), `tag_ids`,
`probabilities` (CRF marginals or softmax) and `lengths`.
"""

import argparse
import dataclasses
import os
import sys

import numpy as np

import rnnzoo
from rnnzoo.data import PAD_ID
from rnnzoo.data.batching import ragged_dataset
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.metrics import classification_report, plot_per_class_f1
from rnnzoo.tasks import recipe
from rnnzoo.tasks.tagging import TAG_PADDING, TAGS, WordEncoder, load_path, score, served_text, serving_function
from rnnzoo.training import parse_config, recipe_parser

NAMED_DATASETS = {"pos": ("ud_english_ewt",), "ner": ("wnut17",)}
MAX_SERVING_CHECK = 512


def build_parser():
    parser = recipe_parser("python -m recipes.tagging", "Train a POS or NER tagger.",
                           units=128, embedding_dim=100, epochs=10, batch_size=32, dropout=0.5)
    group = parser.add_argument_group("tagging")
    group.add_argument("--task", choices=("pos", "ner"), default="pos")
    group.add_argument("--output-layer", choices=("auto", "softmax", "crf"), default="auto",
                       help="auto: CRF for NER (with BIO constraints), softmax for POS")
    group.add_argument("--tag", choices=("upos", "xpos"), default="upos", help="CoNLL-U column to predict")
    group.add_argument("--char-dim", type=int, default=25, help="character embedding size (0: no characters)")
    group.add_argument("--char-units", type=int, default=25)
    group.add_argument("--max-word-length", type=int, default=20, help="characters read per word")
    group.add_argument("--vocab-size", type=int, default=30000)
    group.add_argument("--min-frequency", type=int, default=2,
                       help="rarer training words become <unk> (their characters still count)")
    group.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=True,
                       help="lowercase word lookups")
    return parser


def _vocabularies(run, config, splits):
    if os.path.exists(run.file(WordEncoder.FILE)):
        return WordEncoder.load(run.path), Vocabulary.load(run.file(TAGS), reserved=TAG_PADDING)
    encoder = WordEncoder.adapt(splits["train"], lowercase=config.lowercase, min_frequency=config.min_frequency,
                                max_size=config.vocab_size, max_word_length=config.max_word_length,
                                characters=bool(config.char_dim))
    # The tag set is the annotation scheme's: read it from every split.
    tags = Vocabulary(list(TAG_PADDING) + sorted({t for s in splits.values() for e in s for t in e.tags}),
                      reserved=TAG_PADDING)
    encoder.save(run.path)
    tags.save(run.file(TAGS))
    return encoder, tags


def _dataset(encoder, tags, sentences):
    word_ids, chars = encoder.encode(sentences)
    tag_ids = [tags.lookup(s.tags) for s in sentences]
    if chars is None:
        return ragged_dataset(word_ids, tag_ids), word_ids
    return ragged_dataset(word_ids, chars, tag_ids).map(lambda w, c, t: ({"tokens": w, "characters": c}, t)), \
        word_ids


def _tokens(inputs):
    return inputs["tokens"] if isinstance(inputs, dict) else inputs


def predict(model, batches):
    """Per sentence: tag ids (a list) and tag probabilities `(words, tags)`."""
    tag_ids, probabilities = [], []
    for inputs, _ in batches:
        mask = _tokens(inputs).numpy() != PAD_ID
        # Under a tf.distribute strategy, Keras 3.15's `predict_on_batch`
        # runs the whole batch on every replica and returns them all
        # stacked; the first `batch` rows are the answer either way.
        logits = model.predict_on_batch(inputs)[: len(mask)]
        decoded = np.asarray(model.decode(logits, mask))
        batch_probabilities = np.asarray(model.tag_probabilities(logits, mask))
        for row, row_probabilities, length in zip(decoded, batch_probabilities, mask.sum(axis=1)):
            tag_ids.append(row[:length].tolist())
            probabilities.append(row_probabilities[:length])
    return tag_ids, probabilities


def _score(task, tags, sentences, predicted_ids):
    return score(task, [s.tags for s in sentences], [tags.to_tokens(ids) for ids in predicted_ids])


def export_serving(run, model, encoder, tags, sentences, predicted_ids, probabilities):
    from rnnzoo.exporting.text_serving import export_text_model, load_signature, serve_in_batches

    folder = export_text_model(run.file("saved_model"), serving_function(model, encoder, tags),
                               track=[model, *encoder.tables()])
    # Sentences whose words hold no spaces reach the SavedModel as the Keras model saw them.
    chosen = [i for i, s in enumerate(sentences) if not any(" " in w or not w.strip() for w in s.words)]
    chosen = chosen[:MAX_SERVING_CHECK]
    outputs = serve_in_batches(load_signature(folder), [served_text(sentences[i].words) for i in chosen])
    served = [(row[:n].tolist(), p[:n]) for o in outputs
              for row, p, n in zip(o["tag_ids"], o["probabilities"], o["lengths"])]
    # Tags can differ only at near-ties (float rounding differs with batch shapes).
    agreement = float(np.mean([ids == predicted_ids[i] for (ids, _), i in zip(served, chosen)])) if chosen else None
    difference = max((float(np.max(np.abs(p - probabilities[i]))) for (_, p), i in zip(served, chosen)
                      if len(p)), default=0.0)
    print(f"SavedModel (text in): {folder}; max |p - p_keras| {difference:.2e}, same tags as Keras for "
          f"{agreement:.1%} of {len(chosen)} test sentences")
    return {"examples": len(chosen), "sentence_agreement": agreement, "max_abs_diff": difference}


TFLITE_INPUTS = """`tokens`: int32 `(1, words)` word ids from `words.txt` (line number = id, 1 `<unk>`; lowercased
first when `word_encoder.json` says so), right-padded with 0 to the fixed length shown above (longer
sentences are cut there). With a character encoder, `characters`: int32 `(1, words, chars)` ids
from `characters.txt` of each word's first characters, right-padded with 0. The output `(1, words,
tags)` holds per-word tag scores in the order of `tags.txt`."""
TFLITE_CRF = """ They are the CRF's emissions: decode them with
Viterbi and the CRF's transition weights (`model.keras`, layer `crf`), or use the SavedModel, which
decodes in its graph."""


def export_tflite(run, config, model, encoder, tags, splits):
    """TFLite files scored on validation sentences with the task's metric.
    A character encoder and int8 need fixed lengths: the longest training
    sentence, and `--max-word-length` characters."""
    def model_inputs(sentences):
        word_ids, chars = encoder.encode(sentences)
        examples = []
        for index, ids in enumerate(word_ids):
            example = {"tokens": np.asarray(ids, "int32")}
            if chars is not None:
                example["characters"] = np.zeros((len(ids), config.max_word_length), "int32")
                for position, word in enumerate(chars[index]):
                    example["characters"][position, : len(word)] = word
            examples.append(example)
        return examples

    sentences = splits["validation"]
    examples = model_inputs(sentences)

    def metric(outputs):
        lengths = np.array([len(e["tokens"]) for e in examples[: len(outputs)]])
        width = max(o.shape[0] for o in outputs)
        logits = np.zeros((len(outputs), width, outputs[0].shape[-1]), "float32")
        for row, output in enumerate(outputs):
            logits[row, : output.shape[0]] = output
        mask = np.arange(width)[None, :] < np.minimum(lengths, [o.shape[0] for o in outputs])[:, None]
        decoded = np.asarray(model.decode(logits, mask))
        # Words past a fixed length were cut, so nothing was predicted for them: for POS they get the
        # padding tag (always wrong), for NER "O" (no entity; the padding tag is no BIO tag at all).
        filler = tags.index.get("O", PAD_ID) if config.task == "ner" else PAD_ID
        predicted = [row[:length].tolist() + [filler] * max(0, length - width) for row, length in zip(decoded, lengths)]
        scores = _score(config.task, tags, sentences[: len(outputs)], predicted)
        return scores[0]["f1"] if config.task == "ner" else scores["accuracy"]

    characters = encoder.characters is not None
    fixed = characters or "int8" in config.export_quantize
    longest = max(len(s.words) for s in splits["train"])
    return recipe.export_tflite(run, config, model, examples, metric, sequence_length=longest if fixed else None,
                                calibration_examples=model_inputs(splits["train"][:100]),
                                word_length=config.max_word_length if characters else None)


def main(argv=None):
    config = parse_config(build_parser(), argv)
    if config.output_layer == "auto":
        config = dataclasses.replace(config, output_layer="crf" if config.task == "ner" else "softmax")
    splits, run = recipe.start("tagging", config, builtin=config.task, load_path=lambda p: load_path(p, config.tag),
                               names=NAMED_DATASETS[config.task],
                               **({"tag": config.tag} if config.data == "ud_english_ewt" else {}))
    encoder, tags = _vocabularies(run, config, splits)
    datasets = {split: _dataset(encoder, tags, sentences) for split, sentences in splits.items()}
    ner = config.task == "ner"
    with recipe.distribution(config).scope():
        model = rnnzoo.build_model(
            "many_to_many", vocab_size=len(encoder.words), num_classes=len(tags), cell=config.cell,
            units=config.units, num_layers=config.num_layers, bidirectional=config.bidirectional,
            dropout=config.dropout, embedding_dim=config.embedding_dim,
            char_vocab_size=len(encoder.characters) if encoder.characters else None,
            char_embedding_dim=config.char_dim or 25, char_units=config.char_units,
            output_layer=config.output_layer, tag_names=tags.tokens,
            crf_constraints="bio" if ner and config.output_layer == "crf" else None, compile=False,
        )
        recipe.compile_model(model, config)
    validation = recipe.ordered_batches(datasets["validation"][0], config)
    monitor = "val_f1" if ner else "val_accuracy"

    def validate(model):
        scores = _score(config.task, tags, splits["validation"], predict(model, validation)[0])
        return {f"val_{k}": v for k, v in (scores[0] if ner else scores).items()}

    model, state = recipe.train(
        model, recipe.epoch_batches(datasets["train"][0], config, [len(w) for w in datasets["train"][1]]),
        validation, run, config, monitor=monitor, mode="max", validate=validate,
    )

    predicted, probabilities = predict(model, recipe.ordered_batches(datasets["test"][0], config))
    if ner:
        metrics, spans = _score("ner", tags, splits["test"], predicted)
        metrics["per_type"] = spans["per_type"]
        plot_per_class_f1(spans["per_type"], run.file("per_type_f1.png"))
    else:
        metrics = _score("pos", tags, splits["test"], predicted)
        flat_true = [t for s in splits["test"] for t in tags.lookup(s.tags)]
        report = classification_report(flat_true, [t for row in predicted for t in row],
                                       labels=range(1, len(tags)), label_names=tags.tokens[1:])
        metrics["per_tag"] = report["per_class"]
        plot_per_class_f1(report["per_class"], run.file("per_tag_f1.png"))
    serving = export_serving(run, model, encoder, tags, splits["test"], predicted, probabilities)
    tflite = export_tflite(run, config, model, encoder, tags, splits)
    metric_name = "f1" if ner else "accuracy"
    card = {"title": f"{config.task.upper()} tagger: {os.path.basename(run.path)}",
            "description": f"{'Bidirectional ' if config.bidirectional else ''}{config.cell.upper()} tagger "
                           f"({'with' if encoder.characters else 'without'} a character encoder) with a "
                           f"{config.output_layer} output layer over {len(tags) - 1} tags.",
            "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving, "tflite": tflite,
            "metric_name": metric_name, "text_example": " ".join(splits["test"][0].words),
            "tflite_inputs": TFLITE_INPUTS + (TFLITE_CRF if config.output_layer == "crf" else "")}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=len(splits["test"]),
                  curve_metric=None, card=card,
                  extra={"serving_check": serving, "output_layer": config.output_layer, "tflite": tflite})
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
