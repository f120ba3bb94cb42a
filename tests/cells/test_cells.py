"""The registered cells against the NumPy oracle, and the cell registry."""

import keras
import numpy as np
import pytest

import reference_cells
import rnnzoo
from rnnzoo.cells import get_cell, registry

UNITS, INPUT_DIM, STEPS, BATCH = 5, 3, 7, 2


def _random_weights(layer, rng):
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def _run_registered(name, inputs, rng, **cell_options):
    layer = get_cell(name).build(
        UNITS, return_sequences=True, return_state=True, name=f"{name}_under_test",
        **cell_options,
    )
    layer.build((None, None, INPUT_DIM))
    weights = _random_weights(layer, rng)
    outputs = [keras.ops.convert_to_numpy(t) for t in layer(inputs)]
    return weights, outputs


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_simple_matches_reference(activation):
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    weights, (sequence, state) = _run_registered("simple", inputs, rng, activation=activation)
    expected_sequence, expected_state = reference_cells.simple_rnn(inputs, *weights, activation=activation)
    np.testing.assert_allclose(sequence, expected_sequence, atol=1e-5)
    np.testing.assert_allclose(state, expected_state, atol=1e-5)


def test_lstm_matches_reference():
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    weights, (sequence, h, c) = _run_registered("lstm", inputs, rng)
    expected_sequence, expected_h, expected_c = reference_cells.lstm(inputs, *weights)
    np.testing.assert_allclose(sequence, expected_sequence, atol=1e-5)
    np.testing.assert_allclose(h, expected_h, atol=1e-5)
    np.testing.assert_allclose(c, expected_c, atol=1e-5)


def test_gru_matches_reference_with_reset_after():
    rng = np.random.default_rng(2)
    inputs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    weights, (sequence, state) = _run_registered("gru", inputs, rng)
    assert weights[2].shape == (2, 3 * UNITS)  # reset_after: separate recurrent bias
    expected_sequence, expected_state = reference_cells.gru(inputs, *weights)
    np.testing.assert_allclose(sequence, expected_sequence, atol=1e-5)
    np.testing.assert_allclose(state, expected_state, atol=1e-5)


def test_reference_gru_differs_from_reset_before():
    """The oracle is sensitive to where the reset gate goes: a GRU with
    `reset_after=False` does not match it."""
    rng = np.random.default_rng(3)
    inputs = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    weights, (sequence, _) = _run_registered("gru", inputs, rng, reset_after=False)
    bias = np.stack([weights[2], np.zeros_like(weights[2])])
    expected_sequence, _ = reference_cells.gru(inputs, weights[0], weights[1], bias)
    assert np.abs(sequence - expected_sequence).max() > 1e-3


def test_list_cells_and_pattern():
    assert {"simple", "lstm", "gru"} <= set(rnnzoo.list_cells())
    assert rnnzoo.list_cells("*gru") == ["gru", "min_gru"]


def test_unknown_cell_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean: lstm"):
        get_cell("lstmm")
    with pytest.raises(ValueError, match="Unknown cell"):
        rnnzoo.build_model("many_to_one", vocab_size=10, cell="transformer")


def test_simple_cell_rejects_other_activations():
    with pytest.raises(ValueError, match="activation"):
        rnnzoo.build_model("many_to_one", vocab_size=10, cell="simple",
                           cell_options={"activation": "sigmoid"})


def test_registering_a_name_twice_raises():
    with pytest.raises(ValueError, match="already registered"):
        rnnzoo.register_cell("lstm", num_states=2)(lambda units, **options: None)


@pytest.fixture
def isolated_cells(monkeypatch):
    monkeypatch.setattr(registry, "_CELLS", dict(registry._CELLS))


def test_a_registered_cell_reaches_every_topology(isolated_cells, tmp_path):
    """A user's cell, here Keras' generic RNN over a GRUCell, is usable by
    every topology once registered."""
    @rnnzoo.register_cell("generic_gru", num_states=1)
    def generic_gru(units, dropout=0.0, recurrent_dropout=0.0, **options):
        cell = keras.layers.GRUCell(units, dropout=dropout, recurrent_dropout=recurrent_dropout)
        return keras.layers.RNN(cell, **options)

    assert "generic_gru" in rnnzoo.list_cells()
    import helpers

    for topology in rnnzoo.list_topologies():
        extra = {"attention": "luong"} if topology == "encoder_decoder" else {}
        model = helpers.build_tiny(topology, cell="generic_gru", **extra)
        helpers.run_output_shape_test(model, lengths=(4,))
    helpers.run_save_load_test(model, tmp_path)
