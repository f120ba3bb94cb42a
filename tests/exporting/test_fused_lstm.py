"""Keras LSTMs exported as TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM kernel:
the op list, parity with Keras on padded and unpadded batches (forward,
backward, bidirectional, stacked), quantized weights in the kernel, the
LSTMs that keep their loop, the kernel's states that outlive a call, and the
TFLite Micro op check."""

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.exporting import example_inputs, export, load_tflite, tflite
from rnnzoo.exporting.fused_lstm import FUSED_OP, why_not_fused
from rnnzoo.exporting.micro import micro_check

LENGTH = 9


def _layer_model(go_backwards, return_sequences, zero_output_for_mask=False, units=5):
    inputs = keras.Input((None, 3), batch_size=3)
    masked = keras.layers.Masking(0.0)(inputs)
    layer = keras.layers.LSTM(units, go_backwards=go_backwards, return_sequences=return_sequences,
                              zero_output_for_mask=zero_output_for_mask)
    return keras.Model(inputs, layer(masked))


@pytest.mark.parametrize("go_backwards, return_sequences, zero_output_for_mask", [
    (False, True, False), (False, True, True), (False, False, False), (True, True, True), (True, False, False)])
def test_one_layer_matches_keras_at_every_position_with_right_padding(go_backwards, return_sequences,
                                                                      zero_output_for_mask, tmp_path):
    """Real lengths 9, 4 and 1 (and whole batches): padded positions get
    exactly what Keras gives them too (the last output, or zeros)."""
    model = _layer_model(go_backwards, return_sequences, zero_output_for_mask)
    x = np.random.default_rng(0).normal(size=(6, LENGTH, 3)).astype("float32")
    x[1, 4:] = x[2, 1:] = x[4, 6:] = 0.0
    report = export(model, tmp_path / "m", format="tflite", batch_size=3, inputs=x)
    assert FUSED_OP in report["ops"] and "WHILE" not in report["ops"]
    assert report["parity"]["max_abs_diff"] < 1e-5  # the exporter compares every output position


@pytest.mark.parametrize("topology, options", [
    ("many_to_one", dict(bidirectional=True, num_layers=2)),
    ("many_to_many", dict(bidirectional=True, num_layers=2)),
    ("many_to_many", dict(bidirectional=False, num_layers=2)),
])
def test_builders_lstms_export_fused_at_any_length(topology, options, tmp_path):
    """Classifiers, taggers and language models of stacked (bi)LSTMs: every
    LSTM is fused, no loop is left, the length stays dynamic, and padded
    and unpadded batches match Keras."""
    model = rnnzoo.build_model(topology, vocab_size=40, num_classes=5, units=8, **options)
    inputs = example_inputs(model, length=LENGTH, batch_size=4, seed=2)  # right-padded, random lengths
    report = export(model, tmp_path / "m", format="tflite", inputs=inputs)
    assert report["parity"]["max_abs_diff"] < 1e-4 and report["inputs"]["tokens"] == [1, "any"]
    assert "WHILE" not in report["ops"] and report["non_builtin_ops"] == []
    content = load_tflite(tmp_path / "m")
    fused = [op for op in tflite.make_interpreter(content)._get_ops_details() if op["op_name"] == FUSED_OP]
    assert len(fused) == 2 * (2 if options["bidirectional"] else 1)  # one per direction and layer
    runner = tflite.signature_runner(content, "serving_default")
    for length in (3, 14):  # unpadded sequences of other lengths
        tokens = np.random.default_rng(length).integers(1, 40, (1, length)).astype("int32")
        found = next(iter(runner({"tokens": tokens}).values()))
        np.testing.assert_allclose(found, model.predict(tokens, verbose=0), atol=1e-4)


def test_the_fused_kernels_states_outlive_a_call_until_reset(tmp_path):
    """TFLite keeps the fused kernel's states in variable tensors: a second
    call continues from the first one's last state unless the interpreter
    resets them (`signature_runner` does after every call)."""
    model = rnnzoo.build_model("many_to_many", vocab_size=40, num_classes=5, units=8, bidirectional=False)
    export(model, tmp_path / "m", format="tflite", inputs=example_inputs(model, LENGTH, 2))
    tokens = np.random.default_rng(1).integers(1, 40, (1, LENGTH)).astype("int32")
    expected = model.predict(tokens, verbose=0)
    interpreter = tflite.make_interpreter(load_tflite(tmp_path / "m"))
    runner = interpreter.get_signature_runner("serving_default")
    first, second = (next(iter(runner(tokens=tokens).values())) for _ in range(2))
    np.testing.assert_allclose(first, expected, atol=1e-4)
    assert np.abs(second - expected).max() > 1e-3
    interpreter.reset_all_variables()
    np.testing.assert_allclose(next(iter(runner(tokens=tokens).values())), expected, atol=1e-4)
    ours = tflite.signature_runner(load_tflite(tmp_path / "m"), "serving_default")
    for _ in range(2):
        np.testing.assert_allclose(next(iter(ours({"tokens": tokens}).values())), expected, atol=1e-4)


