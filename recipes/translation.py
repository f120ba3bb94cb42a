"""Translation: a stacked (bi)LSTM/GRU encoder, a decoder with Luong or
Bahdanau attention, teacher forcing, batched beam search.

```bash
python -m recipes.translation                      # built-in toy language pair, about a minute
python -m recipes.translation --data multi30k --data-root ../shared/data      # en -> de
python -m recipes.translation --data tatoeba_eng_fra --data-root ../shared/data
python -m recipes.translation --data pairs.tsv     # `source<TAB>target` lines
```
Reports sacreBLEU (13a, cased, on detokenized output) with greedy and beam
decoding, perplexity, a few examples and an attention heatmap; saves the
model, both vocabularies, `metrics.json`, and a SavedModel whose default
signature maps source strings (`text`) to translations (`translation`) with
tokenization, beam search and detokenization in the graph.
"""

import os
import sys
import time

import keras
import numpy as np

import rnnzoo
from rnnzoo.data import END_ID, START_ID, UNK_ID
from rnnzoo.data.batching import ragged_dataset
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.metrics import plot_attention, sacrebleu_score
from rnnzoo.tasks import recipe
from rnnzoo.tasks.translation import DECODE_BATCH, load_path, serving_function, to_text, translate_ids
from rnnzoo.training import parse_config, recipe_parser
from rnnzoo.training.schedules import SCHEDULES, ScheduledSamplingSchedule

NAMED_DATASETS = ("multi30k", "tatoeba_eng_fra")


def build_parser():
    parser = recipe_parser("python -m recipes.translation", "Train an attention encoder-decoder translator.",
                           units=256, embedding_dim=256, epochs=15, batch_size=64, dropout=0.3, patience=3)
    group = parser.add_argument_group("translation")
    group.add_argument("--tokenizer", choices=("word", "wordpiece"), default="wordpiece")
    group.add_argument("--vocab-size", type=int, default=8000, help="largest vocabulary per language")
    group.add_argument("--lowercase", action="store_true", help="lowercase both languages (default: keep case)")
    group.add_argument("--attention", choices=("luong", "bahdanau", "none"), default="luong")
    group.add_argument("--source-language", default="en", help="multi30k: source file suffix")
    group.add_argument("--target-language", default="de", help="multi30k: target file suffix")
    group.add_argument("--scheduled-sampling", choices=("none",) + SCHEDULES, default="none",
                       help="feed the decoder its own predictions with a probability that grows by this schedule")
    group.add_argument("--sampling-max", type=float, default=0.25,
                       help="the largest scheduled-sampling probability (reached at the last epoch)")
    group.add_argument("--max-train-length", type=int, default=64,
                       help="drop training pairs with more tokens than this on either side")
    group.add_argument("--beam-size", type=int, default=5)
    group.add_argument("--length-penalty", type=float, default=0.6, help="GNMT alpha (0: raw log-probability)")
    group.add_argument("--examples", type=int, default=5, help="test translations to print")
    return parser


def _vocabularies(run, config, train):
    """Source and target `TextEncoder`s, read back when resuming."""
    encoders = {}
    for side in ("source", "target"):
        folder = run.file(side)
        if os.path.isdir(folder):
            encoders[side] = TextEncoder.load(folder)
            continue
        texts = [getattr(pair, side) for pair in train]
        options = {"vocab_size": config.vocab_size} if config.tokenizer == "wordpiece" else {}
        encoders[side] = TextEncoder.adapt(texts, tokenizer=config.tokenizer, max_size=config.vocab_size,
                                           lowercase=config.lowercase, **options)
        encoders[side].save(folder)
    return encoders["source"], encoders["target"]


def _encode(encoders, pairs):
    source_encoder, target_encoder = encoders
    sources = [row or [UNK_ID] for row in source_encoder.encode_to_lists(p.source for p in pairs)]
    targets = target_encoder.encode_to_lists(p.target for p in pairs)
    return sources, targets


def _dataset(sources, targets):
    """Teacher forcing: decoder input = START + target, labels = target + END."""
    dataset = ragged_dataset(sources, [[START_ID] + t for t in targets], [t + [END_ID] for t in targets])
    return dataset.map(lambda s, d, y: ({"source_tokens": s, "decoder_tokens": d}, y))


def export_serving(run, model, encoders, texts, expected, **decoding):
    """Write the string-to-string SavedModel and check it against the Python decoder's translations."""
    from rnnzoo.exporting.text_serving import export_text_model, load_signature, serve_in_batches

    source_encoder, target_encoder = encoders
    folder = export_text_model(run.file("saved_model"),
                               serving_function(model, source_encoder, target_encoder, **decoding),
                               track=[model, source_encoder.vocabulary.tf_table()])
    count = min(len(texts), 256)
    outputs = serve_in_batches(load_signature(folder), texts[:count], batch_size=DECODE_BATCH)
    served = [t.decode("utf-8") for o in outputs for t in o["translation"]]
    check = {"examples": count, "agreement": float(np.mean([a == b for a, b in zip(served, expected)]))}
    print(f"SavedModel (text in, text out): {folder}; same translation as the Python decoder for "
          f"{check['agreement']:.1%} of {count} test sentences")
    return check


