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
from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import TranslationConfig
from rnnzoo.data import until_end
from rnnzoo.data.batching import pad_rows
from rnnzoo.metrics import sacrebleu_score
from rnnzoo.tasks import recipe, translation
from rnnzoo.training.schedules import ScheduledSamplingSchedule


def main(argv=None):
    config = parse_config(TranslationConfig, argv, prog="python -m recipes.translation")

    # Data: sentence pairs, a vocabulary per language, token ids; overlong training pairs dropped.
    splits, run = recipe.start("translation", config, builtin="translation", load_path=translation.load_path,
                               names=translation.DATASETS, export="generator",
                               **translation.dataset_options(config.data, recipe.config_options(config)))
    source_encoder, target_encoder = encoders = translation.translation_vocabularies(run, config, splits["train"])
    data = {split: translation.encode_pairs(encoders, pairs) for split, pairs in splits.items()}
    train_sources, train_targets = translation.drop_long_pairs(*data["train"], config.max_train_length)
    print(f"vocabularies: source {source_encoder.vocab_size}, target {target_encoder.vocab_size} ({config.tokenizer})")

    # Model: an encoder, a decoder with attention, compiled for teacher forcing.
    with recipe.distribution(config).scope():
        model = rnnzoo.build_model(
            "encoder_decoder", source_vocab_size=source_encoder.vocab_size, target_vocab_size=target_encoder.vocab_size,
            attention=None if config.attention == "none" else config.attention,
            **config.model_options(scheduled_sampling=config.scheduled_sampling != "none"))
        recipe.compile_model(model, config)

    # Training: teacher forcing (optionally scheduled sampling), the best epoch by validation loss.
    callbacks = [] if config.scheduled_sampling == "none" else [
        ScheduledSamplingSchedule(config.scheduled_sampling, config.epochs, config.sampling_max)]
    datasets = {"train": translation.teacher_forcing_dataset(train_sources, train_targets),
                **{split: translation.teacher_forcing_dataset(*data[split]) for split in ("validation", "test")}}
    model, state = recipe.train(
        model, recipe.epoch_batches(datasets["train"], config, [len(t) + 1 for t in train_targets]),
        recipe.ordered_batches(datasets["validation"], config), run, config, monitor="val_loss", mode="min",
        callbacks=callbacks)

    # Evaluation, through the task: perplexity, then sacreBLEU of greedy and beam-search translations.
    translator = translation.Translator(*encoders, model, max_length=int(max(map(len, train_targets)) * 1.5) + 5,
                                        beam_size=config.beam_size, length_penalty=config.length_penalty)
    test_loss = model.evaluate(recipe.ordered_batches(datasets["test"], config), verbose=0, return_dict=True)["loss"]
    sources, references = [pair.source for pair in splits["test"]], [pair.target for pair in splits["test"]]
    metrics, outputs, speed = {"perplexity": float(np.exp(test_loss))}, {}, {}
    for name, beam_size in (("greedy", 1), ("beam", config.beam_size)):
        started = time.perf_counter()
        outputs[name] = translator.translate_ids(sources, beam_size)
        speed[f"{name}_sentences_per_second"] = len(sources) / (time.perf_counter() - started)
        metrics[f"bleu_{name}"] = sacrebleu_score(translation.to_text(target_encoder, outputs[name]), references)
    metrics["bleu"] = metrics["bleu_beam"]
    translations = translation.to_text(target_encoder, outputs["beam"])
    for source, reference, output in list(zip(sources, references, translations))[: config.examples]:
        print(f"  source:    {source}\n  reference: {reference}\n  output:    {output}\n")
    if config.attention != "none":
        translation.plot_example_attention(run, model, encoders, data["test"][0][0], until_end(outputs["beam"][0]))
    recipe.save_metrics(run, config, model, metrics, state, dataset=config.data, num_examples=len(sources))

    # Export: a string-to-string SavedModel (tokenization, beam search and detokenization in the graph).
    decoding = translator.get_config()
    serving = recipe.export_saved_model(run, config, translator, sources)
    tflite = recipe.export_generator_tflite(run, config, model, pad_rows(data["test"][0][:8]),
                                            max_length=translator.max_length)
    card = {"title": f"Translator: {os.path.basename(run.path)}",
            "description": f"{'Bidirectional ' if config.bidirectional else ''}{config.cell.upper()} encoder-decoder "
                           f"with {config.attention} attention over {config.tokenizer} tokens; beam search "
                           f"(beam {config.beam_size}, length penalty {config.length_penalty}).",
            "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving,
            "metric_name": "bleu", "text_example": splits["test"][0].source, "tflite_generator": tflite}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=len(sources),
                  extra={"serving_check": serving, "decoding": decoding, "speed": speed, "tflite": tflite}, card=card,
                  task=translator)
    return metrics


if __name__ == "__main__":
    recipe.command(main)
