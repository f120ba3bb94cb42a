"""Spoken digit strings: log-mel spectrograms (`tf.signal`) -> a small
convolutional front end -> a bidirectional LSTM/GRU stack -> CTC loss;
greedy and beam CTC decoding (`keras.ops.ctc_decode`), scored by WER.

```bash
python -m recipes.speech                           # built-in synthetic digits (no download)
python -m recipes.speech --data fsdd --data-root ../shared/data   # Free Spoken Digit Dataset
python -m recipes.speech --data path/to/recordings  # `{digit}_{speaker}_{index}.wav` files
```
Each example is a string of 2 to 5 single-digit recordings joined with
short random silences ("four one seven"). The run's SavedModel takes one
clip's samples at 8 kHz (`waveform`) and returns its `transcript`; `rnnzoo
predict RUN clip.wav` reads WAV files at any rate, stereo too. FSDD's official split holds
recordings with index 0-4 out for test; test strings are made only from
those, so no test recording is heard in training; validation strings come
from a seeded 10% of the training recordings.
"""

import os

import numpy as np

import rnnzoo
from rnnzoo.data.builtin.images import DIGIT_WORDS
from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import SpeechConfig
from rnnzoo.metrics import wer
from rnnzoo.tasks import recipe, speech

STRING_COUNTS = {"validation": 300, "test": 500}  # and --strings for training


def main(argv=None):
    config = parse_config(SpeechConfig, argv, prog="python -m recipes.speech")
    if not 1 <= config.min_digits <= config.max_digits:
        raise ValueError(f"need 1 <= --min-digits <= --max-digits, got {config.min_digits}, {config.max_digits}")

    # Data: recordings joined into digit strings per split, log-mel features, label ids.
    clips = speech.load_clips(config)
    counts = {**STRING_COUNTS, "train": min(config.strings, config.max_examples or config.strings)}
    if config.smoke:
        counts = {split: 64 for split in counts}
    strings, rng = {}, np.random.default_rng(config.seed)
    for split in ("train", "validation", "test"):
        strings[split] = speech.digit_strings(clips[split], counts[split], rng, config.min_digits, config.max_digits)
    _, run = recipe.start("speech", config, builtin=None, load_path=None,
                          splits={split: [s[1] for s in rows] for split, rows in strings.items()}, unit="digit strings")
    print("clips: " + ", ".join(f"{k} {len(v)}" for k, v in clips.items()))
    data = {split: (speech.features(rows, config.mel_bins), [labels for _, labels in rows])
            for split, rows in strings.items()}

    # Model: a convolutional front end and a recurrent stack, trained with the CTC loss.
    with recipe.distribution(config).scope():
        model = rnnzoo.build_model("many_to_many", input_dim=config.mel_bins, num_classes=len(DIGIT_WORDS) + 1,
                                   output_layer="ctc", conv_filters=list(config.conv_filters) or None,
                                   **config.model_options())
        recipe.compile_model(model, config)

    # Training: the best epoch by validation loss.
    lengths = [len(f) for f in data["train"][0]]
    model, state = recipe.train(model, recipe.epoch_batches(speech.ctc_dataset(*data["train"]), config, lengths),
                                recipe.ordered_batches(speech.ctc_dataset(*data["validation"]), config), run, config,
                                monitor="val_loss", mode="min")

    # Evaluation: WER and whole-string accuracy of best-path and beam-search transcripts.
    references = [speech.words(labels) for labels in data["test"][1]]
    metrics, transcripts = {}, {}
    for name, beam in (("greedy", None), ("beam", config.beam_width)):
        transcripts[name] = speech.transcribe(model, data["test"][0], beam_width=beam)
        metrics[f"wer_{name}"] = wer(references, transcripts[name])
        metrics[f"string_accuracy_{name}"] = float(np.mean([h == r for h, r in zip(transcripts[name], references)]))
    metrics["wer"] = metrics["wer_beam"]
    for reference, hypothesis in list(zip(references, transcripts["beam"]))[:5]:
        print(f"  reference: {reference}\n  output:    {hypothesis}\n")

    recipe.save_metrics(run, config, model, metrics, state, dataset=config.data, num_examples=len(references))

    # Export: a SavedModel taking a waveform (features and best-path decoding in the graph), checked.
    recognizer = speech.SpeechRecognizer(speech.digit_vocabulary(), model, config.mel_bins)
    serving = recipe.export_saved_model(run, config, recognizer, [w for w, _ in strings["test"]])
    features, labels = data["validation"]
    tflite = speech.export_tflite(run, config, model, features, [speech.words(ids) for ids in labels])
    card = {"title": f"Spoken digit strings: {os.path.basename(run.path)}", "metric_name": "wer",
            "description": f"Log-mel features, a convolutional front end and a {config.cell.upper()} stack "
                           "trained with CTC; the SavedModel decodes by best path.",
            "split_sizes": {k: len(v) for k, v in strings.items()}, "serving_check": serving, "tflite": tflite,
            "text_example": None, "input_kind": "waveform", "tflite_inputs": speech.TFLITE_INPUTS}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=len(references),
                  extra={"clips": {k: len(v) for k, v in clips.items()}, "serving_check": serving, "tflite": tflite},
                  card=card, unit="digit strings", task=recognizer)
    return metrics


if __name__ == "__main__":
    recipe.command(main)
