"""Single-sequence TFLite latency and file size per export form, one run, the
same inputs: for an LSTM classifier, TFLite's fused LSTM kernel (float,
dynamic-range, float16) against the `WHILE` loop Keras 3 converts to and the
unrolled graph, and full int8; for a GRU (no fused kernel in TFLite), the loop and unrolled
forms. Keras' own `model(x)` is the reference row. Then the ONNX Runtime
rows (`benchmarks.onnx_latency`, in a torch-backend process, same lengths):
rnnzoo's ONNX files against PyTorch's own `nn.LSTM` / `nn.GRU` exports.

    python -m benchmarks.export_latency [--lengths 16 64 256] [--repeats 100] [--no-onnx]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import rnnzoo
from rnnzoo.exporting import example_inputs, load_tflite, make_interpreter
from rnnzoo.exporting.signatures import input_specs
from rnnzoo.exporting.unrolling import unrolled_copy

# (row name, cell, export arguments); "unrolled" exports an unrolled copy.
FORMS = (
    ("lstm WHILE float", "lstm", dict(fuse_lstm=False)),
    ("lstm fused float", "lstm", dict()),
    ("lstm unrolled float", "lstm", dict(unrolled=True)),
    ("lstm int8", "lstm", dict(quantize="int8")),  # fused or unrolled, the closer to Keras (the ops column)
    ("lstm fused dynamic", "lstm", dict(quantize="dynamic")),
    ("lstm fused float16", "lstm", dict(quantize="float16")),
    ("gru WHILE float", "gru", dict()),
    ("gru unrolled float", "gru", dict(unrolled=True)),
    ("gru unrolled int8", "gru", dict(quantize="int8")),
)


def _median_seconds(fn, repeats):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _latency(content, tokens, repeats, xnnpack=True):
    interpreter = make_interpreter(content, default_delegates=xnnpack)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]

    def run_tflite():
        interpreter.set_tensor(input_index, tokens)
        interpreter.invoke()

    return _median_seconds(run_tflite, repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--onnx", action=argparse.BooleanOptionalAction, default=True,
                        help="also the ONNX Runtime rows (a torch-backend process; needs the torch extra)")
    parser.add_argument("--builtin-kernels", action="store_true",
                        help="time TFLite's own kernels, without the XNNPACK delegate (what a runtime "
                             "without XNNPACK runs)")
    args = parser.parse_args(argv)
    models = {cell: rnnzoo.build_model("many_to_one", cell=cell, vocab_size=10000, embedding_dim=128,
                                       units=args.units, num_classes=2) for cell in ("lstm", "gru")}
    print(f"many_to_one, {args.units} units, batch 1, median of {args.repeats}, "
          f"{'builtin kernels' if args.builtin_kernels else 'XNNPACK'}; ratio = latency / the same cell's WHILE float")
    print(f"{'form':<22}{'length':>7}{'ms':>9}{'ratio':>8}{'KB':>9}  ops")
    for length in args.lengths:
        calibration = example_inputs(models["lstm"], length, batch_size=16, seed=1, pad_to=length)
        tokens = calibration["tokens"][:1]
        for cell, model in models.items():
            seconds = _median_seconds(lambda: model(tokens, training=False), args.repeats)
            print(f"{cell + ' keras':<22}{length:>7}{seconds * 1e3:>9.2f}{'':>8}{'':>9}")
        baseline = {}
        for name, cell, options in FORMS:
            options = dict(options)
            model = models[cell]
            if options.pop("unrolled", False):
                model = unrolled_copy(model, input_specs(model, 1, length))
            with tempfile.TemporaryDirectory() as folder:
                report = rnnzoo.export(model, folder, format="tflite", sequence_length=length, inputs=calibration,
                                       **options)
                seconds = _latency(load_tflite(folder), tokens, args.repeats, xnnpack=not args.builtin_kernels)
            if "WHILE float" in name:
                baseline[cell] = seconds
            ratio = f"{seconds / baseline[cell]:.2f}"
            loops = [op for op in report["ops"] if op in ("WHILE", "UNIDIRECTIONAL_SEQUENCE_LSTM")]
            print(f"{name:<22}{length:>7}{seconds * 1e3:>9.2f}{ratio:>8}{report['size_bytes'] / 1024:>9.0f}  "
                  f"{','.join(loops) or 'no loop'}", flush=True)
    if args.onnx:
        subprocess.run([sys.executable, "-m", "benchmarks.onnx_latency", "--lengths", *map(str, args.lengths),
                        "--repeats", str(args.repeats), "--units", str(args.units)],
                       env={**os.environ, "KERAS_BACKEND": "torch"}, check=True)


if __name__ == "__main__":
    main()