def test_quantized_weights_keep_the_fused_kernel(tmp_path):
    """Dynamic-range (int8 weights) and float16 exports keep the fused
    kernel, at a fraction of the size; full int8 tries the fused and the
    unrolled forms (see fused_lstm.py)."""
    model = rnnzoo.build_model("many_to_one", vocab_size=500, num_classes=3, units=32, bidirectional=True)
    inputs = example_inputs(model, length=LENGTH, batch_size=8, seed=3, pad_to=LENGTH)
    base = export(model, tmp_path / "float", format="tflite", sequence_length=LENGTH, inputs=inputs)
    for quantize, ratio in (("dynamic", 0.3), ("float16", 0.55)):
        report = export(model, tmp_path / quantize, format="tflite", sequence_length=LENGTH, inputs=inputs,
                        quantize=quantize)
        assert FUSED_OP in report["ops"] and "WHILE" not in report["ops"]
        assert report["size_bytes"] < ratio * base["size_bytes"] and report["parity"]["max_abs_diff"] < 0.01
    interpreter = tflite.make_interpreter(load_tflite(tmp_path / "dynamic"))
    tensors = interpreter.get_tensor_details()
    lstm_inputs = [i for op in interpreter._get_ops_details() if op["op_name"] == FUSED_OP for i in op["inputs"]]
    assert {tensors[i]["dtype"] for i in lstm_inputs[1:9] if i >= 0} == {np.int8}  # input and recurrent weights
    # Full int8: both the fused and the unrolled forms are calibrated; the one closer to Keras is kept.
    report = export(model, tmp_path / "int8", format="tflite", sequence_length=LENGTH, inputs=inputs,
                    quantize="int8")
    forms = report["int8_forms"]
    assert set(forms) == {"fused", "unrolled"} and "WHILE" not in report["ops"]
    kept = min(forms, key=lambda form: forms[form]["max_abs_diff"])
    assert forms[kept]["kept"] and report["parity"]["max_abs_diff"] == forms[kept]["max_abs_diff"]
    assert (FUSED_OP in report["ops"]) == (kept == "fused")
    # At a dynamic length only the fused kernel can be calibrated (unrolling needs fixed shapes).
    report = export(model, tmp_path / "int8_any_length", format="tflite", inputs=inputs, quantize="int8")
    assert set(report["int8_forms"]) == {"fused"} and FUSED_OP in report["ops"]


def test_lstms_whose_states_are_passed_on_keep_their_loop():
    layer = keras.layers.LSTM(4, return_state=True)
    assert why_not_fused(layer) == "it returns its states"
    assert why_not_fused(keras.layers.LSTM(4), initial_state=[1, 2]) == "it is given initial states"
    assert why_not_fused(keras.layers.LSTM(4, activation="relu")) == "its activations are not tanh/sigmoid"
    assert why_not_fused(keras.layers.LSTM(4)) is None


def test_micro_check_passes_a_fused_classifier_and_flags_ops_tflm_lacks(tmp_path):
    """The fused LSTM classifier's ops are all in TFLite Micro's resolver;
    an encoder-decoder's graph holds REDUCE_PROD, which TFLM lacks."""
    classifier = rnnzoo.build_model("many_to_one", vocab_size=40, num_classes=3, units=8, bidirectional=False)
    report = export(classifier, tmp_path / "c", format="tflite", inputs=example_inputs(classifier, LENGTH, 2))
    check = micro_check(load_tflite(tmp_path / "c"))
    assert check["micro_ready"] and FUSED_OP in check["ops"] and report["micro_unsupported_ops"] == []
    translator = rnnzoo.build_model("encoder_decoder", source_vocab_size=40, target_vocab_size=30, units=8)
    report = export(translator, tmp_path / "t", format="tflite", inputs=example_inputs(translator, LENGTH, 2))
    check = micro_check(load_tflite(tmp_path / "t"))
    assert not check["micro_ready"] and "REDUCE_PROD" in check["unsupported"]
    assert report["micro_unsupported_ops"] == check["unsupported"]
    assert check["ops"]["FULLY_CONNECTED"] and not check["ops"]["REDUCE_PROD"]
