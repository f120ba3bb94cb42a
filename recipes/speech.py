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
import sys

import numpy as np

import rnnzoo
from rnnzoo.data import formats
from rnnzoo.data.audio_features import log_mel_spectrogram
from rnnzoo.data.batching import in_length_order
from rnnzoo.data.builtin.images import DIGIT_WORDS
from rnnzoo.data.datasets import fsdd_split
from rnnzoo.data.sources import load_splits
from rnnzoo.exporting.text_serving import export_text_model, load_signature
from rnnzoo.metrics import wer
from rnnzoo.tasks import recipe
from rnnzoo.tasks.speech import SAMPLE_RATE, read_waveform, serving_function, words
from rnnzoo.training import parse_config, recipe_parser

STRING_COUNTS = {"train": 6000, "validation": 300, "test": 500}


def build_parser():
    parser = recipe_parser("python -m recipes.speech", "Train a CTC recognizer of spoken digit strings.",
                           units=128, num_layers=2, epochs=30, batch_size=32, dropout=0.2,
                           learning_rate=2e-3, patience=5)
    group = parser.add_argument_group("speech")
    group.add_argument("--mel-bins", type=int, default=40)
    group.add_argument("--conv-filters", type=int, nargs="*", default=(64, 64))
    group.add_argument("--min-digits", type=int, default=2)
    group.add_argument("--max-digits", type=int, default=5)
    group.add_argument("--strings", type=int, default=STRING_COUNTS["train"], help="training strings")
    group.add_argument("--beam-width", type=int, default=10)
    return parser


def load_clips(config):
    """`{"train", "validation", "test"}` -> `AudioClip`s (arrays for built-in data, wav paths for FSDD)."""
    return load_splits(config.data, builtin="spoken_digits", load_path=formats.list_audio_clips, names=("fsdd",),
                       root=config.data_root, download=config.download, seed=config.seed, split_path=fsdd_split)


def _samples(clip):
    return read_waveform(clip.path) if isinstance(clip.path, str) else np.asarray(clip.path, "float32")


def digit_strings(clips, count, rng, min_digits, max_digits):
    """`count` (waveform, label ids) pairs: 2-5 random clips joined by
    50-250 ms silences (with the clips' own noise floor), labels 1-10 for
    the digits 0-9 (0 is the CTC blank)."""
    audio = [_samples(c) for c in clips]
    labels = [int(c.label) for c in clips]
    strings = []
    for _ in range(count):
        chosen = rng.integers(len(clips), size=rng.integers(min_digits, max_digits + 1))
        pieces = []
        for index in chosen:
            pieces.append(0.003 * rng.standard_normal(int(rng.uniform(0.05, 0.25) * SAMPLE_RATE)))
            pieces.append(audio[index])
        pieces.append(0.003 * rng.standard_normal(int(0.05 * SAMPLE_RATE)))
        strings.append((np.concatenate(pieces).astype("float32"), [labels[i] + 1 for i in chosen]))
    return strings


def features(strings, mel_bins):
    return [log_mel_spectrogram(samples, SAMPLE_RATE, mel_bins).numpy() for samples, _ in strings]


def _dataset(feature_rows, label_rows):
    """`(frames, mel_bins)` features and label ids per example, unpadded."""
    import tensorflow as tf

    frames = tf.RaggedTensor.from_row_lengths(np.concatenate(feature_rows), [len(f) for f in feature_rows])
    labels = tf.ragged.constant(label_rows, dtype=tf.int32)
    def dense(*element):
        return tuple(e.to_tensor() if isinstance(e, tf.RaggedTensor) else e for e in element)

    return tf.data.Dataset.from_tensor_slices((frames, labels)).map(dense)


def transcribe(model, feature_rows, beam_width=None, batch_size=64):
    """Digit words per example, decoded in batches of similar length."""
    return in_length_order(lambda batch: [words(labels) for labels in model.ctc_decode(batch, beam_width=beam_width)],
                           feature_rows, batch_size)


