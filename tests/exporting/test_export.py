"""Export to SavedModel and builtin-only TFLite: parity with Keras in this
process and in a fresh one, Flex detection, quantization, clean failures."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnzoo
from rnnzoo.exporting import example_inputs, export, load_tflite, model_ops, run
from rnnzoo.exporting import exporter
from rnnzoo.exporting import tflite as tflite_module
from rnnzoo.exporting.signatures import input_specs, serving_function

LENGTH, TARGET_LENGTH = 9, 6
MODELS = {
    "many_to_one": dict(vocab_size=40, num_classes=3, bidirectional=True),
    "many_to_many": dict(vocab_size=40, num_classes=5, cell="gru"),
    "encoder_decoder": dict(source_vocab_size=40, target_vocab_size=30, attention="bahdanau"),
    "one_to_many": dict(input_dim=6, vocab_size=30),
}

FRESH_PROCESS = r"""
import json, sys
import numpy as np, tensorflow as tf
folder, inputs_path, out_path = sys.argv[1:]
inputs = dict(np.load(inputs_path))
saved = tf.saved_model.load(folder + "/saved_model/saved_model").signatures["serving_default"]
outputs = {"saved_model/" + k: v.numpy() for k, v in saved(**{k: tf.constant(v) for k, v in inputs.items()}).items()}
interpreter = tf.lite.Interpreter(model_path=folder + "/tflite/model.tflite")
runner = interpreter.get_signature_runner("serving_default")
for i in range(len(next(iter(inputs.values())))):
    for k, v in runner(**{k: v[i:i + 1] for k, v in inputs.items()}).items():
        outputs.setdefault("tflite/" + k, []).append(v[0])
    interpreter.reset_all_variables()  # a fused LSTM's states outlive a call (see the README)
