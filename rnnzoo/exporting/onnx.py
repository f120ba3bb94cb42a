"""ONNX export through PyTorch's exporter, on the torch backend.

rnnzoo's `lstm` and `gru` run PyTorch's fused kernels on the torch backend
(`cells.torch_kernels`), which PyTorch's ONNX exporter writes as ONNX `LSTM`
and `GRU` ops (one per direction and layer), with a dynamic batch and
length. Right padding is handled around them as in training: the padded
steps' outputs are masked and each sequence's last output is read at its
length, so a padded batch gives the Keras model's outputs at every real
position. While tracing, the kernel assumes right padding (what every
rnnzoo pipeline makes), since a traced graph cannot branch on a batch's
values; a mask with holes is Keras' loop on the torch backend and is not
what an exported graph computes. Other cells export as plain ops.

Measured alternatives: Keras' own `model.export(format="onnx")` on the
TensorFlow backend goes through tf2onnx, which turns a Keras LSTM into a
loop of plain ops rather than ONNX's `LSTM` (and a cuDNN-traced one fails on
`CudnnRNNV3`); on the torch backend the same Keras call is PyTorch's
exporter, which is what this module runs (TorchScript tracing, since the
batch and length are dynamic) and checks against ONNX Runtime.

Text tasks' tokenization stays outside the graph: the file takes token ids
(`tokens`), as the TFLite files do.
"""

import os
import time
import warnings

import keras
import numpy as np

from rnnzoo.cells.kernels import kernel_report
from rnnzoo.exporting.example_inputs import example_inputs
from rnnzoo.exporting.exporter import (REPORT_FILE, TOLERANCE, _max_abs_diff, _require_parity, is_export,
                                       output_scale)
from rnnzoo.utils.files import replace_folder, scratch_folder, write_json

FILE = "model.onnx"


def require_onnx():
    """onnx and onnxruntime, or one line saying how to install them."""
    try:
        import onnx
        import onnxruntime
    except ImportError:
        raise ImportError("ONNX export needs onnx and onnxruntime: pip install \"rnnzoo[torch]\" (they come with "
                          "the torch extra).") from None
    return onnx, onnxruntime


def export_onnx(model, path, inputs=None, tolerance=TOLERANCE, opset_version=18, sequence_length=None):
    """Write `path/model.onnx` (and `export.json`) from `model` on the torch
    backend and check it with ONNX Runtime against Keras on `inputs` (a
    dict by input name; random right-padded inputs when None). Returns the
    report: ops, inputs, parity, size, onnxruntime version.

    `sequence_length`: the file's fixed length (its inputs' shapes but the
    batch, as the check's inputs have them). A model whose recurrent layers
    all run PyTorch's fused kernels takes any length without it; one with
    another cell (a step loop, which the exporter unrolls at the length it
    traces) needs it."""
    if keras.backend.backend() != "torch":
        raise ValueError(f"ONNX export runs on the torch backend (PyTorch's exporter writes rnnzoo's LSTM and GRU "
                         f"as ONNX LSTM / GRU ops); this process runs {keras.backend.backend()}: set "
                         "KERAS_BACKEND=torch (a .keras file saved under any backend loads there).")
    onnx, onnxruntime = require_onnx()
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path) and os.listdir(path) and not is_export(path):
        raise ValueError(f"path {path} holds files that are not an rnnzoo export (no {REPORT_FILE}); they are left "
                         "as they are: pick an empty or new folder.")
    start = time.perf_counter()
    if inputs is None:
        length = sequence_length or 16
        inputs = example_inputs(model, length=max(1, length * 3 // 4), batch_size=4, pad_to=length)
    inputs = {name: np.asarray(value) for name, value in inputs.items()}
    expected = _keras_outputs(model, inputs)  # records the kernel each recurrent layer ran
    looped = [row for row in kernel_report(model) if row["kernel"] != "pytorch_fused"]
    if looped and sequence_length is None:
        raise ValueError(f"{looped[0]['layer']} ({looped[0]['cell']}) runs {looped[0]['kernel']} on torch, which "
                         "the ONNX exporter unrolls at the length it traces: pass sequence_length (rnnzoo export "
                         "--sequence-length N) for a file of that fixed length; lstm and gru take any length.")
    signature = None
    if sequence_length is not None:  # every shape fixed but the batch
        specs = {name: keras.InputSpec(shape=(None, *value.shape[1:]), dtype=str(value.dtype), name=name)
                 for name, value in inputs.items()}
        signature = [specs] if len(model.inputs) > 1 else [specs[model.inputs[0].name]]
    with scratch_folder(path) as scratch:
        file = os.path.join(scratch, FILE)
        with warnings.catch_warnings():  # the tracer's notes on constants, and a batch-size caution the
            warnings.simplefilter("ignore")  # parity checks below (and the tests, at other sizes) answer
            model.export(file, format="onnx", verbose=False, opset_version=opset_version, input_signature=signature)
        graph = onnx.load(file)
        try:
            session = onnxruntime.InferenceSession(file, providers=["CPUExecutionProvider"])
            found = session.run(None, {i.name: inputs[i.name] for i in session.get_inputs()})
        except Exception as error:  # noqa: BLE001  (ONNX Runtime's own error classes, on a file it refuses)
            kernels = ", ".join(sorted({row["kernel"] for row in kernel_report(model)}))
            raise ValueError(f"ONNX Runtime cannot run the exported file ({str(error).splitlines()[0][:300]}); "
                             f"the model's recurrent kernels: {kernels}. lstm, gru and simple export; the "
                             "efficient cells' scans do not yet.") from error
        difference = _max_abs_diff(dict(enumerate(expected)), dict(enumerate(found)))
        scale = output_scale(dict(enumerate(expected)))
        _require_parity(difference, tolerance, scale, "ONNX")
        report = {"format": "onnx", "quantize": None, "model": type(model).__name__, "file": FILE, "size_bytes": os.path.getsize(file),
                  "ops": sorted({node.op_type for node in graph.graph.node}), "opset": opset_version,
                  "inputs": {i.name: [d if isinstance(d, int) else "any" for d in i.shape]
                             for i in session.get_inputs()},
                  "parity": {"max_abs_diff": difference, "tolerance": tolerance, "scale": scale,
                             "examples": len(next(iter(inputs.values()))), "checked_by": "onnxruntime "
                             + onnxruntime.__version__},
                  "seconds": round(time.perf_counter() - start, 2)}
        write_json(os.path.join(scratch, REPORT_FILE), report)
        replace_folder(scratch, path)
    return report


def _keras_outputs(model, inputs):
    """The model's outputs on `inputs`, flattened as the ONNX file's are."""
    found = model(inputs if len(model.inputs) > 1 else inputs[model.inputs[0].name], training=False)
    return [keras.ops.convert_to_numpy(value) for value in keras.tree.flatten(found)]
