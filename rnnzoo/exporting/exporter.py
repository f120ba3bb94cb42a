"""`rnnzoo.export(model, path, format=...)`: write a SavedModel or a TFLite
model, check it against the Keras model, and record what was checked.

The artifact is written to a temporary folder beside `path` and renamed into
place, so a failed export never leaves a half-written folder (and an older
export at `path` stays until the new one is complete).
"""

import os
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from rnnzoo.exporting import tflite
from rnnzoo.exporting.example_inputs import example_inputs
from rnnzoo.exporting.signatures import input_specs, serving_function
from rnnzoo.utils.files import replace_folder, write_json

FORMATS = ("saved_model", "tflite")
SIGNATURE = "serving_default"
TFLITE_FILE = "model.tflite"
REPORT_FILE = "export.json"


def _write_saved_model(model, folder, specs):
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serving_function(model, specs), input_signature=specs)
    archive.write_out(folder, verbose=False)


def _fit_to_length(inputs, specs):
    """Right-pad (with 0) or cut each input to a fixed spec's shape."""
    fitted = {}
    for spec in specs:
        value = np.asarray(inputs[spec.name])
        for axis, size in enumerate(spec.shape):
            if axis == 0 or size is None or value.shape[axis] == size:
                continue
            if value.shape[axis] > size:
                value = np.take(value, range(size), axis=axis)
            else:
                widths = [(0, 0)] * value.ndim
                widths[axis] = (0, size - value.shape[axis])
                value = np.pad(value, widths)
        fitted[spec.name] = value.astype(spec.dtype.as_numpy_dtype)
    return fitted


def _keras_outputs(model, inputs, specs):
    serve = serving_function(model, specs)
    return {k: np.asarray(v) for k, v in serve(*[tf.constant(inputs[s.name]) for s in specs]).items()}


def _max_abs_diff(expected, found):
    return max(float(np.max(np.abs(expected[name] - found[name]))) for name in expected)


def _check_inputs(model, inputs, batch_size, sequence_length):
    if inputs is None:  # four batches of random valid inputs, right-padded
        return example_inputs(model, length=sequence_length or 12, batch_size=4 * (batch_size or 1),
                              pad_to=sequence_length)
    if not isinstance(inputs, dict):
        if len(model.inputs) != 1:
            raise ValueError(f"inputs: the model takes {[t.name for t in model.inputs]}; pass a dict.")
        inputs = {model.inputs[0].name: inputs}
    missing = {t.name for t in model.inputs} - set(inputs)
    if missing:
        raise ValueError(f"inputs: missing {sorted(missing)} (the model takes {[t.name for t in model.inputs]}).")
    return inputs


def _batches(inputs, batch_size):
    count = len(next(iter(inputs.values())))
    for start in range(0, count, batch_size):
        yield {k: v[start:start + batch_size] for k, v in inputs.items()}


