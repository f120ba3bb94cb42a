"""RNN training and inference speed, in one run, with one thread count:
rnnzoo's many-to-one model, the plain Keras equivalent, and PyTorch.

    python -m benchmarks.rnn_speed [--threads 2] [--rounds 3] [--long]

The standard case: many-to-one LSTM and GRU, batch 64, length 100, embedding
128, hidden 256, vocabulary 10k, random tokens, 2 classes. Tokens per second
(batch x length / seconds) of a full training step (forward, backward, Adam
update) and of inference. Each model is timed in `--rounds` interleaved
rounds (every model once per round, so drifting machine load hits all of
them alike) and the median round is reported, with its ratio to PyTorch.

`--long`: length 1024, every registered cell (the efficient cells against
the LSTM of the same hidden size), rnnzoo models only; ratios to the LSTM.

`--candidates`: the LSTM layer alone (no embedding or head), Keras' own
against two other CPU paths with the same weights, each checked to give the
same outputs: TensorFlow's fused `BlockLSTMV2` kernel, and the input
projection for all steps in one matrix multiply outside Keras' step loop.

PyTorch (`pip install torch`) is optional; without it its rows are skipped
with a message.
"""

import argparse
import os
import statistics
import time

import numpy as np

VOCAB, EMBEDDING, UNITS, CLASSES = 10_000, 128, 256, 2


def rnnzoo_model(cell, length):
    import rnnzoo

    return rnnzoo.build_model("many_to_one", cell=cell, vocab_size=VOCAB, embedding_dim=EMBEDDING, units=UNITS,
                              num_classes=CLASSES, bidirectional=False, dropout=0.0)


def keras_model(cell, length):
    """What a Keras user writes by hand for the same network."""
    import keras

    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(VOCAB, EMBEDDING),
                              layer(UNITS), keras.layers.Dense(CLASSES)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


class KerasTimer:
    def __init__(self, model):
        self.model = model

    def train(self, tokens, labels):
        self.model.train_on_batch(tokens, labels)

    def infer(self, tokens):
        self.model.predict_on_batch(tokens)


class TorchTimer:
    def __init__(self, cell, threads):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        recurrent = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = torch.nn.Embedding(VOCAB, EMBEDDING)
                self.rnn = recurrent(EMBEDDING, UNITS, batch_first=True)
                self.head = torch.nn.Linear(UNITS, CLASSES)

            def forward(self, tokens):
                outputs, _ = self.rnn(self.embedding(tokens))
                return self.head(outputs[:, -1])

        self.net = Net()
        self.optimizer = torch.optim.Adam(self.net.parameters())
        self.loss = torch.nn.CrossEntropyLoss()

    def train(self, tokens, labels):
        self.net.train()
        self.optimizer.zero_grad()
        loss = self.loss(self.net(self.torch.from_numpy(tokens).long()), self.torch.from_numpy(labels).long())
        loss.backward()
        self.optimizer.step()

    def infer(self, tokens):
        self.net.eval()
        with self.torch.inference_mode():
            self.net(self.torch.from_numpy(tokens).long())


def tokens_per_second(run, tokens_per_step, steps, seconds_floor):
    """Runs `run()` `steps` times (and for at least `seconds_floor` seconds); tokens/s."""
    count, started = 0, time.perf_counter()
    while count < steps or time.perf_counter() - started < seconds_floor:
        run()
        count += 1
    return tokens_per_step * count / (time.perf_counter() - started)


