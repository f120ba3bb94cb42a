"""RNN training and inference speed, in one run, with one thread count:
rnnzoo's many-to-one model, the plain Keras equivalent, and PyTorch.

    python -m benchmarks.rnn_speed [--threads 2] [--rounds 3] [--backend torch jax] [--long]

The standard case: many-to-one LSTM and GRU, batch 64, length 100, embedding
128, hidden 256, vocabulary 10k, 2 classes, on padded batches: random tokens,
each sequence right-padded with id 0 to the batch length from a random length
between half the batch length and all of it. Every model reads the last real
step (rnnzoo and Keras through the padding mask; PyTorch gathers the output at
`length - 1`, its fastest exact form on the CPU: a packed sequence is about 4x
slower there, oneDNN takes no packed input). Every training step is the same:
forward, cross-entropy, backward, Adam(1e-3) with each gradient clipped to
norm 1 (rnnzoo's default compile). Tokens per second (batch x length /
seconds) of a training step and of inference. Each model is timed in
`--rounds` interleaved rounds (every model once per round, so drifting machine
load hits all of them alike) and the median round is reported, with its ratio
to PyTorch.

`--backend torch jax`: rnnzoo and plain Keras also on these Keras backends,
beside TensorFlow. Each backend runs in a worker process of its own (a
process has one Keras backend), and every round visits each worker in turn,
so the rounds still interleave. PyTorch's rows run in the torch worker if
there is one.

`--long`: length 1024, every registered cell (the efficient cells against
the LSTM of the same hidden size), rnnzoo models only; ratios to the LSTM.

`--candidates`: the LSTM layer alone (no embedding or head), Keras' own
against two other CPU paths with the same weights, each checked to give the
same outputs: TensorFlow's fused `BlockLSTMV2` kernel, and the input
projection for all steps in one matrix multiply outside Keras' step loop
(TensorFlow backend).

PyTorch (`pip install -e ".[torch]"`) is optional; without it its rows are
skipped with a message.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
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
    model = keras.Sequential([keras.Input((None,), dtype="int32"),
                              keras.layers.Embedding(VOCAB, EMBEDDING, mask_zero=True),
                              layer(UNITS), keras.layers.Dense(CLASSES)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


class KerasTimer:
    def __init__(self, model):
        self.model = model

    def train(self, tokens, labels):
        self.model.train_on_batch(tokens, labels)

    def infer(self, tokens):
        self.model.predict_on_batch(tokens)


class TorchTimer:
    """The same network in PyTorch, reading each sequence's last real step."""

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
                last = (tokens != 0).sum(dim=1) - 1
                return self.head(outputs[torch.arange(tokens.shape[0]), last])

        self.net = Net()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loss = torch.nn.CrossEntropyLoss()

    def train(self, tokens, labels):
        self.net.train()
        self.optimizer.zero_grad()
        loss = self.loss(self.net(self.torch.from_numpy(tokens).long()), self.torch.from_numpy(labels).long())
        loss.backward()
        for parameter in self.net.parameters():  # as Keras' clipnorm: each gradient on its own
            self.torch.nn.utils.clip_grad_norm_(parameter, 1.0)
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


def padded_batch(length, batch=64, inputs=None, seed=0, padded=True):
    """`(inputs, labels)`: random token ids right-padded with 0 (lengths from
    length / 2 to length, the first full; every one full with `padded=False`),
    or `inputs=(features, dtype)` random vectors."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, size=(batch,)).astype("int32")
    if inputs is not None:
        return rng.normal(size=(batch, length, inputs[0])).astype(inputs[1]), labels
    lengths = rng.integers(length // 2, length + 1, size=batch) if padded else np.full(batch, length)
    lengths[0] = length
    tokens = rng.integers(1, VOCAB, size=(batch, length)) * (np.arange(length)[None, :] < lengths[:, None])
    return tokens.astype("int32"), labels


def measure_round(timers, tokens, labels, steps, seconds_floor=2.0):
    """`{name: (train tokens/s, inference tokens/s)}` of one round."""
    size = tokens.shape[0] * tokens.shape[1]
    return {name: (tokens_per_second(lambda: timer.train(tokens, labels), size, steps, seconds_floor),
                   tokens_per_second(lambda: timer.infer(tokens), size, steps, seconds_floor))
            for name, timer in timers.items()}


def warm_up(timers, tokens, labels):
    for timer in timers.values():  # tracing, first allocations
        timer.train(tokens, labels)
        timer.infer(tokens)


def medians(rounds):
    """`{name: (median train, median inference)}` over a list of round results."""
    return {name: tuple(statistics.median(r[name][i] for r in rounds) for i in (0, 1)) for name in rounds[0]}


def measure(timers, length, rounds, steps, batch=64, seconds_floor=2.0, inputs=None):
    """`{name: (train tokens/s, inference tokens/s)}`, median over rounds, in this process
    (`--long` and `--candidates`: unpadded batches)."""
    tokens, labels = padded_batch(length, batch, inputs, padded=False)
    warm_up(timers, tokens, labels)
    return medians([measure_round(timers, tokens, labels, steps, seconds_floor) for _ in range(rounds)])


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


def backend_timers(cells, length, threads, with_torch):
    """rnnzoo and plain Keras on this process's backend (and PyTorch): `{name: timer}`, per cell in order."""
    import keras

    backend = keras.backend.backend()
    timers = {}
    for cell in cells:
        timers[f"rnnzoo {cell} ({backend})"] = KerasTimer(rnnzoo_model(cell, length))
        timers[f"keras {cell} ({backend})"] = KerasTimer(keras_model(cell, length))
        if with_torch:
            import torch

            timers[f"pytorch {cell} {torch.__version__.split('+')[0]}"] = TorchTimer(cell, threads)
    return timers


