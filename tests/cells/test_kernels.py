"""The kernel report names what each recurrent layer ran on this backend
(run under TensorFlow, JAX and torch): PyTorch's fused kernel on torch,
Keras' loop on a TensorFlow or JAX CPU, an efficient cell's own forms, and
why a layer was not fused."""

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.cells.kernels import kernel_report, tflite_kernel
from rnnzoo.cells.projected import _on_accelerator

BACKEND = keras.backend.backend()
CPU_ONLY = not _on_accelerator()


def _kernels(cell, tokens, **options):
    model = rnnzoo.build_model("many_to_one", vocab_size=20, num_classes=3, units=4, embedding_dim=4, cell=cell,
                               **options)
    model(tokens)  # a call records the kernel, as training's trace does
    return {(row["layer"].split("/")[-1], row["kernel"], row["why_not_fused"]) for row in kernel_report(model)}


def _tokens(length=6, padded=True):
    tokens = np.random.default_rng(0).integers(1, 20, (4, length)).astype("int32")
    if padded:
        tokens[:2, length - 2:] = 0  # right padding: a padding mask
    return tokens


@pytest.mark.skipif(not CPU_ONLY, reason="the CPU kernels; on a GPU, cuDNN")
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_standard_cells_report_the_kernel_they_ran(cell):
    found = _kernels(cell, _tokens(), bidirectional=True)
    assert len(found) == 2  # both directions
    kernels = {(kernel, why) for _, kernel, why in found}
    if BACKEND == "torch":
        assert kernels == {("pytorch_fused", None)}  # right padding stays in PyTorch's kernel
        holes = _tokens()
        holes[0, 1] = 0  # a mask with a hole: Keras' loop, and the report says why
        assert {(k, w) for _, k, w in _kernels(cell, holes, bidirectional=False)} == {
            ("keras_loop", "a mask that is not right padding")}
    elif BACKEND == "jax":
        assert kernels == {("keras_loop", "a padding mask (JAX's cuDNN path takes none)")}
    else:
        assert kernels == {("keras_loop", "no GPU (cuDNN runs on GPUs only)")}
    unfused = _kernels(cell, _tokens(), bidirectional=False, recurrent_dropout=0.1)
    assert {(k, w) for _, k, w in unfused} == {("keras_loop", "recurrent_dropout")}


def test_other_cells_report_their_own_forms():
    assert {k for _, k, _ in _kernels("simple", _tokens())} == {"keras_loop"}
    assert {w for _, _, w in _kernels("simple", _tokens())} == {"Keras has no fused kernel for SimpleRNNCell"}
    if CPU_ONLY:  # a linear recurrence loops on a CPU; a matrix memory takes chunks of a long sequence
        assert {(k, w) for _, k, w in _kernels("min_gru", _tokens())} == {("step_loop",
                                                                            "on a CPU the step loop is faster")}
    assert {k for _, k, _ in _kernels("mlstm", _tokens(length=80, padded=False))} == {"chunked_scan"}


def test_a_tflite_files_kernel_comes_from_its_ops():
    assert tflite_kernel(["FULLY_CONNECTED", "UNIDIRECTIONAL_SEQUENCE_LSTM"]) == "tflite_fused_lstm"
    assert tflite_kernel(["WHILE", "FULLY_CONNECTED"]) == "tflite_while_loop"
    assert tflite_kernel(["FULLY_CONNECTED", "TANH"]) is None
