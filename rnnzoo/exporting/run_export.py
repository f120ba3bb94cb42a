"""The exports that end every recipe run: TFLite in float and in each asked-for
quantization, checked on real validation examples, with the validation
metric of each file next to the Keras model's (the quantized accuracy delta).

```python
summary = export_tflite_variants(run.path, model, examples, metric, quantizations=("dynamic",))
summary["tflite_dynamic"]["metric_delta"]
```
"""

import os
import time

import numpy as np

from rnnzoo.cells.kernels import tflite_kernel
from rnnzoo.data.batching import pad_rows
from rnnzoo.exporting import tflite
from rnnzoo.exporting.exporter import SIGNATURE, export

MAX_CHECKED = 500
# The quantizations each kind of export can take. int8 calibrates one graph with fixed input shapes; a
# generator's encoder and one-step decoder, and a streaming step that carries states between calls, would
# each need their own calibration data and fixed shapes, which are not offered.
VARIANTS = {"model": ("dynamic", "float16", "int8"), "generator": ("dynamic", "float16"),
            "streaming": ("dynamic", "float16")}
KINDS = {"model": "one network", "generator": "an encoder and a one-step decoder",
         "streaming": "a one-step model with states in and out"}


def check_quantizations(quantizations, kind, task):
    """Refuse, before any work, a quantization that `task` (its export of
    `kind`: "model", "generator" or "streaming") cannot have."""
    for quantize in quantizations:
        if quantize not in VARIANTS[kind]:
            offered = ", ".join(VARIANTS[kind])
            raise ValueError(f"--export-quantize {quantize}: the {task} export is {KINDS[kind]}, which is not "
                             f"offered in {quantize}; choose from {offered} (or none).")

PARITY_EXAMPLES = 32
CALIBRATION_EXAMPLES = 100
# Variants within this of the Keras model's metric count as equally accurate when the fastest and the
# smallest are named (half a point of accuracy or F1).
SAME_ACCURACY = 0.005


def folder_name(quantize):
    return "tflite" if quantize is None else f"tflite_{quantize}"


def stack(examples, length=None, word_length=None):
    """Unbatched input dicts -> one batch, right-padded with 0 to the
    longest example, or to `length` (and `word_length` steps per segment:
    characters per word, words per sentence) when given; longer inputs are
    cut there."""
    def inner(name):
        nested = name == "characters" or (name == "tokens" and np.ndim(examples[0][name]) == 2)
        return (word_length,) if nested and word_length else None

    return {name: pad_rows([e[name] for e in examples], length, inner=inner(name)) for name in examples[0]}


def _tflite_outputs(content, examples, length, word_length, output):
    """The file's outputs for `examples`, one call each, and the median
    milliseconds a call took (on this machine, batch 1)."""
    runner = tflite.signature_runner(content, SIGNATURE)
    outputs, times = [], []
    for example in examples:
        batch = stack([example], length, word_length)
        start = time.perf_counter()
        result = runner(batch)
        times.append(time.perf_counter() - start)
        outputs.append((result[output] if output else next(iter(result.values())))[0])
    return outputs, 1000 * float(np.median(times))


def fastest_and_smallest(summary, tolerance=SAME_ACCURACY):
    """`(fastest, smallest)`: the names of the variants in `summary` (see
    `export_tflite_variants`) that run fastest and are smallest among those
    within `tolerance` of the Keras model's metric (None: no variant)."""
    kept = {name: entry for name, entry in summary.items() if isinstance(entry, dict) and "error" not in entry
            and abs(entry["metric_delta"]) <= tolerance}
    if not kept:
        return None, None
    return (min(kept, key=lambda name: kept[name]["ms_per_example"]),
            min(kept, key=lambda name: kept[name]["size_bytes"]))


def _keras_outputs(model, examples, length, word_length, output, batch_size=64):
    outputs = []
    for start in range(0, len(examples), batch_size):
        batch = stack(examples[start:start + batch_size], length, word_length)
        result = model(batch if isinstance(model.input, dict) else next(iter(batch.values())), training=False)
        result = result[output] if output and isinstance(result, dict) else result
        outputs.extend(np.asarray(result))
    return outputs


