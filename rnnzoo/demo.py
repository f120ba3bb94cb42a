"""Trains one model of each topology on generated toy tasks and reports a
metric for each: `python -m rnnzoo demo` (or `rnnzoo demo`).

The tasks are sequences of digits (token id = NUM_RESERVED + digit), made
by seeded code, chosen so each topology has to do its job:

- many_to_one: is the mean digit above 4.5? (the whole sequence matters)
- many_to_many: is each digit larger than the one before it? (left context)
- bidirectional: is each digit larger than the one after it? (right context)
- encoder_decoder: write the digits in reverse order (Luong attention)
- one_to_many: from a histogram of digits, write them out in sorted order
- segment_rnn, direct_forecaster, seq2seq_forecaster: continue a noisy
  two-tone wave for 12 steps after seeing 24 (scored by MSE, next to
  repeating the last value)
"""

import argparse
import os
import time

import numpy as np

from rnnzoo.data import NUM_RESERVED, teacher_forcing, until_end
from rnnzoo.data.batching import pad_rows
from rnnzoo.topologies import build_model

DIGIT_VOCAB_SIZE = NUM_RESERVED + 10


def _digit_sequences(rng, count, min_length, max_length):
    lengths = rng.integers(min_length, max_length + 1, size=count)
    return [rng.integers(0, 10, size=n) for n in lengths]


def _decoder_pair(targets):
    """Teacher forcing, padded: decoder input = START + target, labels = target + END."""
    return tuple(pad_rows(rows) for rows in teacher_forcing(targets))


def make_task(topology, count, rng):
    """Returns (inputs, labels, references) for one toy task; `references`
    are the target token rows for generation tasks, else None."""
    digits = _digit_sequences(rng, count, 4, 12)
    tokens = pad_rows([d + NUM_RESERVED for d in digits])
    if topology == "many_to_one":
        return tokens, np.array([int(d.mean() > 4.5) for d in digits]), None
    if topology == "many_to_many":  # tag 2 = larger than previous, 1 = not
        tags = [1 + (np.diff(d, prepend=10) > 0) for d in digits]
        return tokens, pad_rows(tags), None
    if topology == "bidirectional":  # tag 2 = larger than next, 1 = not
        tags = [1 + (np.diff(d, append=10) < 0) for d in digits]
        return tokens, pad_rows(tags), None
    if topology == "encoder_decoder":
        targets = [d[::-1] + NUM_RESERVED for d in digits]
        decoder_in, labels = _decoder_pair(targets)
        return {"source_tokens": tokens, "decoder_tokens": decoder_in}, labels, targets
    if topology == "one_to_many":
        short = _digit_sequences(rng, count, 2, 5)
        histograms = np.stack([np.bincount(d, minlength=10) for d in short]).astype("float32")
        targets = [np.sort(d) + NUM_RESERVED for d in short]
        decoder_in, labels = _decoder_pair(targets)
        return {"features": histograms, "decoder_tokens": decoder_in}, labels, targets
    if topology in FORECASTERS:
        steps = np.arange(36)
        frequency, phase = rng.uniform(1 / 24, 1 / 8, (count, 1)), rng.uniform(0, 2 * np.pi, (count, 2))
        wave = np.sin(2 * np.pi * frequency * steps + phase[:, :1]) + 0.5 * np.sin(6 * np.pi * frequency * steps +
                                                                                 phase[:, 1:])
        wave = (wave + rng.normal(scale=0.05, size=wave.shape)).astype("float32")[..., None]
        return wave[:, :24], wave[:, 24:], None
    raise ValueError(f"No demo task for topology {topology!r}.")


DEMO_MODELS = {
    "many_to_one": dict(vocab_size=DIGIT_VOCAB_SIZE, num_classes=2, embedding_dim=32),
    "many_to_many": dict(vocab_size=DIGIT_VOCAB_SIZE, num_classes=3, embedding_dim=32),
    "bidirectional": dict(vocab_size=DIGIT_VOCAB_SIZE, num_classes=3, head="tagger", embedding_dim=32),
    "encoder_decoder": dict(
        source_vocab_size=DIGIT_VOCAB_SIZE, target_vocab_size=DIGIT_VOCAB_SIZE,
        attention="luong", embedding_dim=32,
    ),
    "one_to_many": dict(input_dim=10, vocab_size=DIGIT_VOCAB_SIZE, embedding_dim=32),
    "segment_rnn": dict(lookback=24, horizon=12, channels=1, segment_length=4, dropout=0.0),
    "direct_forecaster": dict(lookback=24, horizon=12, channels=1, dropout=0.0),
    "seq2seq_forecaster": dict(lookback=24, horizon=12, channels=1, dropout=0.0),
}
FORECASTERS = ("segment_rnn", "direct_forecaster", "seq2seq_forecaster")


def evaluate_generation(model, inputs, references, max_length):
    """Exact-match rate of greedy decoding against the reference rows."""
    source = {k: v for k, v in inputs.items() if k != "decoder_tokens"}
    generated = model.generate(source, max_length=max_length)
    matches = 0
    for row, reference in zip(generated, references):
        matches += until_end(row) == [int(value) for value in reference]
    return matches / len(references)


def run(cell="lstm", units=64, epochs=10, train_size=3000, test_size=500, seed=0,
        output_dir=None, verbose=0):
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    results = {}
    for topology, kwargs in DEMO_MODELS.items():
        start = time.time()
        print(f"{topology:<18} training on {train_size} examples ...", end="\r", flush=True)
        x_train, y_train, _ = make_task(topology, train_size, rng)
        x_test, y_test, references = make_task(topology, test_size, rng)
        model = build_model(topology, cell=cell, units=units, **kwargs)
        model.compile(optimizer=keras.optimizers.Adam(5e-3, clipnorm=1.0))
        model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=verbose)
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
        if topology in FORECASTERS:  # a forecast: its MSE, and that of repeating the last value
            result = {"mse": loss, "naive_mse": float(np.mean((x_test[:, -1:] - y_test) ** 2))}
        else:
            result = {"token_accuracy" if references else "accuracy": accuracy}
        if references is not None:
            result["exact_match"] = evaluate_generation(model, x_test, references, 14)
        result["seconds"] = time.time() - start
        results[topology] = result
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in result.items() if k != "seconds")
        print(f"{topology:<18} {model.count_params():>7} params  {metrics}  ({result['seconds']:.0f} s)",
              flush=True)
        if output_dir:
            os.makedirs(output_dir, exist_ok=True)
            model.save(os.path.join(output_dir, f"{topology}.keras"))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="rnnzoo demo", description=__doc__.split("\n")[0])
    parser.add_argument("--cell", default="lstm", help="a registered cell (default: lstm)")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-size", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default=os.path.join("saved_models", "demo"),
                        help="where the .keras models go ('' to skip saving)")
    parser.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity")
    args = parser.parse_args(argv)
    print(f"rnnzoo demo: one {args.cell} model per topology on generated digit tasks (and a wave to forecast)")
    run(cell=args.cell, units=args.units, epochs=args.epochs, train_size=args.train_size,
        seed=args.seed, output_dir=args.output_dir or None, verbose=args.verbose)
    if args.output_dir:
        print(f"models saved under {args.output_dir}/")
