"""ONNX export (on the torch backend, through PyTorch's exporter): LSTM and
GRU become ONNX `LSTM` / `GRU` ops, the file takes any batch and length, and
ONNX Runtime gives the Keras model's outputs on right-padded batches. Run
under torch in CI (the TensorFlow run checks the one-line refusal)."""

import json
import os

import keras
import numpy as np
import pytest

import rnnzoo

ON_TORCH = keras.backend.backend() == "torch"
needs_torch = pytest.mark.skipif(not ON_TORCH, reason="ONNX export runs on the torch backend (CI's torch run)")


def _padded(batch, length, vocab, seed):
    tokens = np.random.default_rng(seed).integers(1, vocab, (batch, length)).astype("int32")
    for row, real in enumerate(np.random.default_rng(seed + 1).integers(1, length + 1, batch)):
        tokens[row, real:] = 0
    return tokens


@needs_torch
@pytest.mark.parametrize("topology,cell,op", [("many_to_one", "lstm", "LSTM"), ("many_to_many", "gru", "GRU")])
def test_onnx_export_has_recurrent_ops_and_matches_keras_on_padded_batches(topology, cell, op, tmp_path):
    import onnxruntime

    model = rnnzoo.build_model(topology, vocab_size=30, num_classes=4, units=8, embedding_dim=6, cell=cell,
                               bidirectional=True, num_layers=2)
    report = rnnzoo.export(model, tmp_path / "onnx", format="onnx")
    assert report["parity"]["max_abs_diff"] <= 1e-3 * report["parity"]["scale"]
    assert report["inputs"] == {"tokens": ["any", "any"]}
    assert op in report["ops"] and "Loop" not in report["ops"]  # one op per layer, both directions in it
    assert json.load(open(tmp_path / "onnx" / "export.json"))["ops"] == report["ops"]
    session = onnxruntime.InferenceSession(str(tmp_path / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"])
    for batch, length in ((1, 3), (5, 23)):  # other batch sizes and lengths than the check's
        tokens = _padded(batch, length, 30, batch)
        (found,) = session.run(None, {"tokens": tokens})
        expected = keras.ops.convert_to_numpy(model(tokens))
        if topology == "many_to_many":  # per-step outputs: the real steps
            found, expected = found[tokens > 0], expected[tokens > 0]
        np.testing.assert_allclose(found, expected, atol=1e-5 * max(1.0, float(np.abs(expected).max())))


@needs_torch
def test_a_cell_without_a_fused_kernel_exports_at_a_fixed_length(tmp_path):
    """A step loop is unrolled at the length the exporter traces: without
    `sequence_length` the export says so in one line; with it, the file takes
    any batch at that length, with parity on padded batches."""
    model = rnnzoo.build_model("many_to_one", vocab_size=30, num_classes=3, units=8, embedding_dim=6, cell="simple",
                               bidirectional=True)
    with pytest.raises(ValueError, match=r"\(SimpleRNNCell\) runs keras_loop on torch.*pass sequence_length"):
        rnnzoo.export(model, tmp_path / "onnx", format="onnx")
    assert not os.path.exists(tmp_path / "onnx")
    report = rnnzoo.export(model, tmp_path / "onnx", format="onnx", sequence_length=10)
    assert report["inputs"] == {"tokens": ["any", 10]} and report["parity"]["max_abs_diff"] <= 1e-5
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"])
    tokens = _padded(7, 10, 30, 3)
    np.testing.assert_allclose(session.run(None, {"tokens": tokens})[0], keras.ops.convert_to_numpy(model(tokens)),
                               atol=1e-5)


def test_onnx_export_off_torch_is_one_clear_line(tmp_path):
    if ON_TORCH:
        pytest.skip("the refusal is for the other backends")
    model = rnnzoo.build_model("many_to_one", vocab_size=30, num_classes=2, units=4)
    with pytest.raises(ValueError, match="ONNX export runs on the torch backend .* set KERAS_BACKEND=torch"):
        rnnzoo.export(model, tmp_path / "onnx", format="onnx")
    assert not os.path.exists(tmp_path / "onnx")


@needs_torch
def test_rnnzoo_export_writes_a_runs_onnx_file(tmp_path, capsys):
    from rnnzoo import cli

    model = rnnzoo.build_model("many_to_many", vocab_size=30, num_classes=4, units=8, cell="lstm")
    os.makedirs(tmp_path / "run")
    model.save(tmp_path / "run" / "model.keras")
    cli.main(["export", str(tmp_path / "run"), "--format", "onnx"])
    assert "onnx: " in capsys.readouterr().out
    assert "LSTM" in json.load(open(tmp_path / "run" / "export" / "onnx" / "export.json"))["ops"]