np.savez(out_path, **{k: np.asarray(v) for k, v in outputs.items()})
"""


def _build(topology):
    return rnnzoo.build_model(topology, units=6, **MODELS[topology])


def _keras_outputs(model, inputs):
    specs = input_specs(model)
    outputs = serving_function(model, specs)(*[tf.constant(inputs[s.name]) for s in specs])
    return {k: v.numpy() for k, v in outputs.items()}


@pytest.mark.parametrize("topology", sorted(MODELS))
def test_both_formats_reload_in_a_fresh_process_and_match_keras(topology, tmp_path):
    model = _build(topology)
    target = TARGET_LENGTH if "decoder_tokens" in [t.name for t in model.inputs] else None
    inputs = example_inputs(model, length=LENGTH, batch_size=3, seed=5, pad_to=LENGTH)
    if target:
        inputs["decoder_tokens"] = inputs["decoder_tokens"][:, :TARGET_LENGTH]
    saved = export(model, tmp_path / "saved_model", format="saved_model", inputs=inputs)
    lite = export(model, tmp_path / "tflite", format="tflite", sequence_length=LENGTH,
                  target_length=target, inputs=inputs)
    assert saved["parity"]["max_abs_diff"] <= 1e-4 and lite["parity"]["max_abs_diff"] <= 1e-4
    # LSTMs take the fused kernel, except where states are passed on (decoders, an encoder); GRUs loop.
    fused = topology == "many_to_one"
    assert lite["non_builtin_ops"] == [] and ("WHILE" in lite["ops"]) != fused
    assert ("UNIDIRECTIONAL_SEQUENCE_LSTM" in lite["ops"]) == fused
    assert json.loads((tmp_path / "tflite" / "export.json").read_text())["size_bytes"] == lite["size_bytes"]
    np.savez(tmp_path / "inputs.npz", **inputs)
    env = {**os.environ, "PYTHONPATH": ""}  # rnnzoo is not needed to serve
    subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(tmp_path), str(tmp_path / "inputs.npz"),
                    str(tmp_path / "out.npz")], check=True, env=env, cwd=tmp_path, capture_output=True)
    reloaded = dict(np.load(tmp_path / "out.npz"))
    expected = _keras_outputs(model, inputs)
    for name, value in expected.items():
        np.testing.assert_allclose(reloaded[f"saved_model/{name}"], value, atol=1e-4)
        np.testing.assert_allclose(reloaded[f"tflite/{name}"], value, atol=1e-4)


def test_tflite_files_run_on_litert_not_the_deprecated_tensorflow_interpreter(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from rnnzoo.exporting import make_interpreter

    model = _build("many_to_one")
    export(model, tmp_path / "t", format="tflite", sequence_length=LENGTH)
    assert isinstance(make_interpreter(load_tflite(tmp_path / "t")), Interpreter)


def test_tflite_pads_shorter_inputs_and_masking_keeps_outputs(tmp_path):
    model = _build("many_to_one")
    inputs = example_inputs(model, length=5, batch_size=2, seed=1)  # shorter than the fixed length
    report = export(model, tmp_path / "t", format="tflite", sequence_length=LENGTH, inputs=inputs)
    assert report["parity"]["max_abs_diff"] <= 1e-4
    found = run(load_tflite(tmp_path / "t"), {"tokens": np.pad(inputs["tokens"][:1], ((0, 0), (0, 4)))},
                "serving_default")
    np.testing.assert_allclose(found["output_0"] if "output_0" in found else next(iter(found.values())),
                               model.predict(inputs["tokens"][:1], verbose=0), atol=1e-4)


def test_dynamic_length_stays_builtin_and_runs_at_any_length(tmp_path):
    model = _build("many_to_many")
    report = export(model, tmp_path / "t", format="tflite", inputs=example_inputs(model, 7, 2))
    assert report["non_builtin_ops"] == [] and report["inputs"]["tokens"] == [1, "any"]
    content = load_tflite(tmp_path / "t")
    for length in (3, 11):
        tokens = example_inputs(model, length, 1, seed=length)["tokens"]
        found = next(iter(run(content, {"tokens": tokens}, "serving_default").values()))
        np.testing.assert_allclose(found, model.predict(tokens, verbose=0), atol=1e-4)


def test_flex_ops_are_detected_and_refused_unless_allowed(tmp_path):
    """A dynamic batch makes Keras' recurrent loop use FlexTensorList ops."""
    model = _build("many_to_many")
    exporter._write_saved_model(model, str(tmp_path / "sm"), input_specs(model, batch_size=None))
    content = tflite_module.convert(str(tmp_path / "sm"), "serving_default", allow_flex=True)
    ops = model_ops(content)
    assert any(op.startswith("Flex") for op in tflite_module.non_builtin_ops(ops))
    with pytest.raises(ValueError, match=r"non-builtin ops \['Flex"):
        tflite_module.check_builtin_only(ops)
    assert tflite_module.check_builtin_only(ops, allow_flex=True)
    with pytest.raises(ValueError, match="builtin ops only failed"):
        tflite_module.convert(str(tmp_path / "sm"), "serving_default")


@pytest.mark.parametrize("quantize", ["dynamic", "float16"])
def test_quantized_models_load_run_and_are_smaller(quantize, tmp_path):
    model = rnnzoo.build_model("many_to_one", vocab_size=500, num_classes=3, units=64)
    inputs = example_inputs(model, length=LENGTH, batch_size=8, seed=2, pad_to=LENGTH)
    base = export(model, tmp_path / "float", format="tflite", sequence_length=LENGTH, inputs=inputs)
    report = export(model, tmp_path / quantize, format="tflite", sequence_length=LENGTH, inputs=inputs,
                    quantize=quantize)
    assert report["size_bytes"] < 0.7 * base["size_bytes"]
    assert report["parity"]["tolerance"] is None and report["parity"]["max_abs_diff"] < 0.1
    assert report["non_builtin_ops"] == []