def set_threads(threads, inter_op_threads):
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads or threads)
    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(threads)
    return f"keras {keras.__version__} ({keras.backend.backend()}), threads {threads}"


def worker(args):
    """A backend's worker: builds its timers, then measures one round per
    `round` line on stdin and prints it as one `RESULT {json}` line."""
    import rnnzoo  # noqa: F401  (first: it guards against triton's crash beside TensorFlow)

    print("READY", set_threads(args.threads, args.inter_op_threads), flush=True)
    timers = backend_timers(args.cells, args.length, args.threads, args.with_torch)
    tokens, labels = padded_batch(args.length)
    warm_up(timers, tokens, labels)
    print("WARM", flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        print("RESULT " + json.dumps(measure_round(timers, tokens, labels, args.steps)), flush=True)


def _read_until(process, prefix):
    for line in process.stdout:
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise RuntimeError(f"a benchmark worker ended early (exit code {process.wait()}); see its output above")


def across_backends(backends, cells, length, rounds, steps, threads, inter_op_threads):
    """Workers, one per Keras backend, measured in interleaved rounds: `{name: (train, infer)}`."""
    has_torch = importlib.util.find_spec("torch") is not None
    if not has_torch:
        print("PyTorch is not installed (pip install -e \".[torch]\"): its rows are skipped.")
    torch_worker = "torch" if "torch" in backends else backends[0]
    workers = []
    for backend in backends:
        command = [sys.executable, "-m", "benchmarks.rnn_speed", "--worker", "--length", str(length),
                   "--steps", str(steps), "--threads", str(threads), "--cells", *cells]
        if inter_op_threads:
            command += ["--inter-op-threads", str(inter_op_threads)]
        if has_torch and backend == torch_worker:
            command.append("--with-torch")
        environment = dict(os.environ, KERAS_BACKEND=backend)
        workers.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        env=environment, cwd=os.path.dirname(os.path.dirname(__file__)) or "."))
    try:
        for process in workers:
            print(_read_until(process, "READY "))
            _read_until(process, "WARM")
        results = []
        for _ in range(rounds):
            one_round = {}
            for process in workers:
                process.stdin.write("round\n")
                process.stdin.flush()
                one_round.update(json.loads(_read_until(process, "RESULT ")))
            results.append(one_round)
    finally:
        for process in workers:
            if process.stdin and not process.stdin.closed:
                process.stdin.close()
            process.wait()
    return medians(results)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for each backend and PyTorch")
    parser.add_argument("--inter-op-threads", type=int, default=None,
                        help="TensorFlow's inter-op threads (default: --threads)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model per round (at least 2 s)")
    parser.add_argument("--cells", nargs="*", default=None,
                        help="cells to time (default: lstm and gru; with --long, every registered cell)")
    parser.add_argument("--backend", nargs="+", default=[], choices=["tensorflow", "jax", "torch"],
                        help="Keras backends to time rnnzoo and Keras on, beside TensorFlow")
    parser.add_argument("--long", action="store_true", help="length 1024, every registered cell, rnnzoo only")
    parser.add_argument("--candidates", action="store_true", help="other CPU paths for the LSTM layer alone")
    parser.add_argument("--length", type=int, default=None, help="override the sequence length")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--with-torch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    length = args.length or (1024 if args.long else 100)
    if args.long or args.candidates:
        import rnnzoo

        print(set_threads(args.threads, args.inter_op_threads))
        if args.long:
            cells = ["lstm"] + [c for c in args.cells or rnnzoo.list_cells() if c != "lstm"]
            timers = {f"rnnzoo {cell}": KerasTimer(rnnzoo_model(cell, length)) for cell in cells}
            results = measure(timers, length, args.rounds, args.steps)
            print_table(f"many-to-one, batch 64, length {length}, hidden {UNITS}", results, "rnnzoo lstm")
        else:
            results = measure(lstm_candidates(length), length, args.rounds, args.steps,
                              inputs=(EMBEDDING, "float32"))
            print_table(f"LSTM layer alone, batch 64, length {length}, input {EMBEDDING}, hidden {UNITS}",
                        results, "keras LSTM layer")
        return results

    cells = args.cells or ["lstm", "gru"]
    backends = ["tensorflow"] + [backend for backend in dict.fromkeys(args.backend) if backend != "tensorflow"]
    results = across_backends(backends, cells, length, args.rounds, args.steps, args.threads, args.inter_op_threads)
    for cell in cells:
        rows = {name: value for name, value in results.items() if name.split()[1] == cell}
        baseline = next((name for name in rows if name.startswith("pytorch")), None) or next(iter(rows))
        print_table(f"many-to-one {cell}, batch 64, length {length} (padded), embedding {EMBEDDING}, "
                    f"hidden {UNITS}, vocabulary {VOCAB}", rows, baseline)
    return results


if __name__ == "__main__":
    main()
