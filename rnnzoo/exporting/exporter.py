"""`rnnzoo.export(model, path, format=...)`: write a SavedModel or a TFLite
model, check it against the Keras model, and record what was checked.

The artifact is written to a temporary folder beside `path` and renamed into
place, so a failed export never leaves a half-written folder (and an older
export at `path` stays until the new one is complete).
"""

import contextlib
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf

from rnnzoo.cells.projected import step_forms
from rnnzoo.exporting import tflite
from rnnzoo.exporting.fused_lstm import fused_lstms
from rnnzoo.exporting.micro import micro_check
from rnnzoo.exporting.example_inputs import WORD_LENGTH, example_inputs
from rnnzoo.exporting.signatures import input_specs, is_nested, output_names, serving_function
from rnnzoo.exporting.unrolling import needs_unrolling, unrolled_copy
from rnnzoo.utils.files import replace_folder, scratch_folder, write_json
from rnnzoo.utils.backends import require_tensorflow

FORMATS = ("saved_model", "tflite", "onnx")
SIGNATURE = "serving_default"
TFLITE_FILE = "model.tflite"
REPORT_FILE = "export.json"
# Float parity, relative to the outputs' scale. The same float32 graph differs between Keras and TFLite (and
# between CPUs: AVX2, AVX-512 and ARM kernels sum in other orders, XNNPACK takes other paths) by a few units
# in the last place per operation, growing with the recurrence's length and the weights' size. Measured on
# the recipes' smoke runs: 2e-8 to 6e-6 (sentiment, tagging, forecasting), 9.1e-4 on logits of magnitude 6.0
# (1.5e-4 of the scale) for the speech model after its smoke epochs, on AVX2 and AVX-512 alike, which an
# absolute 1e-4 refused. A wrong export (a gate out of order, a mask dropped, a state not carried) is off by
# a good fraction of the scale, 100x or more above.
TOLERANCE = 1e-3


def _write_saved_model(model, folder, specs, names=None):
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serving_function(model, specs, names), input_signature=specs)
    archive.write_out(folder, verbose=False)


@contextlib.contextmanager
def _tflite_forms(fuse_lstm=True):
    """The forms a graph traced for TFLite takes: LSTMs as the fused kernel
    (unless not `fuse_lstm`), the other cells' step loops (builtin ops only)."""
    with step_forms(), fused_lstms() if fuse_lstm else contextlib.nullcontext():
        yield


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
    """The largest absolute difference over every output (booleans, such as
    a padding mask, count 1 where they differ)."""
    return max(float(np.max(np.abs(np.asarray(expected[name], "float64") - np.asarray(found[name], "float64")),
                            initial=0.0))
               for name in expected)


def output_scale(outputs):
    """The scale parity is measured against: the largest magnitude among
    the floating-point outputs, and at least 1 (probabilities, masks)."""
    magnitudes = [float(np.max(np.abs(value), initial=0.0)) for value in map(np.asarray, outputs.values())
                  if np.issubdtype(value.dtype, np.floating)]
    return max([1.0, *[m for m in magnitudes if np.isfinite(m)]])


def _check_inputs(model, inputs, batch_size, sequence_length, word_length, config=None):
    if inputs is None:  # four batches of random valid inputs, right-padded
        return example_inputs(model, length=sequence_length or 12, batch_size=4 * (batch_size or 1),
                              pad_to=sequence_length, word_length=word_length or WORD_LENGTH, config=config)
    if not isinstance(inputs, dict):
        if len(model.inputs) != 1:
            raise ValueError(f"inputs: the model takes {[t.name for t in model.inputs]}; pass a dict.")
        inputs = {model.inputs[0].name: inputs}
    missing = {t.name for t in model.inputs} - set(inputs)
    if missing:
        raise ValueError(f"inputs: missing {sorted(missing)} (the model takes {[t.name for t in model.inputs]}).")
    return inputs


def _with_reached_states(step, inputs, config, steps=6):
    """`inputs` of a one-step model with its `state_*` inputs replaced by
    states it reaches from zero states over `steps` random inputs: random
    states can be ones no sequence reaches (an sLSTM normalizer near zero
    divides by it), where the check would measure noise."""
    names = [name for name in inputs if name.startswith("state_")]
    batch = len(next(iter(inputs.values())))
    states = {name: np.zeros_like(inputs[name]) for name in names}
    specs = input_specs(step, batch, 1)
    serve = serving_function(step, specs)
    for seed in range(steps):
        feed = {**example_inputs(step, 1, batch_size=batch, seed=100 + seed, config=config), **states}
        outputs = serve(*[tf.constant(feed[spec.name]) for spec in specs])
        states = {name: np.asarray(outputs[name]) for name in names}
    return {**inputs, **states}


