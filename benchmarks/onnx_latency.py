"""Single-sequence ONNX Runtime latency: rnnzoo's LSTM and GRU classifiers
exported on the torch backend (`rnnzoo.export(format="onnx")`) against
PyTorch's own `nn.LSTM` / `nn.GRU` classifiers of the same sizes exported
with `torch.onnx.export` (the anchor), the same tokens, rounds interleaved.
Runs on the torch backend; `benchmarks.export_latency` runs it after its
TFLite rows.

    KERAS_BACKEND=torch python -m benchmarks.onnx_latency [--lengths 16 64 256] [--threads 2]
"""

import argparse
import os
import tempfile
import time

import numpy as np

VOCAB, EMBEDDING, CLASSES = 10000, 128, 2


def _anchor(cell, units):
    """PyTorch's own classifier: embedding, one recurrent layer, its last state into a dense layer."""
    import torch

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCAB, EMBEDDING)
            self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(EMBEDDING, units, batch_first=True)
            self.head = torch.nn.Linear(units, CLASSES)

        def forward(self, tokens):
            _, state = self.rnn(self.embedding(tokens))
            return self.head((state[0] if cell == "lstm" else state)[-1])

    return Classifier().eval()


def _median_ms(session, feeds, repeats):
    session.run(None, feeds)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime's intra-op threads")
    args = parser.parse_args(argv)
    import keras

    if keras.backend.backend() != "torch":
        raise SystemExit("benchmarks.onnx_latency: run with KERAS_BACKEND=torch (ONNX export runs there).")
    import onnxruntime
    import torch

    import rnnzoo

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    sessions = {}
    with tempfile.TemporaryDirectory() as folder:
        for cell in ("lstm", "gru"):
            model = rnnzoo.build_model("many_to_one", cell=cell, vocab_size=VOCAB, embedding_dim=EMBEDDING,
                                       units=args.units, num_classes=CLASSES, bidirectional=False)
            model(np.ones((1, 4), "int32"))
            rnnzoo.export(model, os.path.join(folder, cell), format="onnx")
            anchor = os.path.join(folder, f"torch_{cell}.onnx")
            torch.onnx.export(_anchor(cell, args.units), (torch.ones((1, 4), dtype=torch.int64),), anchor,
                              input_names=["tokens"], dynamic_axes={"tokens": {0: "batch", 1: "time"}},
                              opset_version=18, dynamo=False)
            for name, path, dtype in ((f"rnnzoo {cell}", os.path.join(folder, cell, "model.onnx"), "int32"),
                                      (f"torch nn.{cell.upper()}", anchor, "int64")):
                sessions[name] = (onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"]),
                                  dtype)
    print(f"ONNX Runtime {onnxruntime.__version__}, {args.threads} threads, many_to_one, {args.units} units, batch 1, "
          f"median of {args.repeats} (5 interleaved rounds); ratio = rnnzoo / PyTorch's own export")
    print(f"{'model':<18}{'length':>7}{'ms':>9}{'ratio':>8}")
    for length in args.lengths:
        tokens = np.random.default_rng(length).integers(1, VOCAB, (1, length))
        found = {name: [] for name in sessions}
        for _ in range(5):
            for name, (session, dtype) in sessions.items():
                found[name].append(_median_ms(session, {"tokens": tokens.astype(dtype)}, max(1, args.repeats // 5)))
        for cell in ("lstm", "gru"):
            ours, anchor = np.median(found[f"rnnzoo {cell}"]), np.median(found[f"torch nn.{cell.upper()}"])
            print(f"{'rnnzoo ' + cell:<18}{length:>7}{ours:>9.3f}{ours / anchor:>8.2f}")
            print(f"{'torch nn.' + cell.upper():<18}{length:>7}{anchor:>9.3f}{'':>8}", flush=True)


if __name__ == "__main__":
    main()
