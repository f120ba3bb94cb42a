"""Single-sequence latency of an exported TFLite model vs the Keras model's
`model(x)`, and file sizes float32 vs dynamic-range vs float16.

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    print(f"{'model':<28}{'keras ms':>10}{'tflite ms':>11}{'ratio':>8}{'float KB':>10}{'dynamic KB':>12}{'fp16 KB':>9}")
    for cell in ("lstm", "gru"):
        model = rnnzoo.build_model("many_to_one", cell=cell, vocab_size=10000, embedding_dim=128,
                                   units=256, num_classes=2)
        tokens = example_inputs(model, args.length, batch_size=1, seed=0)["tokens"]
        sizes = {}
        with tempfile.TemporaryDirectory() as folder:
            for quantize in (None, "dynamic", "float16"):
                report = rnnzoo.export(model, f"{folder}/{quantize}", format="tflite",
                                       sequence_length=args.length, quantize=quantize, inputs=tokens)
                sizes[quantize] = report["size_bytes"] / 1024
            interpreter = make_interpreter(load_tflite(f"{folder}/None"))
            interpreter.allocate_tensors()
            input_index = interpreter.get_input_details()[0]["index"]

            def run_tflite():
                interpreter.set_tensor(input_index, tokens)
                interpreter.invoke()

            keras_seconds = _median_seconds(lambda: model(tokens, training=False), args.repeats)
            tflite_seconds = _median_seconds(run_tflite, args.repeats)
        name = f"{cell} 256u len {args.length}"
        print(f"{name:<28}{keras_seconds * 1e3:>10.2f}{tflite_seconds * 1e3:>11.2f}"
              f"{tflite_seconds / keras_seconds:>8.2f}{sizes[None]:>10.0f}{sizes['dynamic']:>12.0f}"
              f"{sizes['float16']:>9.0f}")


if __name__ == "__main__":
    main()