def export_serving(run, model, config, waveforms, expected):
    """The waveform-in SavedModel, checked against the Python decoder's transcripts."""
    import tensorflow as tf

    spec = tf.TensorSpec([None], tf.float32, name="waveform")
    folder = export_text_model(run.file("saved_model"), serving_function(model, config.mel_bins), track=[model],
                               input_signature=(spec,))
    serve = load_signature(folder)
    served = [serve(waveform=tf.constant(w))["transcript"].numpy().decode() for w in waveforms]
    check = {"examples": len(waveforms), "agreement": float(np.mean([a == b for a, b in zip(served, expected)]))}
    print(f"SavedModel (waveform in, transcript out): {folder}; same transcript as the Python decoder for "
          f"{check['agreement']:.1%} of {len(waveforms)} test strings")
    return check


def main(argv=None):
    config = parse_config(build_parser(), argv)
    if not 1 <= config.min_digits <= config.max_digits:
        raise SystemExit(f"need 1 <= --min-digits <= --max-digits, got {config.min_digits}, {config.max_digits}")
    clips = load_clips(config)
    counts = {**STRING_COUNTS, "train": min(config.strings, config.max_examples or config.strings)}
    if config.smoke:
        counts = {split: 64 for split in counts}
    strings, rng = {}, np.random.default_rng(config.seed)
    for split in ("train", "validation", "test"):
        strings[split] = digit_strings(clips[split], counts[split], rng, config.min_digits, config.max_digits)
    _, run = recipe.start("speech", config, builtin=None, load_path=None,
                          splits={split: [s[1] for s in rows] for split, rows in strings.items()})
    print("clips: " + ", ".join(f"{k} {len(v)}" for k, v in clips.items()))
    data = {split: (features(rows, config.mel_bins), [labels for _, labels in rows]) for split, rows in strings.items()}

    with recipe.distribution(config).scope():
        model = rnnzoo.build_model(
            "many_to_many", input_dim=config.mel_bins, num_classes=len(DIGIT_WORDS) + 1, output_layer="ctc",
            conv_filters=list(config.conv_filters) or None, cell=config.cell, units=config.units,
            num_layers=config.num_layers, bidirectional=config.bidirectional, dropout=config.dropout, compile=False,
        )
        recipe.compile_model(model, config)
    lengths = [len(f) for f in data["train"][0]]
    model, state = recipe.train(model, recipe.epoch_batches(_dataset(*data["train"]), config, lengths),
                                recipe.ordered_batches(_dataset(*data["validation"]), config), run, config,
                                monitor="val_loss", mode="min")

    references = [words(labels) for labels in data["test"][1]]
    metrics = {}
    for name, beam in (("greedy", None), ("beam", config.beam_width)):
        hypotheses = transcribe(model, data["test"][0], beam_width=beam)
        metrics[f"wer_{name}"] = wer(references, hypotheses)
        metrics[f"string_accuracy_{name}"] = float(np.mean([h == r for h, r in zip(hypotheses, references)]))
        if name == "beam":
            for reference, hypothesis in list(zip(references, hypotheses))[:5]:
                print(f"  reference: {reference}\n  output:    {hypothesis}\n")
        if name == "greedy":
            serving = export_serving(run, model, config, [w for w, _ in strings["test"][:64]], hypotheses[:64])
    metrics["wer"] = metrics["wer_beam"]
    card = {"title": f"Spoken digit strings: {os.path.basename(run.path)}", "metric_name": "wer",
            "description": f"Log-mel features, a convolutional front end and a {config.cell.upper()} stack "
                           "trained with CTC; the SavedModel decodes by best path.",
            "split_sizes": {k: len(v) for k, v in strings.items()}, "serving_check": serving,
            "text_example": None, "input_kind": "waveform"}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=len(references),
                  extra={"clips": {k: len(v) for k, v in clips.items()}, "serving_check": serving}, card=card)
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