def test_bad_arguments_and_failed_exports_leave_nothing_behind(tmp_path):
    model = _build("many_to_one")
    with pytest.raises(ValueError, match=r"unrolling needs fixed input shapes; \['tokens'\]"):  # a GRU's loop
        export(_build("many_to_many"), tmp_path / "x", format="tflite", quantize="int8")
    with pytest.raises(ValueError, match="quantize must be one of"):
        export(model, tmp_path / "x", format="tflite", quantize="int4")
    with pytest.raises(ValueError, match="streaming=True: ManyToOne has no one-step model"):
        export(model, tmp_path / "x", streaming=True)
    with pytest.raises(ValueError, match="format must be one of"):
        export(model, tmp_path / "x", format="coreml")
    with pytest.raises(ValueError, match="quantize applies to format='tflite' only"):
        export(model, tmp_path / "x", quantize="dynamic")
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ValueError, match="is not a folder"):
        export(model, tmp_path / "file")
    with pytest.raises(ValueError, match="above tolerance"):
        export(model, tmp_path / "strict", format="tflite", sequence_length=LENGTH, tolerance=-1.0)
    assert sorted(os.listdir(tmp_path)) == ["file"]  # no half-written or temporary folders


def test_a_failed_export_keeps_the_previous_one(tmp_path):
    model = _build("many_to_one")
    export(model, tmp_path / "out", format="tflite", sequence_length=LENGTH)
    before = (tmp_path / "out" / "model.tflite").read_bytes()
    with pytest.raises(ValueError, match="above tolerance"):
        export(model, tmp_path / "out", format="tflite", sequence_length=LENGTH, tolerance=-1.0)
    assert (tmp_path / "out" / "model.tflite").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["out"]


TAGGER = dict(vocab_size=40, num_classes=5, units=6, char_vocab_size=20, char_embedding_dim=3, char_units=4)


def test_int8_calibrates_an_unrolled_copy_and_tracks_the_float_model(tmp_path):
    """Full-integer quantization: the loops are unrolled before calibration
    (calibrating a WHILE loop crashes TF 2.21), the result has no loop, and
    its outputs stay close to the float model's. (LSTMs skip the unrolling:
    test_fused_lstm.py.)"""
    model = rnnzoo.build_model("many_to_one", vocab_size=500, num_classes=3, units=32, bidirectional=True,
                               cell="gru")
    inputs = example_inputs(model, length=LENGTH, batch_size=16, seed=3, pad_to=LENGTH)
    report = export(model, tmp_path / "int8", format="tflite", sequence_length=LENGTH, inputs=inputs,
                    quantize="int8")
    assert "WHILE" not in report["ops"] and report["non_builtin_ops"] == []
    assert report["parity"]["max_abs_diff"] < 0.1
    content = load_tflite(tmp_path / "int8")
    found = run(content, {"tokens": inputs["tokens"][:1]}, "serving_default")["logits"]
    np.testing.assert_allclose(found, model.predict(inputs["tokens"][:1], verbose=0), atol=0.1)


def test_int8_conversion_of_a_loop_is_refused_before_it_can_crash(tmp_path):
    model = _build("many_to_one")
    exporter._write_saved_model(model, str(tmp_path / "sm"), input_specs(model, batch_size=1))
    batch = example_inputs(model, length=LENGTH, batch_size=1)
    with pytest.raises(ValueError, match="crashes TensorFlow 2.21's TFLite calibrator"):
        tflite_module.convert(str(tmp_path / "sm"), "serving_default", "int8", [batch])


@pytest.mark.parametrize("quantize", [None, "int8"])
def test_character_tagger_exports_to_tflite_at_fixed_lengths(quantize, tmp_path):
    model = rnnzoo.build_model("many_to_many", bidirectional=True, **TAGGER)
    inputs = example_inputs(model, length=LENGTH, batch_size=4, seed=4, pad_to=LENGTH, word_length=6)
    with pytest.raises(ValueError, match="character encoder.s words, a hierarchical model.s sentences. needs a fixed sequence_length"):
        export(model, tmp_path / "x", format="tflite", inputs=inputs)
    report = export(model, tmp_path / "tagger", format="tflite", sequence_length=LENGTH, inputs=inputs,
                    quantize=quantize)
    assert report["inputs"]["characters"] == [1, LENGTH, 6]
    assert report["non_builtin_ops"] == [] and report["parity"]["max_abs_diff"] < (0.1 if quantize else 1e-4)