def export(model, path, format="saved_model", quantize=None, batch_size=None, sequence_length=None,
           target_length=None, inputs=None, representative_data=None, allow_flex=False, tolerance=1e-4,
           overwrite=True):
    """Export `model` to `path` (a folder) and check it.

    Args:
        format: "saved_model" (signature `serving_default`: the model's
            inputs by name, dynamic batch and length) or "tflite"
            (`model.tflite`, builtin ops only, fixed `batch_size`, default 1).
        sequence_length, target_length: TFLite only: fix the time dimension
            (shorter inputs are then right-padded with 0, which masking
            ignores); by default it stays dynamic (resize the interpreter's
            input, or use the signature runner, which does).
        quantize: TFLite only: None, "dynamic", "float16" or "int8".
        inputs: real inputs for the parity check (an array, or a dict by
            input name); random valid inputs when None.
        representative_data: for int8, a list of input dicts (a few training
            batches); by default batches of `inputs`.
        allow_flex: accept select-TF (Flex) or custom ops in TFLite.
        tolerance: the largest max-abs difference accepted for a float
            export; quantized exports report the difference without a limit.

    Returns the report (also written as `export.json` in the folder): format,
    files and sizes, ops (TFLite), parity numbers, and seconds taken.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
    if quantize is not None and format != "tflite":
        raise ValueError("quantize applies to format='tflite' only.")
    if keras.backend.backend() != "tensorflow":
        raise ValueError("export needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
                         "a .keras file saved under another backend loads there unchanged.")
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"path {path} exists and is not a folder.")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise ValueError(f"path {path} already holds files; pass overwrite=True to replace them.")
    if format == "tflite":
        # A fixed batch keeps the recurrent loop in builtin ops; a dynamic
        # batch brings FlexTensorList* ops (Keras 3.15 / TF 2.21).
        batch_size = batch_size or 1
    start = time.perf_counter()
    inputs = _check_inputs(model, inputs, batch_size, sequence_length)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", dir=parent)
    try:
        report = {"format": format, "quantize": quantize, "signature": SIGNATURE,
                  "model": type(model).__name__}
        saved_model_dir = os.path.join(scratch, "saved_model")
        specs = input_specs(model, batch_size, sequence_length if format == "tflite" else None,
                            target_length if format == "tflite" else None)
        _write_saved_model(model, saved_model_dir, specs)
        if format == "tflite":
            report.update(_export_tflite(model, scratch, saved_model_dir, specs, inputs, quantize,
                                         representative_data, allow_flex, tolerance))
            shutil.rmtree(saved_model_dir)
        else:
            report.update(_check_saved_model(model, saved_model_dir, specs, inputs, tolerance))
        report["inputs"] = {s.name: [d if d is not None else "any" for d in s.shape] for s in specs}
        report["seconds"] = round(time.perf_counter() - start, 2)
        write_json(os.path.join(scratch, REPORT_FILE), report)
        replace_folder(scratch, path)
        return report
    finally:
        if os.path.isdir(scratch):
            shutil.rmtree(scratch, ignore_errors=True)


def _check_saved_model(model, folder, specs, inputs, tolerance):
    loaded = tf.saved_model.load(folder)
    signature = loaded.signatures[SIGNATURE]
    expected = _keras_outputs(model, inputs, specs)
    found = {k: v.numpy() for k, v in signature(**{s.name: tf.constant(inputs[s.name]) for s in specs}).items()}
    difference = _max_abs_diff(expected, found)
    _require_parity(difference, tolerance, "SavedModel")
    size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(folder) for f in files)
    return {"files": {"saved_model": "saved_model"}, "size_bytes": size,
            "parity": {"max_abs_diff": difference, "tolerance": tolerance,
                       "examples": len(next(iter(inputs.values())))}}


def _export_tflite(model, scratch, saved_model_dir, specs, inputs, quantize, representative_data,
                   allow_flex, tolerance):
    fixed_batch = specs[0].shape[0]
    batches = [_fit_to_length(b, specs) for b in _batches(inputs, fixed_batch)]
    batches = [b for b in batches if len(next(iter(b.values()))) == fixed_batch]
    if not batches:
        raise ValueError(f"inputs: need at least batch_size={fixed_batch} examples for the parity check.")
    if quantize == "int8" and representative_data is None:
        representative_data = batches
    elif representative_data is not None:
        representative_data = [_fit_to_length(b, specs) for b in representative_data]
    content = tflite.convert(saved_model_dir, SIGNATURE, quantize, representative_data, allow_flex)
    ops = tflite.model_ops(content)
    refused = tflite.check_builtin_only(ops, allow_flex)
    with open(os.path.join(scratch, TFLITE_FILE), "wb") as f:
        f.write(content)
    difference = 0.0
    for batch in batches:
        expected = _keras_outputs(model, batch, specs)
        difference = max(difference, _max_abs_diff(expected, tflite.run(content, batch, SIGNATURE)))
    if quantize is None:
        _require_parity(difference, tolerance, "TFLite")
    return {"files": {"tflite": TFLITE_FILE}, "size_bytes": len(content), "ops": ops,
            "non_builtin_ops": refused,
            "parity": {"max_abs_diff": difference, "tolerance": None if quantize else tolerance,
                       "examples": fixed_batch * len(batches)}}


def _require_parity(difference, tolerance, what):
    if not difference <= tolerance:
        raise ValueError(f"{what} export differs from the Keras model by {difference:.3g} "
                         f"(max abs), above tolerance={tolerance}; nothing was written.")


def load_tflite(path):
    """Bytes of `model.tflite` in an export folder (or the file itself)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, TFLITE_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no TFLite model here.")
    with open(path, "rb") as f:
        return f.read()