def plot_example_attention(run, model, encoders, source_ids, output_ids):
    """Attention heatmap of the first test sentence's translation."""
    source_encoder, target_encoder = encoders
    encoder, step = model.inference_models()
    encoded = encoder(np.array([source_ids], "int32"))
    decoder_tokens = keras.ops.convert_to_tensor([[START_ID] + list(output_ids)], "int32")
    outputs = step({"decoder_tokens": decoder_tokens, **encoded})
    weights = np.asarray(outputs["attention"])[0]
    return plot_attention(weights, source_encoder.vocabulary.to_tokens(source_ids),
                          target_encoder.vocabulary.to_tokens(list(output_ids) + [END_ID]),
                          run.file("attention.png"))


def main(argv=None):
    config = parse_config(build_parser(), argv)
    data_options = {}
    if config.data == "multi30k":
        data_options = {"source_language": config.source_language, "target_language": config.target_language}
    splits, run = recipe.start("translation", config, builtin="translation", load_path=load_path,
                               names=NAMED_DATASETS, **data_options)
    encoders = _vocabularies(run, config, splits["train"])
    source_encoder, target_encoder = encoders
    data = {split: _encode(encoders, pairs) for split, pairs in splits.items()}
    train_sources, train_targets = data["train"]
    keep = [i for i, (s, t) in enumerate(zip(train_sources, train_targets))
            if len(s) <= config.max_train_length and len(t) + 1 <= config.max_train_length]
    if len(keep) < len(train_sources):
        print(f"training pairs longer than {config.max_train_length} tokens dropped: {len(train_sources) - len(keep)}")
    train_sources = [train_sources[i] for i in keep]
    train_targets = [train_targets[i] for i in keep]
    print(f"vocabularies: source {source_encoder.vocab_size}, target {target_encoder.vocab_size} "
          f"({config.tokenizer})")

    with recipe.distribution(config).scope():
        model = rnnzoo.build_model(
            "encoder_decoder", source_vocab_size=source_encoder.vocab_size,
            target_vocab_size=target_encoder.vocab_size, cell=config.cell, units=config.units,
            num_layers=config.num_layers, bidirectional=config.bidirectional, dropout=config.dropout,
            embedding_dim=config.embedding_dim, attention=None if config.attention == "none" else config.attention,
            scheduled_sampling=config.scheduled_sampling != "none", compile=False,
        )
        recipe.compile_model(model, config)
    callbacks = []
    if config.scheduled_sampling != "none":
        callbacks.append(ScheduledSamplingSchedule(config.scheduled_sampling, config.epochs, config.sampling_max))
    model, state = recipe.train(
        model,
        recipe.epoch_batches(_dataset(train_sources, train_targets), config, [len(t) + 1 for t in train_targets]),
        recipe.ordered_batches(_dataset(*data["validation"]), config), run, config,
        monitor="val_loss", mode="min", callbacks=callbacks,
    )

    test_sources, test_targets = data["test"]
    test_loss = model.evaluate(recipe.ordered_batches(_dataset(test_sources, test_targets), config), verbose=0,
                               return_dict=True)["loss"]
    max_length = int(max(len(t) for t in train_targets) * 1.5) + 5
    references = [pair.target for pair in splits["test"]]
    metrics, outputs = {"perplexity": float(np.exp(test_loss))}, {}
    for name, beam_size in (("greedy", 1), ("beam", config.beam_size)):
        started = time.perf_counter()
        outputs[name] = translate_ids(model, test_sources, max_length=max_length, beam_size=beam_size,
                                      length_penalty=config.length_penalty)
        seconds = time.perf_counter() - started
        hypotheses = to_text(target_encoder, outputs[name])
        metrics[f"bleu_{name}"] = sacrebleu_score(hypotheses, references)
        metrics[f"{name}_sentences_per_second"] = len(test_sources) / seconds
        if name == "beam":
            translations = hypotheses
    metrics["bleu"] = metrics["bleu_beam"]
    for pair, translation in list(zip(splits["test"], translations))[: config.examples]:
        print(f"  source:    {pair.source}\n  reference: {pair.target}\n  output:    {translation}\n")
    if config.attention != "none":
        plot_example_attention(run, model, encoders, test_sources[0], _strip(outputs["beam"][0]))
    decoding = {"max_length": max_length, "beam_size": config.beam_size, "length_penalty": config.length_penalty}
    serving = export_serving(run, model, encoders, [p.source for p in splits["test"]], translations, **decoding)
    card = {"title": f"Translator: {os.path.basename(run.path)}",
            "description": f"{'Bidirectional ' if config.bidirectional else ''}{config.cell.upper()} encoder-decoder "
                           f"with {config.attention} attention over {config.tokenizer} tokens; beam search "
                           f"(beam {config.beam_size}, length penalty {config.length_penalty}).",
            "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving,
            "metric_name": "bleu", "text_example": splits["test"][0].source}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=len(test_sources),
                  extra={"serving_check": serving, "decoding": decoding}, card=card)
    return metrics


def _strip(ids):
    ids = [int(i) for i in ids]
    return ids[: ids.index(END_ID)] if END_ID in ids else [i for i in ids if i]


if __name__ == "__main__":
    main(sys.argv[1:])