def _batches(inputs, batch_size):
    count = len(next(iter(inputs.values())))
    for start in range(0, count, batch_size):
        yield {k: v[start:start + batch_size] for k, v in inputs.items()}


def export(model, path, format="saved_model", quantize=None, batch_size=None, sequence_length=None,
           target_length=None, word_length=None, streaming=False, inputs=None, representative_data=None,
           allow_flex=False, tolerance=TOLERANCE, overwrite=True, fuse_lstm=True):
    """Export `model` to `path` (a folder) and check it.

    Args:
        format: "saved_model" (signature `serving_default`: the model's
            inputs by name, dynamic batch and length), "tflite"
            (`model.tflite`, builtin ops only, fixed `batch_size`, default 1)
            or "onnx" (`model.onnx`, dynamic batch and length, LSTM / GRU
            as ONNX ops; other cells need `sequence_length`, the file's
            fixed length; on the torch backend, `exporting/onnx.py`).
        sequence_length, target_length: TFLite only: fix the time dimension
            (shorter inputs are then right-padded with 0, which masking
            ignores); by default it stays dynamic (resize the interpreter's
            input, or use the signature runner, which does). Needed for
            `quantize="int8"` and for a model reading segments (a tagger with a
            character encoder, a hierarchical model: `sequence_length` segments).
        word_length: TFLite only: characters per word of a `characters`
            input (default: the width of `inputs["characters"]`).
        streaming: export `model.streaming_model()` (a `many_to_many` model:
            one step, recurrent states in and out) instead of the model, and
            also check that stepping the artifact through whole sequences
            gives the model's per-step outputs.
        quantize: TFLite only: None, "dynamic" (int8 weights), "float16", or
            "int8" (weights and activations, calibrated on
            `representative_data`). int8 calibrates an unrolled copy of the
            recurrent loops (so `sequence_length` must be fixed) and, for
            fused LSTMs, the fused kernel too, and keeps the file closer to
            the Keras model (`report["int8_forms"]`; see `_int8_candidates`).
        inputs: real inputs for the parity check (an array, or a dict by
            input name); random valid inputs when None.
        representative_data: for int8, a list of input dicts (a few training
            batches); by default batches of `inputs`.
        allow_flex: accept select-TF (Flex) or custom ops in TFLite.
        tolerance: the largest max-abs difference accepted for a float
            export, relative to the outputs' scale (`output_scale`: the
            largest magnitude of the Keras model's float outputs, at least
            1); quantized exports report the difference without a limit.
        fuse_lstm: TFLite only: Keras LSTMs become TFLite's fused
            `UNIDIRECTIONAL_SEQUENCE_LSTM` kernel where it computes them
            exactly (`exporting/fused_lstm.py`); False keeps their `WHILE`
            loops. The fused kernel keeps its states in variable tensors
            that outlive an invocation: reset them before each new sequence
            (`interpreter.reset_all_variables()`; Java
            `resetVariableTensors()`); `tflite.signature_runner` does.

    Returns the report (also written as `export.json` in the folder): format,
    files and sizes, ops (TFLite), parity numbers, and seconds taken.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
    if quantize is not None and format != "tflite":
        raise ValueError("quantize applies to format='tflite' only.")
    if quantize not in tflite.QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {tflite.QUANTIZATIONS}, got {quantize!r}.")
    if format == "onnx":  # PyTorch's exporter, on the torch backend (`exporting/onnx.py`)
        if streaming or batch_size or target_length:
            raise ValueError("format='onnx' takes a dynamic batch; streaming, batch_size and target_length are "
                             "TFLite's options.")
        from rnnzoo.exporting.onnx import export_onnx

        return export_onnx(model, path, inputs=_check_inputs(model, inputs, None, None, word_length) if inputs
                           is not None else None, tolerance=tolerance, sequence_length=sequence_length)
    require_tensorflow("export")
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"path {path} exists and is not a folder.")
    if os.path.isdir(path) and os.listdir(path):
        if not overwrite:
            raise ValueError(f"path {path} already holds files; pass overwrite=True to replace them.")
        if not is_export(path):  # never replace a folder rnnzoo did not write
            raise ValueError(f"path {path} holds files that are not an rnnzoo export (no {REPORT_FILE}); they "
                             "are left as they are: pick an empty or new folder.")
    whole = model
    if streaming:
        if not hasattr(model, "streaming_model"):
            raise ValueError(f"streaming=True: {type(model).__name__} has no one-step model; streaming is for "
                             "unidirectional many_to_many models (taggers, language models).")
        model = model.streaming_model()
        sequence_length = 1
    if format == "tflite":
        # A fixed batch keeps the recurrent loop in builtin ops; a dynamic
        # batch brings FlexTensorList* ops (Keras 3.15 / TF 2.21).
        batch_size = batch_size or 1
    start = time.perf_counter()
    given = inputs is not None
    inputs = _check_inputs(model, inputs, batch_size, sequence_length, word_length,
                           config=whole.get_config() if streaming else None)
    if streaming and not given:
        inputs = _with_reached_states(model, inputs, whole.get_config())
    nested = [tensor.name for tensor in model.inputs if is_nested(tensor)]
    if format == "tflite" and nested:
        # A segment encoder (characters of words, words of sentences) reads
        # (batch * segments) segments at once: both dimensions must be fixed
        # for its loop to stay builtin.
        if sequence_length is None:
            raise ValueError(f"`{nested[0]}`: a model reading segments (a character encoder's words, a hierarchical "
                             "model's sentences) needs a fixed sequence_length for TFLite.")
        word_length = word_length or np.asarray(inputs[nested[0]]).shape[2]
    with scratch_folder(path) as scratch:
        report = {"format": format, "quantize": quantize, "signature": SIGNATURE,
                  "model": type(whole).__name__, "streaming": bool(streaming)}
        saved_model_dir = os.path.join(scratch, "saved_model")
        tflite_specs = format == "tflite"
        specs = input_specs(model, batch_size, sequence_length if tflite_specs else None,
                            target_length if tflite_specs else None, word_length if tflite_specs else None)
        with _tflite_forms(fuse_lstm) if format == "tflite" else contextlib.nullcontext():
            _write_saved_model(model, saved_model_dir, specs)
        if format == "tflite":
            report.update(_export_tflite(model, scratch, saved_model_dir, specs, inputs, quantize,
                                         representative_data, allow_flex, tolerance), fuse_lstm=bool(fuse_lstm))
            shutil.rmtree(saved_model_dir)
            artifact = tflite.signature_runner(load_tflite(scratch), SIGNATURE)
        else:
            report.update(_check_saved_model(model, saved_model_dir, specs, inputs, tolerance))
            artifact = _saved_model_runner(saved_model_dir)
        if streaming:
            report["stream_parity"] = _check_stream(whole, model, artifact, specs, word_length,
                                                    None if quantize else tolerance)
        report["inputs"] = {s.name: [d if d is not None else "any" for d in s.shape] for s in specs}
        report["seconds"] = round(time.perf_counter() - start, 2)
        write_json(os.path.join(scratch, REPORT_FILE), report)
        replace_folder(scratch, path)
        return report


def is_export(folder):
    """Whether `folder` is an export rnnzoo wrote (it holds `export.json`)."""
    return os.path.isfile(os.path.join(folder, REPORT_FILE))


def _saved_model_runner(folder):
    signature = tf.saved_model.load(folder).signatures[SIGNATURE]
    return lambda batch: {k: v.numpy() for k, v in signature(**{n: tf.constant(x) for n, x in batch.items()}).items()}


def _check_saved_model(model, folder, specs, inputs, tolerance):
    expected = _keras_outputs(model, inputs, specs)
    found = _saved_model_runner(folder)({s.name: inputs[s.name] for s in specs})
    difference, scale = _max_abs_diff(expected, found), output_scale(expected)
    _require_parity(difference, tolerance, scale, "SavedModel")
    size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(folder) for f in files)
    return {"files": {"saved_model": "saved_model"}, "size_bytes": size,
            "parity": {"max_abs_diff": difference, "tolerance": tolerance, "scale": scale,
                       "examples": len(next(iter(inputs.values())))}}


def _check_stream(whole, step, artifact, specs, word_length, tolerance, length=8):
    """Step the exported one-step model through whole sequences, carrying
    its states, and compare each step's logits with the full model's."""
    batch_size = specs[0].shape[0] or 2
    sequences = example_inputs(whole, length=length, batch_size=batch_size, seed=1,
                               word_length=word_length or WORD_LENGTH)
    full = whole(sequences if isinstance(whole.input, dict) else next(iter(sequences.values())), training=False)
    full = np.asarray(full)
    states = {s.name: np.zeros([batch_size, *s.shape[1:]], "float32") for s in specs if s.name.startswith("state_")}
    difference, scale = 0.0, output_scale({"logits": full})
    for t in range(length):
        feed = {name: value[:, t:t + 1] for name, value in sequences.items()}
        outputs = artifact({**_fit_to_length(feed, [s for s in specs if s.name in feed]), **states})
        difference = max(difference, float(np.max(np.abs(outputs["logits"] - full[:, t]))))
        states = {name: outputs[name] for name in states}
    if tolerance is not None:
        _require_parity(difference, tolerance, scale, "Streaming")
    return {"max_abs_diff": difference, "steps": length, "sequences": batch_size, "tolerance": tolerance,
            "scale": scale}


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
    # Keras' outputs for every batch in one call (one eager pass over the
    # steps instead of one per batch: 30 s less for the speech recipe).
    together = _keras_outputs(model, {name: np.concatenate([b[name] for b in batches]) for name in batches[0]},
                              specs)

    def parity(content):
        runner = tflite.signature_runner(content, SIGNATURE)
        difference = 0.0
        for index, batch in enumerate(batches):
            expected = {name: value[index * fixed_batch:(index + 1) * fixed_batch] for name, value in together.items()}
            difference = max(difference, _max_abs_diff(expected, runner(batch)))
        return difference

    int8_forms = {}
    if quantize == "int8":
        content, difference, int8_forms = _int8_candidates(model, scratch, saved_model_dir, specs, representative_data,
                                                           allow_flex, parity)
    else:
        content = tflite.convert(saved_model_dir, SIGNATURE, quantize, representative_data, allow_flex)
        difference = parity(content)
    ops = tflite.model_ops(content)
    refused = tflite.check_builtin_only(ops, allow_flex)
    with open(os.path.join(scratch, TFLITE_FILE), "wb") as f:
        f.write(content)
    scale = output_scale(together)
    if quantize is None:
        _require_parity(difference, tolerance, scale, "TFLite")
    report = {"files": {"tflite": TFLITE_FILE}, "size_bytes": len(content), "ops": ops,
              "micro_unsupported_ops": micro_check(content)["unsupported"],
              "non_builtin_ops": refused,
              "parity": {"max_abs_diff": difference, "tolerance": None if quantize else tolerance, "scale": scale,
                         "examples": fixed_batch * len(batches)}}
    if int8_forms:
        report["int8_forms"] = int8_forms
    return report


def _int8_candidates(model, scratch, saved_model_dir, specs, representative_data, allow_flex, parity):
    """Full-integer TFLite: `(content, max abs diff, {form: diff})`.

    TF 2.21's calibrator crashes on WHILE loops, so a loop is calibrated
    unrolled. Fused LSTMs have none, and their integer kernel is smaller and
    can be much closer to the float model (an EWT tagger: -0.1 accuracy points
    fused, -5.6 unrolled) or much further (an SST-2 classifier: -25 fused, 0
    unrolled): where both forms exist, both are calibrated and the one
    closer to the Keras model on the check inputs is kept."""
    forms = {}
    loop = tflite.has_loop(tflite.convert(saved_model_dir, SIGNATURE, allow_flex=allow_flex))
    if not loop:
        forms["fused" if needs_unrolling(model) else "as is"] = saved_model_dir
    if needs_unrolling(model) and (loop or None not in [d for spec in specs for d in spec.shape]):
        forms["unrolled"] = os.path.join(scratch, "unrolled_saved_model")  # needs fixed shapes
        _write_saved_model(unrolled_copy(model, specs), forms["unrolled"], specs, names=output_names(model))
    forms = forms or {"as is": saved_model_dir}  # a loop that cannot unroll: `tflite.convert` refuses it
    found = {}
    for form, source in forms.items():
        checked = source == saved_model_dir and not loop  # checked above; an unrolled copy is checked in convert
        content = tflite.convert(source, SIGNATURE, "int8", representative_data, allow_flex, loop_free=checked)
        found[form] = (content, parity(content))
    if "unrolled" in forms:
        shutil.rmtree(forms["unrolled"])
    best = min(found, key=lambda form: found[form][1])
    return found[best][0], found[best][1], {form: {"max_abs_diff": diff, "kept": form == best}
                                           for form, (_, diff) in found.items()}


class ParityError(ValueError):
    """An export computes something other than the Keras model; nothing was written."""


def _require_parity(difference, tolerance, scale, what):
    if not difference <= tolerance * scale:
        raise ParityError(f"{what} export differs from the Keras model by {difference:.3g} (max abs), above "
                          f"tolerance={tolerance} x the outputs' scale {scale:.3g}; nothing was written.")


def load_tflite(path):
    """Bytes of `model.tflite` in an export folder (or the file itself)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, TFLITE_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no TFLite model here.")
    with open(path, "rb") as f:
        return f.read()
