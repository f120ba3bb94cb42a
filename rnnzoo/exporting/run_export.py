"""The exports that end every recipe run: TFLite in float and in each asked-for
quantization, checked on real validation examples, with the validation
metric of each file next to the Keras model's (the quantized accuracy delta).

```python
summary = export_tflite_variants(run.path, model, examples, metric, quantizations=("dynamic",))
summary["tflite_dynamic"]["metric_delta"]
```
"""

import os

import numpy as np

from rnnzoo.data.batching import pad_rows
from rnnzoo.exporting import tflite
from rnnzoo.exporting.exporter import SIGNATURE, export

MAX_CHECKED = 500
PARITY_EXAMPLES = 32
CALIBRATION_EXAMPLES = 100


def folder_name(quantize):
    return "tflite" if quantize is None else f"tflite_{quantize}"


def stack(examples, length=None, word_length=None):
    """Unbatched input dicts -> one batch, right-padded with 0 to the
    longest example, or to `length` (and `word_length` characters per word)
    when given; longer inputs are cut there."""
    return {name: pad_rows([e[name] for e in examples], length,
                           inner=(word_length,) if name == "characters" and word_length else None)
            for name in examples[0]}


def _tflite_outputs(content, examples, length, word_length, output):
    runner = tflite.signature_runner(content, SIGNATURE)
    outputs = []
    for example in examples:
        result = runner(stack([example], length, word_length))
        outputs.append((result[output] if output else next(iter(result.values())))[0])
    return outputs


def _keras_outputs(model, examples, length, word_length, output, batch_size=64):
    outputs = []
    for start in range(0, len(examples), batch_size):
        batch = stack(examples[start:start + batch_size], length, word_length)
        result = model(batch if isinstance(model.input, dict) else next(iter(batch.values())), training=False)
        result = result[output] if output and isinstance(result, dict) else result
        outputs.extend(np.asarray(result))
    return outputs


def export_tflite_variants(folder, model, examples, metric, *, quantizations=("dynamic",),
                           calibration_examples=None, sequence_length=None, word_length=None, output=None,
                           max_examples=MAX_CHECKED):
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
        sequence_length, word_length: fixed input lengths (needed for
            character encoders and int8); longer inputs are cut, which the
            metric then sees, for Keras and TFLite alike.

    Returns `{folder name: {size_bytes, parity_max_abs_diff, metric,
    metric_delta, ops, micro_unsupported_ops, inputs}}` plus `"keras_metric"` and `"examples"`: the
    metric of the Keras model on the same (cut) examples. A variant that
    fails its parity check is not written and is reported as
    `{quantize, error}`; the other variants are still exported (a run's
    results never hang on one file).
    """
    chosen = examples[:max_examples]
    keras_metric = float(metric(_keras_outputs(model, chosen, sequence_length, word_length, output)))
    summary = {"keras_metric": keras_metric, "examples": len(chosen)}
    parity_inputs = stack(chosen[:PARITY_EXAMPLES], sequence_length, word_length)
    calibration = (calibration_examples or chosen)[:CALIBRATION_EXAMPLES]
    representative = [stack([e], sequence_length, word_length) for e in calibration]
    for quantize in (None, *quantizations):
        path = os.path.join(folder, folder_name(quantize))
        try:
            report = export(model, path, format="tflite", quantize=quantize, sequence_length=sequence_length,
                            word_length=word_length, inputs=parity_inputs,
                            representative_data=representative if quantize == "int8" else None)
        except ValueError as error:  # this variant failed its check (or cannot be made): the others still are
            summary[folder_name(quantize)] = {"quantize": quantize, "error": str(error)}
            continue
        with open(os.path.join(path, "model.tflite"), "rb") as f:
            outputs = _tflite_outputs(f.read(), chosen, sequence_length, word_length, output)
        score = float(metric(outputs))
        summary[folder_name(quantize)] = {
            "quantize": quantize, "size_bytes": report["size_bytes"],
            "parity_max_abs_diff": report["parity"]["max_abs_diff"], "parity_scale": report["parity"]["scale"],
            "metric": score, "metric_delta": score - keras_metric, "inputs": report["inputs"],
            "non_builtin_ops": report["non_builtin_ops"], "ops": report["ops"],
            "micro_unsupported_ops": report["micro_unsupported_ops"],
            "int8_form": next((form for form, found in report.get("int8_forms", {}).items() if found["kept"]), None),
        }
    return summary
