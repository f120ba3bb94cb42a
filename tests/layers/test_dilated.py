"""Dilated recurrent layers against an explicit reference: the wrapped layer
run on each interleaved sub-sequence by hand, outputs put back in time
order; padding for lengths that are not a multiple of the dilation changes
nothing; the direct forecaster stacks them (ES-RNN's dilations) with
residual connections, for any cell."""

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.cells.registry import get_cell
from rnnzoo.layers import DilatedRNN


def _numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def _reference(layer, x, dilation):
    """Step t's output from the layer run over steps ..., t - 2d, t - d, t alone."""
    steps = x.shape[1]
    outputs = {}
    for start in range(min(dilation, steps)):
        picked = list(range(start, steps, dilation))
        outputs[start] = (picked, _numpy(layer(x[:, picked])))
    width = outputs[0][1].shape[-1]
    out = np.zeros(x.shape[:2] + (width,), "float32")
    for picked, values in outputs.values():
        out[:, picked] = values
    return out


@pytest.mark.parametrize("cell", ["gru", "lstm", "min_gru"])
@pytest.mark.parametrize("steps, dilation", [(12, 3), (7, 3), (5, 1), (8, 8)])
def test_dilated_layer_equals_the_layer_on_each_sub_sequence(cell, steps, dilation):
    keras.utils.set_random_seed(0)
    layer = get_cell(cell).build(5, return_sequences=True, return_state=False)
    dilated = DilatedRNN(layer, dilation)
    x = np.random.default_rng(1).normal(size=(2, steps, 3)).astype("float32")
    found = _numpy(dilated(x))
    np.testing.assert_allclose(found, _reference(layer, x, dilation), rtol=1e-5, atol=1e-5)


def test_dilated_layer_refuses_what_it_cannot_step():
    with pytest.raises(ValueError, match="must return sequences"):
        DilatedRNN(keras.layers.GRU(4), 2)
    with pytest.raises(ValueError, match="`dilation` must be an integer >= 1"):
        DilatedRNN(keras.layers.GRU(4, return_sequences=True), 0)


@pytest.mark.parametrize("cell", ["gru", "lstm", "min_gru"])
def test_a_dilated_residual_forecaster_is_its_layers_by_hand_and_round_trips(cell, tmp_path):
    model = rnnzoo.build_model("direct_forecaster", lookback=16, horizon=4, channels=1, cell=cell, units=6,
                               num_layers=3, dilations=(1, 2, 4), residual=True, normalization=None)
    x = np.random.default_rng(2).normal(size=(3, 16, 1)).astype("float32")
    recurrence = model.get_layer("direct_recurrence")
    outputs = x
    for index, layer in enumerate(recurrence.encoder):
        found = _reference(layer.layer, outputs, [1, 2, 4][index])
        outputs = found + outputs if index > 0 else found
    by_hand = _numpy(recurrence.head(outputs[:, -1])).reshape(3, 4, 1)
    np.testing.assert_allclose(_numpy(model(x)), by_hand, rtol=1e-5, atol=1e-5)
    model.save(tmp_path / "dilated.keras")
    loaded = keras.saving.load_model(tmp_path / "dilated.keras")
    np.testing.assert_allclose(_numpy(loaded(x)), _numpy(model(x)), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=r"one integer >= 1 per layer \(3\)"):
        rnnzoo.build_model("direct_forecaster", lookback=16, num_layers=3, dilations=(1, 2))
