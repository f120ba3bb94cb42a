"""Every topology x every standard cell, and every variant: shapes, saving,
config (training: see the cases below); plus padding invariance and argument
checks per topology."""

import keras
import numpy as np
import pytest

import helpers
import rnnzoo

# Every topology with every standard cell, and every variant with its own
# cell, builds, saves and loads on TensorFlow; training there takes each
# topology with one cell (in turn) and every variant with its own, since the
# torch run (eager, so cheap) trains every topology with the LSTM and the GRU.
# The JAX run (its compiles are the slowest) takes each topology with one cell
# for shapes and saving and the other for training, so both cells meet every
# topology once.
ON_TENSORFLOW = keras.backend.backend() == "tensorflow"
ON_JAX = keras.backend.backend() == "jax"
CELLS = ["simple", "lstm", "gru"] if ON_TENSORFLOW else ["lstm", "gru"]
TOPOLOGIES = rnnzoo.list_topologies()
MODEL_NAMES = rnnzoo.list_models() if ON_TENSORFLOW else TOPOLOGIES


def _in_turn(shift):
    """Each topology with one of CELLS, taken in turn from `shift`."""
    return [(name, CELLS[(i + shift) % len(CELLS)]) for i, name in enumerate(TOPOLOGIES)]


VARIANTS = [(name, None) for name in MODEL_NAMES if name not in TOPOLOGIES]  # each with the cell it names
REGISTRY_X_CELLS = (_in_turn(0) if ON_JAX else [(name, cell) for name in TOPOLOGIES for cell in CELLS]) + VARIANTS
TRAINING_CASES = (_in_turn(1) if ON_JAX else _in_turn(0) if ON_TENSORFLOW else
                  [(name, cell) for name in TOPOLOGIES for cell in CELLS]) + VARIANTS


@pytest.mark.parametrize("name,cell", REGISTRY_X_CELLS)
def test_shapes_config_and_save_load(name, cell, tmp_path):
    model = helpers.build_tiny(name, **({"cell": cell} if cell else {}))
    helpers.run_output_shape_test(model)
    helpers.run_config_roundtrip_test(model)
    helpers.run_save_load_test(model, tmp_path)


@pytest.mark.parametrize("name,cell", TRAINING_CASES)
def test_a_few_steps_lower_the_loss(name, cell):
    helpers.run_training_test(helpers.build_tiny(name, **({"cell": cell} if cell else {})))


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _right_pad(array, extra):
    pad = [(0, 0), (0, extra)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, pad)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("input_kind", ["tokens", "features"])
