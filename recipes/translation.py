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
import time

import numpy as np

import rnnzoo
from rnnzoo.data import until_end
from rnnzoo.data.batching import pad_rows
from rnnzoo.metrics import sacrebleu_score
from rnnzoo.tasks import recipe
from rnnzoo.tasks.translation import (
    dataset_options,
    drop_long_pairs,
    encode_pairs,
    export_serving,
    load_path,
    plot_example_attention,
    teacher_forcing_dataset,
    to_text,
    translate_ids,
    translation_vocabularies,
    Translator,
)
from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import TranslationConfig
from rnnzoo.training.schedules import ScheduledSamplingSchedule

NAMED_DATASETS = ("multi30k", "tatoeba_eng_fra")



def main(argv=None):
    config = parse_config(TranslationConfig, argv, prog="python -m recipes.translation")
    # Data: sentence pairs, a vocabulary per language, token ids; overlong training pairs dropped.
    splits, run = recipe.start("translation", config, builtin="translation", load_path=load_path,
                               names=NAMED_DATASETS, export="generator",
                               **dataset_options(config.data, recipe.config_options(config)))
    source_encoder, target_encoder = encoders = translation_vocabularies(run, config, splits["train"])
    data = {split: encode_pairs(encoders, pairs) for split, pairs in splits.items()}
    train_sources, train_targets = drop_long_pairs(*data["train"], config.max_train_length)
    print(f"vocabularies: source {source_encoder.vocab_size}, target {target_encoder.vocab_size} "
          f"({config.tokenizer})")

    # Model: an encoder, a decoder with attention, compiled for teacher forcing.
    with recipe.distribution(config).scope():
        model = rnnzoo.build_model(
            "encoder_decoder", source_vocab_size=source_encoder.vocab_size,
            target_vocab_size=target_encoder.vocab_size, cell=config.cell, units=config.units,
            cell_options=config.cell_options,
            num_layers=config.num_layers, bidirectional=config.bidirectional, dropout=config.dropout,
            embedding_dim=config.embedding_dim, attention=None if config.attention == "none" else config.attention,
            scheduled_sampling=config.scheduled_sampling != "none", compile=False,
        )
        recipe.compile_model(model, config)

    # Training: teacher forcing (optionally scheduled sampling), the best epoch by validation loss.
    callbacks = []
    if config.scheduled_sampling != "none":
        callbacks.append(ScheduledSamplingSchedule(config.scheduled_sampling, config.epochs, config.sampling_max))
    datasets = {"train": teacher_forcing_dataset(train_sources, train_targets),
                **{split: teacher_forcing_dataset(*data[split]) for split in ("validation", "test")}}
    model, state = recipe.train(
        model, recipe.epoch_batches(datasets["train"], config, [len(t) + 1 for t in train_targets]),
        recipe.ordered_batches(datasets["validation"], config), run, config,
        monitor="val_loss", mode="min", callbacks=callbacks,
    )

    # Evaluation: perplexity, then sacreBLEU of greedy and beam-search translations.
    test_sources = data["test"][0]
    test_loss = model.evaluate(recipe.ordered_batches(datasets["test"], config), verbose=0, return_dict=True)["loss"]
    max_length = int(max(len(t) for t in train_targets) * 1.5) + 5
    references = [pair.target for pair in splits["test"]]
    metrics, outputs, speed = {"perplexity": float(np.exp(test_loss))}, {}, {}
    for name, beam_size in (("greedy", 1), ("beam", config.beam_size)):
        started = time.perf_counter()
        outputs[name] = translate_ids(model, test_sources, max_length=max_length, beam_size=beam_size,
                                      length_penalty=config.length_penalty)
        seconds = time.perf_counter() - started
        hypotheses = to_text(target_encoder, outputs[name])
        metrics[f"bleu_{name}"] = sacrebleu_score(hypotheses, references)
        speed[f"{name}_sentences_per_second"] = len(test_sources) / seconds
        if name == "beam":
            translations = hypotheses
    metrics["bleu"] = metrics["bleu_beam"]
    for pair, translation in list(zip(splits["test"], translations))[: config.examples]:
        print(f"  source:    {pair.source}\n  reference: {pair.target}\n  output:    {translation}\n")
    if config.attention != "none":
        plot_example_attention(run, model, encoders, test_sources[0], until_end(outputs["beam"][0]))

    recipe.save_metrics(run, config, model, metrics, state, dataset=config.data, num_examples=len(test_sources))

    # Export: a string-to-string SavedModel (tokenization, beam search and detokenization in the graph).
    decoding = {"max_length": max_length, "beam_size": config.beam_size, "length_penalty": config.length_penalty}
    translator = Translator(*encoders, model, **decoding)
    serving = export_serving(run, translator, [p.source for p in splits["test"]])
    tflite = recipe.export_generator_tflite(run, config, model, pad_rows(test_sources[:8]), max_length=max_length)
    card = {"title": f"Translator: {os.path.basename(run.path)}",
            "description": f"{'Bidirectional ' if config.bidirectional else ''}{config.cell.upper()} encoder-decoder "
                           f"with {config.attention} attention over {config.tokenizer} tokens; beam search "
                           f"(beam {config.beam_size}, length penalty {config.length_penalty}).",
            "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving,
            "metric_name": "bleu", "text_example": splits["test"][0].source, "tflite_generator": tflite}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=len(test_sources),
                  extra={"serving_check": serving, "decoding": decoding, "speed": speed, "tflite": tflite}, card=card,
                  task=translator)
    return metrics


if __name__ == "__main__":
    recipe.command(main)