def measure(timers, length, rounds, steps, batch=64, seconds_floor=2.0, inputs=None):
    """`{name: (train tokens/s, inference tokens/s)}`, median over rounds.
    Random token ids, or `inputs=(features, dtype)` random vectors."""
    rng = np.random.default_rng(0)
    if inputs is None:
        tokens = rng.integers(1, VOCAB, size=(batch, length)).astype("int32")
    else:
        tokens = rng.normal(size=(batch, length, inputs[0])).astype(inputs[1])
    labels = rng.integers(0, CLASSES, size=(batch,)).astype("int32")
    for timer in timers.values():  # warm-up: tracing, first allocations
        timer.train(tokens, labels)
        timer.infer(tokens)
    results = {name: ([], []) for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            results[name][0].append(tokens_per_second(lambda: timer.train(tokens, labels), batch * length,
                                                      steps, seconds_floor))
            results[name][1].append(tokens_per_second(lambda: timer.infer(tokens), batch * length, steps,
                                                      seconds_floor))
    return {name: (statistics.median(train), statistics.median(infer)) for name, (train, infer) in results.items()}


def print_table(title, results, baseline):
    print(f"\n{title}")
    print(f"{'model':<28} {'train tok/s':>12} {'ratio':>7} {'infer tok/s':>12} {'ratio':>7}")
    base_train, base_infer = results[baseline]
    for name, (train, infer) in results.items():
        print(f"{name:<28} {train:>12,.0f} {train / base_train:>6.2f}x {infer:>12,.0f} {infer / base_infer:>6.2f}x")
    print(f"(ratios against {baseline})")


class LayerTimer:
    """Forward (inference) and forward + gradients (training) of one function
    of the input sequence, compiled with `tf.function`."""

    def __init__(self, function, variables):
        import tensorflow as tf

        self.forward = tf.function(function)

        @tf.function
        def gradients(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(function(x))
            return tape.gradient(loss, variables)

        self.gradients = gradients

    def train(self, inputs, labels):
        [g.numpy() for g in self.gradients(inputs)]

    def infer(self, inputs):
        self.forward(inputs).numpy()


def lstm_candidates(length, batch=64):
    """`{name: LayerTimer}` for Keras' LSTM and two other CPU paths, after
    checking that all three give the same final output."""
    import keras
    import tensorflow as tf
    from keras.src import backend as keras_backend

    layer = keras.layers.LSTM(UNITS)
    layer.build((None, None, EMBEDDING))
    kernel, recurrent_kernel, bias = layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias

    def fused(x):  # BlockLSTMV2 takes Keras' gate order (i, f, c, o) and [x, h] @ [kernel; recurrent_kernel]
        zeros = tf.zeros([tf.shape(x)[0], UNITS])
        no_peephole = tf.zeros([UNITS])
        outputs = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.cast(tf.shape(x)[1], tf.int64), x=tf.transpose(x, [1, 0, 2]), cs_prev=zeros,
            h_prev=zeros, w=tf.concat([kernel, recurrent_kernel], 0), wci=no_peephole, wcf=no_peephole,
            wco=no_peephole, b=bias, cell_clip=-1.0, use_peephole=False)
        return outputs[6][-1]

    def projected(x):
        inputs = tf.einsum("bte,eg->btg", x, kernel) + bias

        def step(inputs_t, states):
            h, c = states
            i, f, g, o = tf.split(inputs_t + tf.matmul(h, recurrent_kernel), 4, axis=-1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
            return h, [h, c]

        zeros = tf.zeros([tf.shape(x)[0], UNITS])
        last, _, _ = keras_backend.rnn(step, inputs, [zeros, zeros], return_all_outputs=False)
        return last

    timers = {"keras LSTM layer": LayerTimer(layer, layer.trainable_variables),
              "fused BlockLSTMV2": LayerTimer(fused, layer.trainable_variables),
              "projection outside the loop": LayerTimer(projected, layer.trainable_variables)}
    x = tf.random.normal((batch, length, EMBEDDING))
    expected = layer(x).numpy()
    for name, timer in timers.items():
        difference = np.abs(timer.forward(x).numpy() - expected).max()
        print(f"{name}: max |output - Keras LSTM| = {difference:.1e}")
    return timers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for TensorFlow and PyTorch")
    parser.add_argument("--inter-op-threads", type=int, default=None,
                        help="TensorFlow's inter-op threads (default: --threads)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model per round (at least 2 s)")
    parser.add_argument("--cells", nargs="*", default=None,
                        help="cells to time (default: lstm and gru; with --long, every registered cell)")
    parser.add_argument("--long", action="store_true", help="length 1024, every registered cell, rnnzoo only")
    parser.add_argument("--candidates", action="store_true", help="other CPU paths for the LSTM layer alone")
    parser.add_argument("--length", type=int, default=None, help="override the sequence length")
    args = parser.parse_args(argv)

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads or args.threads)
    import keras

    import rnnzoo

    print(f"keras {keras.__version__} ({keras.backend.backend()}), tensorflow {tf.__version__}, "
          f"threads {args.threads} (inter-op {args.inter_op_threads or args.threads}), "
          f"devices {[d.device_type for d in tf.config.list_logical_devices()]}")
    if args.long:
        length = args.length or 1024
        cells = ["lstm"] + [c for c in args.cells or rnnzoo.list_cells() if c != "lstm"]
        timers = {f"rnnzoo {cell}": KerasTimer(rnnzoo_model(cell, length)) for cell in cells}
        results = measure(timers, length, args.rounds, args.steps)
        print_table(f"many-to-one, batch 64, length {length}, hidden {UNITS}", results, "rnnzoo lstm")
        return results

    length = args.length or 100
    if args.candidates:
        results = measure(lstm_candidates(length), length, args.rounds, args.steps, inputs=(EMBEDDING, "float32"))
        print_table(f"LSTM layer alone, batch 64, length {length}, input {EMBEDDING}, hidden {UNITS}", results,
                    "keras LSTM layer")
        return results
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed (pip install torch): its rows are skipped.")
    all_results = {}
    for cell in args.cells or ["lstm", "gru"]:
        timers = {f"rnnzoo {cell}": KerasTimer(rnnzoo_model(cell, length)),
                  f"keras {cell}": KerasTimer(keras_model(cell, length))}
        if torch is not None:
            timers[f"torch {cell} {torch.__version__}"] = TorchTimer(cell, args.threads)
        results = measure(timers, length, args.rounds, args.steps)
        baseline = next(name for name in results if name.startswith("torch")) if torch else f"keras {cell}"
        print_table(f"many-to-one {cell}, batch 64, length {length}, embedding {EMBEDDING}, hidden {UNITS}, "
                    f"vocabulary {VOCAB}", results, baseline)
        all_results.update(results)
    return all_results


if __name__ == "__main__":
    main()