def test_right_padding_leaves_real_positions_unchanged(cell, bidirectional, input_kind):
    source = {"tokens": dict(vocab_size=11), "features": dict(input_dim=3, vocab_size=None)}[input_kind]
    kwargs = dict(cell=cell, bidirectional=bidirectional, **source)
    classifier = helpers.build_tiny("many_to_one", **kwargs)
    tagger = helpers.build_tiny("many_to_many", **kwargs)
    inputs = helpers.make_inputs(classifier, length=5)
    padded = _right_pad(inputs, 4)
    np.testing.assert_allclose(_numpy(classifier(padded)), _numpy(classifier(inputs)), atol=1e-5)
    np.testing.assert_allclose(_numpy(tagger(padded))[:, :5], _numpy(tagger(inputs)), atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional,attention", [(False, None), (True, "luong"), (False, "bahdanau")])
def test_encoder_states_and_decoder_ignore_source_padding(cell, bidirectional, attention):
    model = helpers.build_tiny(
        "encoder_decoder", cell=cell, bidirectional=bidirectional, attention=attention
    )
    inputs = helpers.make_inputs(model, length=5)
    padded = dict(inputs, source_tokens=_right_pad(inputs["source_tokens"], 3))
    encoder, _ = model.inference_models()
    states, padded_states = encoder(inputs["source_tokens"]), encoder(padded["source_tokens"])
    for key in states:
        if key.startswith("state_"):
            np.testing.assert_allclose(_numpy(padded_states[key]), _numpy(states[key]), atol=1e-5)
    np.testing.assert_allclose(_numpy(model(padded)), _numpy(model(inputs)), atol=1e-5)


def _attention(layer):
    return lambda steps, axis: _numpy(layer(steps[None], mask=np.ones((1, len(steps)), bool)))[0]


@pytest.mark.parametrize("pooling,cell", [("max", "lstm"), ("mean", "gru"), ("attention", "gru")])
def test_pooling_reads_the_real_steps_of_the_last_layer(pooling, cell, tmp_path):
    model = helpers.build_tiny("many_to_one", cell=cell, bidirectional=True, num_layers=2, pooling=pooling)
    inputs = helpers.make_inputs(model, length=5)
    inputs[1, 3:] = 0  # a shorter sentence in the batch
    sequences = _numpy(keras.Model(model.inputs, model.get_layer("encoder_rnn_1").output)(inputs))
    pooled = _numpy(keras.Model(model.inputs, model.get_layer("pooling").output)(_right_pad(inputs, 4)))
    for row, length in enumerate((5, 3, 5)):
        reduce = {"max": np.max, "mean": np.mean}.get(pooling) or _attention(model.get_layer("pooling"))
        np.testing.assert_allclose(pooled[row], reduce(sequences[row, :length], axis=0), atol=1e-5)
    np.testing.assert_allclose(_numpy(model(_right_pad(inputs, 4))), _numpy(model(inputs)), atol=1e-5)
    helpers.run_save_load_test(model, tmp_path)


def test_sequence_pooling_of_an_empty_sequence_is_zero():
    layer = rnnzoo.layers.SequencePooling("max")
    values = -np.ones((2, 3, 4), "float32")
    mask = np.array([[True, False, False], [False, False, False]])
    np.testing.assert_array_equal(_numpy(layer(values, mask=mask)), [[-1.0] * 4, [0.0] * 4])


def test_unmasked_padding_would_change_the_output():
    """Guards the padding tests: without masking, padding does change outputs."""
    model = helpers.build_tiny("many_to_one", mask_zero=False, embedding_dim=4)
    inputs = helpers.make_inputs(model, length=5)
    assert np.abs(_numpy(model(_right_pad(inputs, 4))) - _numpy(model(inputs))).max() > 1e-4


def test_default_compile_matches_the_outputs():
    logits_model = helpers.build_tiny("many_to_one")
    assert logits_model.loss.get_config()["from_logits"] is True
    assert logits_model.optimizer.clipnorm == 1.0
    softmax_model = helpers.build_tiny("many_to_one", output_activation="softmax")
    assert softmax_model.loss.get_config()["from_logits"] is False
    probabilities = _numpy(softmax_model(helpers.make_inputs(softmax_model, 4)))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    tagger = helpers.build_tiny("many_to_many")
    assert tagger.loss.get_config()["ignore_class"] == 0
    regressor = helpers.build_tiny("lstm_regressor")
    assert isinstance(regressor.loss, keras.losses.MeanSquaredError)
    uncompiled = helpers.build_tiny("many_to_one", compile=False)
    assert not uncompiled.compiled


def test_softmax_tagger_never_decodes_the_padding_label():
    tagger = helpers.build_tiny("many_to_many")
    logits = np.array([[[9.0, 1.0, 2.0], [9.0, 3.0, 1.0], [9.0, 1.0, 2.0]]], "float32")  # padding scores highest
    decoded = _numpy(tagger.decode(logits, np.array([[True, True, False]])))
    np.testing.assert_array_equal(decoded, [[2, 1, 0]])


def test_masked_accuracy_ignores_padding_labels():
    metric = rnnzoo.metrics.MaskedAccuracy(ignore_class=0)
    labels = np.array([[1, 2, 0, 0]])
    logits = np.eye(3)[[[1, 1, 2, 1]]]  # right, wrong, then padding
    metric.update_state(labels, logits)
    assert float(metric.result()) == pytest.approx(0.5)


INVALID = [
    ("many_to_one", dict(vocab_size=10, input_dim=3), "exactly one of `vocab_size`"),
    ("many_to_one", dict(), "exactly one of `vocab_size`"),
    ("many_to_one", dict(vocab_size=10, units=0), "`units`"),
    ("many_to_one", dict(vocab_size=10, num_layers=0), "`num_layers`"),
    ("many_to_one", dict(vocab_size=10, dropout=1.5), "`dropout`"),
    ("many_to_one", dict(vocab_size=10, recurrent_dropout=-0.1), "`recurrent_dropout`"),
    ("many_to_one", dict(vocab_size=10, bidirectional=True, merge_mode="max"), "`merge_mode`"),
    ("many_to_one", dict(vocab_size=10, num_classes=1), "`num_classes`"),
    ("many_to_one", dict(vocab_size=10, task="ranking"), "`task`"),
    ("many_to_one", dict(vocab_size=10, output_activation="sigmoid"), "`output_activation`"),
    ("many_to_one", dict(vocab_size=10, pooling="sum"), "`pooling`"),
    ("many_to_many", dict(vocab_size=10, bidirectional="yes"), "`bidirectional`"),
    ("bidirectional", dict(vocab_size=10, bidirectional=False), "always bidirectional"),
    ("bidirectional", dict(vocab_size=10, head="parser"), "`head`"),
    ("encoder_decoder", dict(source_vocab_size=10), "`target_vocab_size`"),
    ("encoder_decoder", dict(source_vocab_size=10, target_vocab_size=10, attention="dot"), "`attention`"),
    ("encoder_decoder", dict(source_vocab_size=10, target_vocab_size=10, bidirectional=True,
                             merge_mode=None), "`merge_mode`"),
    ("one_to_many", dict(input_dim=4, vocab_size=10, bidirectional=True), "recurrent encoder"),
    ("one_to_many", dict(input_dim=4, vocab_size=10, attention="luong"), "`image_shape`"),
    ("one_to_many", dict(input_dim=4, image_shape=(8, 8, 1), vocab_size=10), "exactly one of `input_dim`"),
    ("one_to_many", dict(image_shape=(8, 8), vocab_size=10), "`image_shape` must be"),
    ("many_to_many", dict(vocab_size=10, stateful=True), "`batch_size`"),
    ("many_to_many", dict(vocab_size=10, stateful=True, batch_size=2, bidirectional=True), "bidirectional=False"),
]


@pytest.mark.parametrize("name,kwargs,message", INVALID)
def test_invalid_arguments_raise_value_error_naming_the_argument(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rnnzoo.build_model(name, **kwargs)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru", "qrnn"])  # a QRNN's second state is wider than units
@pytest.mark.parametrize("input_kind", ["tokens", "features"])
def test_streaming_model_steps_give_the_full_models_outputs_and_share_weights(cell, input_kind):
    kwargs = {"vocab_size": 30} if input_kind == "tokens" else {"input_dim": 4}
    model = rnnzoo.build_model("many_to_many", num_classes=4, units=5, num_layers=2, cell=cell, **kwargs)
    step = model.streaming_model()
    rng = np.random.default_rng(0)
    inputs = rng.integers(1, 30, (2, 6)) if input_kind == "tokens" else rng.normal(size=(2, 6, 4)).astype("f")
    model.get_layer("logits").bias.assign(np.arange(4, dtype="float32"))  # shared, not copied
    states = {t.name: np.zeros((2, t.shape[1]), "float32") for t in step.inputs if t.name.startswith("state_")}
    assert len(states) == 2 * {"simple": 1, "lstm": 2, "gru": 1, "qrnn": 2}[cell]
    logits = []
    for t in range(6):
        outputs = step({input_kind: inputs[:, t:t + 1], **states})
        logits.append(keras.ops.convert_to_numpy(outputs["logits"]))
        states = {name: keras.ops.convert_to_numpy(outputs[name]) for name in states}
    np.testing.assert_allclose(np.stack(logits, axis=1), model.predict(inputs, verbose=0), atol=1e-5)
    bidirectional = rnnzoo.build_model("many_to_many", num_classes=4, units=5, bidirectional=True, **kwargs)
    with pytest.raises(ValueError, match="bidirectional"):
        bidirectional.streaming_model()


@pytest.mark.parametrize("cell", CELLS)
def test_stateful_model_carries_state_across_calls(cell, tmp_path):
    """Truncated BPTT: a text fed in two halves with the state carried gives
    the logits of the text fed whole; `reset_states()` starts over."""
    model = rnnzoo.build_model("many_to_many", vocab_size=20, num_classes=20, cell=cell, units=8, num_layers=2,
                               bidirectional=False, stateful=True, batch_size=3)
    tokens = np.random.default_rng(0).integers(1, 20, (3, 10)).astype("int32")
    whole = keras.ops.convert_to_numpy(model(tokens))
    model.reset_states()
    model(tokens[:, :4])
    second_half = keras.ops.convert_to_numpy(model(tokens[:, 4:]))
    np.testing.assert_allclose(second_half, whole[:, 4:], atol=1e-5)
    model.reset_states()
    fresh = keras.ops.convert_to_numpy(model(tokens[:, 4:]))  # without the first half's state
    assert np.abs(fresh - whole[:, 4:]).max() > 1e-3

    copy = model.stateless_copy()  # free batch size, no carried state, same weights
    assert copy.input.shape[0] is None
    np.testing.assert_allclose(keras.ops.convert_to_numpy(copy(tokens[:2])), whole[:2], atol=1e-5)
    model.save(tmp_path / "stateful.keras")
    loaded = keras.saving.load_model(tmp_path / "stateful.keras")
    assert loaded.get_config()["stateful"] and loaded.input.shape[0] == 3