STREAM_PROCESS = r"""
import sys
import numpy as np, tensorflow as tf
folder, inputs_path, out_path = sys.argv[1:]
inputs = dict(np.load(inputs_path))
runner = tf.lite.Interpreter(model_path=folder + "/model.tflite").get_signature_runner("serving_default")
states = {k: np.zeros(v["shape"], np.float32) for k, v in runner.get_input_details().items() if k.startswith("state_")}
logits = []
for t in range(inputs["tokens"].shape[1]):
    outputs = runner(tokens=inputs["tokens"][:, t:t + 1], **states)
    logits.append(outputs["logits"])
    states = {k: outputs[k] for k in states}
np.save(out_path, np.stack(logits, axis=1))
"""


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_streaming_tflite_carries_state_in_a_fresh_process(cell, tmp_path):
    """The one-step model, stepped through a sequence by a process without
    rnnzoo, gives the full model's per-step logits."""
    model = rnnzoo.build_model("many_to_many", vocab_size=40, num_classes=5, units=6, num_layers=2, cell=cell)
    report = export(model, tmp_path / "stream", format="tflite", streaming=True)
    assert report["streaming"] and report["stream_parity"]["max_abs_diff"] < 1e-4
    names = sorted(report["inputs"])
    assert names == ["state_0_0", "state_1_0", "tokens"] if cell == "gru" else len(names) == 5
    tokens = example_inputs(model, length=7, batch_size=1, seed=6)["tokens"]
    np.savez(tmp_path / "inputs.npz", tokens=tokens)
    script = tmp_path / "stream.py"
    script.write_text(STREAM_PROCESS)
    subprocess.run([sys.executable, str(script), str(tmp_path / "stream"), str(tmp_path / "inputs.npz"),
                    str(tmp_path / "out.npy")], check=True, env={**os.environ, "PYTHONPATH": ""})
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), model.predict(tokens, verbose=0), atol=1e-4)


def test_streaming_saved_model_of_a_character_crf_tagger(tmp_path):
    model = rnnzoo.build_model("many_to_many", output_layer="crf", **TAGGER)
    report = export(model, tmp_path / "stream", format="saved_model", streaming=True)
    assert report["stream_parity"]["max_abs_diff"] < 1e-4
    assert set(report["inputs"]) == {"tokens", "characters", "state_0_0", "state_0_1"}
    with pytest.raises(ValueError, match="bidirectional"):
        export(rnnzoo.build_model("many_to_many", bidirectional=True, **TAGGER), tmp_path / "x", streaming=True)


def test_chunked_cells_export_to_builtin_tflite_through_their_step_loop(tmp_path, monkeypatch):
    """Gated DeltaNet's chunked form solves a triangular system, which
    TFLite's builtin ops lack: TFLite graphs are traced with the step loop
    (`step_forms`), and the file still matches the Keras model, which runs
    the chunks (chunks of 4 here, so a length-8 input takes them). In the
    paper's block (its MLP and residual around the mixer)."""
    from rnnzoo.cells import projected

    monkeypatch.setattr(projected, "CHUNK", 4)
    model = rnnzoo.build_model("many_to_many", vocab_size=20, num_classes=4, units=8, num_layers=1,
                               cell="gated_deltanet", bidirectional=False, cell_options={"heads": 2, "block": True})
    report = export(model, tmp_path / "gdn", format="tflite", sequence_length=8)
    assert report["parity"]["max_abs_diff"] < 1e-4
    assert not tflite_module.non_builtin_ops(report["ops"])
    with projected.step_forms():
        assert projected._STEP_FORMS
    assert not projected._STEP_FORMS  # left as it was


