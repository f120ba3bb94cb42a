"""Single-sequence latency of an exported TFLite model vs the Keras model's
`model(x)`, and latency and file size of float32, dynamic-range, float16 and
full-int8 (unrolled) TFLite; the ratio is float TFLite / Keras.

    python -m benchmarks.export_latency [--length 50] [--repeats 200]
"""

import argparse
import tempfile
import time

import numpy as np

import rnnzoo
from rnnzoo.exporting import example_inputs, load_tflite, make_interpreter


def _median_seconds(fn, repeats):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


QUANTIZATIONS = (None, "dynamic", "float16", "int8")


def _latency(content, tokens, repeats):
    interpreter = make_interpreter(content)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]

    def run_tflite():
        interpreter.set_tensor(input_index, tokens)
        interpreter.invoke()

    return _median_seconds(run_tflite, repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    print(f"{'model':<22}{'keras ms':>9}" + "".join(f"{str(q or 'float'):>9} ms" for q in QUANTIZATIONS)
          + f"{'ratio':>7}" + "".join(f"{str(q or 'float'):>9} KB" for q in QUANTIZATIONS))
    for cell in ("lstm", "gru"):
        model = rnnzoo.build_model("many_to_one", cell=cell, vocab_size=10000, embedding_dim=128,
                                   units=256, num_classes=2)
        calibration = example_inputs(model, args.length, batch_size=16, seed=1)["tokens"]
        tokens = calibration[:1]
        sizes, seconds = {}, {}
        with tempfile.TemporaryDirectory() as folder:
            for quantize in QUANTIZATIONS:
                report = rnnzoo.export(model, f"{folder}/{quantize}", format="tflite",
                                       sequence_length=args.length, quantize=quantize, inputs=calibration)
                sizes[quantize] = report["size_bytes"] / 1024
                seconds[quantize] = _latency(load_tflite(f"{folder}/{quantize}"), tokens, args.repeats)
        keras_seconds = _median_seconds(lambda: model(tokens, training=False), args.repeats)
        name = f"{cell} 256u len {args.length}"
        print(f"{name:<22}{keras_seconds * 1e3:>9.2f}" + "".join(f"{seconds[q] * 1e3:>12.2f}" for q in QUANTIZATIONS)
              + f"{seconds[None] / keras_seconds:>7.3f}" + "".join(f"{sizes[q]:>12.0f}" for q in QUANTIZATIONS))


if __name__ == "__main__":
    main()
