"""Multi-query associative recall (MQAR; Arora et al. 2023, "Zoology:
Measuring and Improving Recall in Efficient Language Models"), generated,
for every cell at an equal parameter budget and an equal training time.

    python -m benchmarks.associative_recall [--lengths 256 1024] [--pairs 8] [--seconds 180]
        [--cells lstm mamba2 mamba2:block ...]

Each sequence opens with `--pairs` key-value pairs (`k1 v1 k2 v2 ...`, keys
and values drawn without replacement from their own vocabularies), then
asks for every key once, at random later positions among filler tokens;
at a query the model must output the key's value. A unidirectional
two-layer tagger (`many_to_many`) per cell (`NAME:block`: two of the
paper's blocks), its `units` chosen so the
model has about `--params` weights; trained on fresh batches for
`--seconds` of wall time (Adam 3e-3); scored on 512 new sequences as the
share of queries answered right. Chance is 1 / `--values`.

Expected from the literature: cells with a matrix memory (mLSTM, Gated
DeltaNet, Mamba-2) recall where the LSTM's fixed-size vector state fails.
"""

import argparse
import time

import numpy as np

FILLER, FIRST_KEY = 1, 2  # token ids; 0 is padding


def make_batch(rng, size, length, pairs, keys, values):
    """`(tokens, labels)`: labels are value index + 1 at the queries, 0
    (ignored) elsewhere."""
    first_value = FIRST_KEY + keys
    tokens = np.full((size, length), FILLER, "int32")
    labels = np.zeros((size, length), "int32")
    for row in range(size):
        key = rng.choice(keys, pairs, replace=False)
        value = rng.choice(values, pairs, replace=False)
        tokens[row, 0:2 * pairs:2], tokens[row, 1:2 * pairs:2] = FIRST_KEY + key, first_value + value
        where = 2 * pairs + np.sort(rng.choice(length - 2 * pairs, pairs, replace=False))
        order = rng.permutation(pairs)
        tokens[row, where] = FIRST_KEY + key[order]
        labels[row, where] = value[order] + 1
    return tokens, labels


def build(cell, units, vocab_size, values, embedding_dim):
    """`cell` is a registered name, or `NAME:block` for the paper's block
    around a modern cell (`block=True`)."""
    import rnnzoo

    name, _, block = cell.partition(":")
    return rnnzoo.build_model("many_to_many", cell=name, units=units, num_layers=2, vocab_size=vocab_size,
                              embedding_dim=embedding_dim, num_classes=values + 1, bidirectional=False,
                              dropout=0.0, cell_options={"block": True} if block == "block" else None)


def units_for_budget(cell, params, vocab_size, values, embedding_dim):
    """The multiple of 8 whose model is closest to `params` weights."""
    best = None
    for units in range(8, 513, 8):
        count = build(cell, units, vocab_size, values, embedding_dim).count_params()
        if best is None or abs(count - params) < abs(best[1] - params):
            best = (units, count)
        if count > params:
            break
    return best


def run_cell(cell, args, length, seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    vocab_size = FIRST_KEY + args.keys + args.values
    units, count = units_for_budget(cell, args.params, vocab_size, args.values, args.embedding_dim)
    model = build(cell, units, vocab_size, args.values, args.embedding_dim)
    model.compile(optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0))
    rng = np.random.default_rng(seed)
    start, steps = time.time(), 0
    while time.time() - start < args.seconds:
        tokens, labels = make_batch(rng, args.batch_size, length, args.pairs, args.keys, args.values)
        loss = model.train_on_batch(tokens, labels)
        steps += 1
    seconds = time.time() - start
    test_rng = np.random.default_rng(10_000 + seed)
    tokens, labels = make_batch(test_rng, 512, length, args.pairs, args.keys, args.values)
    predicted = np.asarray(model.predict(tokens, batch_size=64, verbose=0)).argmax(-1)
    queries = labels > 0
    accuracy = float((predicted[queries] == labels[queries]).mean())
    loss = float(np.asarray(loss if np.ndim(loss) == 0 else loss[0]))
    return {"units": units, "params": count, "steps": steps, "seconds": seconds, "loss": loss,
            "accuracy": accuracy}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru", "min_gru", "lru", "rg_lru", "slstm", "mlstm",
                                                       "mamba2", "gated_deltanet"])
    parser.add_argument("--lengths", nargs="+", type=int, default=[256, 1024])
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--keys", type=int, default=64)
    parser.add_argument("--values", type=int, default=64)
    parser.add_argument("--params", type=int, default=60_000, help="the parameter budget of every model")
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=180, help="training wall time per cell and length")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    print(f"MQAR: {args.pairs} pairs, {args.keys} keys, {args.values} values (chance {1 / args.values:.3f}), "
          f"~{args.params} parameters, {args.seconds:.0f} s of training per cell")
    print(f"{'length':>6} {'cell':<15} {'units':>5} {'params':>7} {'steps':>6} {'loss':>7} {'accuracy':>8}")
    results = {}
    for length in args.lengths:
        for cell in args.cells:
            result = results[(length, cell)] = run_cell(cell, args, length)
            print(f"{length:>6} {cell:<15} {result['units']:>5} {result['params']:>7} {result['steps']:>6} "
                  f"{result['loss']:>7.3f} {result['accuracy']:>8.3f}", flush=True)
    return results


if __name__ == "__main__":
    main()