def each_variant(folder, quantizations, write):
    """`{folder name: write(quantize, path)}` for float32 and each of
    `quantizations`; a variant that fails its check (or cannot be made) is
    `{quantize, error}` and the others are still written (a run's results
    never hang on one file)."""
    summary = {}
    for quantize in (None, *quantizations):
        try:
            summary[folder_name(quantize)] = write(quantize, os.path.join(folder, folder_name(quantize)))
        except ValueError as error:
            summary[folder_name(quantize)] = {"quantize": quantize, "error": str(error)}
    return summary


def export_tflite_variants(folder, model, examples, metric, *, quantizations=("dynamic",),
                           calibration_examples=None, sequence_length=None, longest=None, word_length=None,
                           output=None, max_examples=MAX_CHECKED):
    """Export `model` as float TFLite (`folder/tflite/`) and once per entry
    of `quantizations` (`folder/tflite_<quantize>/`), builtin ops only,
    batch 1.

    Args:
        examples: validation examples, each a dict of unbatched input arrays
            (token ids `(length,)`, characters `(length, chars)`).
        metric: `metric(outputs) -> float`, where `outputs` are the
            per-example outputs for `examples[:max_examples]`, in order
            (per-step outputs keep their padding rows; cut them to the
            example's length). `output`: which output, for a model with
            several.
        calibration_examples: int8's representative data, examples like
            `examples` drawn from the training data (the first 100 are used;
            default: `examples`).
        sequence_length, word_length: fixed input lengths of every file
            (a character encoder needs them); longer inputs are cut, which
            the metric then sees, for Keras and TFLite alike.
        longest: the longest training input: the fixed length of a file
            that needs one when `sequence_length` is None (int8 only; the
            other files keep a dynamic length). Each file's metric is
            compared with the Keras model's on inputs cut as that file's.

    Returns `{folder name: {size_bytes, parity_max_abs_diff, metric,
    metric_delta, ms_per_example, ops, micro_unsupported_ops, inputs}}` plus `"keras_metric"` and
    `"examples"`: the metric of the Keras model on the same examples, cut as the float file's; and
    `"fastest"` / `"smallest"`: the variants that ran fastest here (median milliseconds per example,
    batch 1, while scoring) and are smallest, among those within `SAME_ACCURACY` of the Keras
    model (`fastest_and_smallest`). A variant that
    fails its parity check is not written and is reported as
    `{quantize, error}`; the other variants are still exported (a run's
    results never hang on one file).
    """
    chosen = examples[:max_examples]
    keras_metrics = {}

    def keras_metric(length):
        if length not in keras_metrics:
            keras_metrics[length] = float(metric(_keras_outputs(model, chosen, length, word_length, output)))
        return keras_metrics[length]

    calibration = (calibration_examples or chosen)[:CALIBRATION_EXAMPLES]

    def write(quantize, path):
        length = sequence_length if sequence_length is not None or quantize != "int8" else longest
        if quantize == "int8" and length is None:
            raise ValueError("int8 needs a fixed input length: pass sequence_length or longest.")
        representative = [stack([e], length, word_length) for e in calibration]
        report = export(model, path, format="tflite", quantize=quantize, sequence_length=length,
                        word_length=word_length, inputs=stack(chosen[:PARITY_EXAMPLES], length, word_length),
                        representative_data=representative if quantize == "int8" else None)
        with open(os.path.join(path, "model.tflite"), "rb") as f:
            outputs, milliseconds = _tflite_outputs(f.read(), chosen, length, word_length, output)
        score = float(metric(outputs))
        return {
            "quantize": quantize, "size_bytes": report["size_bytes"],
            "parity_max_abs_diff": report["parity"]["max_abs_diff"], "parity_scale": report["parity"]["scale"],
            "metric": score, "keras_metric": keras_metric(length), "metric_delta": score - keras_metric(length),
            "inputs": report["inputs"], "non_builtin_ops": report["non_builtin_ops"], "ops": report["ops"],
            "micro_unsupported_ops": report["micro_unsupported_ops"],
            "int8_form": next((form for form, found in report.get("int8_forms", {}).items() if found["kept"]), None),
            "interpreter": tflite.interpreter_name(), "kernel": tflite_kernel(report["ops"]),
            "ms_per_example": milliseconds,
        }

    summary = {"keras_metric": keras_metric(sequence_length), "examples": len(chosen),
               **each_variant(folder, quantizations, write)}
    summary["fastest"], summary["smallest"] = fastest_and_smallest(summary)
    return summary