def test_rg_lru_with_decays_near_one_keeps_tflite_parity(tmp_path):
    """A trained RG-LRU's decays a_t sit near 1, where sqrt(1 - a_t^2) needs
    1 - exp(x) for x near 0; TFLite's expm1 is exp(x) - 1, which drifted a
    language model 9e-4 from Keras until the cell took a series there."""
    model = rnnzoo.build_model("many_to_many", vocab_size=20, num_classes=4, units=8, num_layers=1, cell="rg_lru",
                               bidirectional=False)
    cell = next(layer for layer in model.layers if hasattr(layer, "cell")).cell
    cell.recurrent_param.assign(np.linspace(12.0, 16.0, 8).astype("float32"))  # a^c from 1 - 5e-5 to 1 - 1e-6
    kernel = keras.ops.convert_to_numpy(cell.kernel)
    kernel[:, :8] *= 1000.0  # u large, so that sqrt(1 - a^2) u (~1e-3 u) is not lost below the tolerance
    cell.kernel.assign(kernel)
    report = export(model, tmp_path / "rg_lru", format="tflite", sequence_length=64)
    assert report["parity"]["max_abs_diff"] < 1e-4


def test_one_minus_exp_is_accurate_near_zero():
    from rnnzoo.cells.linear_recurrent import one_minus_exp

    x = -np.logspace(-9, 1.5, 200).astype("float32")
    expected = -np.expm1(x.astype("float64"))
    np.testing.assert_allclose(np.asarray(one_minus_exp(x)), expected, rtol=1e-6)


def test_streaming_checks_states_a_sequence_reaches():
    """The one-step model's parity check feeds states reached from zero
    states, not random ones: an sLSTM normalizer near zero (random states)
    divides by it, and the check would measure noise (a trained sLSTM block
    differed by 9e-3 that way, by 1e-5 on reached states)."""
    model = rnnzoo.build_model("many_to_many", vocab_size=40, num_classes=5, units=8, cell="slstm",
                               bidirectional=False, cell_options={"heads": 2})
    step = model.streaming_model()
    random = example_inputs(step, 1, batch_size=4, config=model.get_config())
    assert (random["state_0_2"] <= 0).any()  # random normalizers: some negative
    reached = exporter._with_reached_states(step, random, model.get_config())
    assert (reached["state_0_2"] > 0).all() and reached["tokens"] is random["tokens"]
    assert not np.allclose(reached["state_0_0"], random["state_0_0"])


def test_each_tflite_variant_of_a_run_has_its_own_length_rule(tmp_path):
    """Issue 34: asking for int8 fixed every file's input length; now only the
    int8 file takes the longest training length, and each file is scored
    against Keras on inputs cut as that file's."""
    from rnnzoo.exporting.run_export import export_tflite_variants

    model = rnnzoo.build_model("many_to_one", vocab_size=30, num_classes=3, units=4, cell="gru",
                               bidirectional=False)
    rng = np.random.default_rng(0)
    examples = [{"tokens": rng.integers(1, 30, size=n).astype("int32")} for n in (3, 5, 7, 12) * 4]

    def longest_output(outputs):  # a "metric" that sees how many steps each file read
        return float(len(outputs))

    summary = export_tflite_variants(str(tmp_path), model, examples, longest_output,
                                     quantizations=("dynamic", "int8"), longest=7)
    assert summary["tflite"]["inputs"]["tokens"] == [1, "any"]
    assert summary["tflite_dynamic"]["inputs"]["tokens"] == [1, "any"]
    assert summary["tflite_int8"]["inputs"]["tokens"] == [1, 7]
    for name in ("tflite", "tflite_dynamic", "tflite_int8"):
        assert summary[name]["metric_delta"] == summary[name]["metric"] - summary[name]["keras_metric"]
        assert summary[name]["interpreter"].startswith("LiteRT (ai-edge-litert")  # a dependency: never tf.lite
    no_length = export_tflite_variants(str(tmp_path / "none"), model, examples, longest_output, quantizations=("int8",))
    assert no_length["tflite_int8"] == {"quantize": "int8", "error": "int8 needs a fixed input length: pass "
                                                                      "sequence_length or longest."}
    assert not os.path.exists(tmp_path / "none" / "tflite_int8")
