"""The from-scratch NumPy RNN and LSTM: hand-written BPTT against central
finite differences and against Keras' own gradients; truncation; clipping;
and that it learns."""

import keras
import numpy as np
import pytest

from rnnzoo.cells.numpy_reference import (LSTM, SGD, Adam, SequenceModel, SimpleRNN, clip_by_global_norm,
                                          softmax_cross_entropy)

CELLS = {"simple": SimpleRNN, "lstm": LSTM}


def _model(cell, many_to_many, loss, units=5, input_dim=3, output_dim=4):
    return SequenceModel(CELLS[cell](input_dim, units, seed=1), output_dim, loss=loss, many_to_many=many_to_many)


def _data(many_to_many, loss, batch=3, steps=6, input_dim=3, output_dim=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, input_dim))
    shape = (batch, steps) if many_to_many else (batch,)
    y = rng.integers(0, output_dim, size=shape) if loss == "cross_entropy" else rng.normal(size=shape + (output_dim,))
    return x, y


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("many_to_many,loss", [(False, "mse"), (True, "mse"), (True, "cross_entropy")])
def test_bptt_matches_central_finite_differences(cell, many_to_many, loss):
    model = _model(cell, many_to_many, loss)
    x, y = _data(many_to_many, loss)
    _, grads = model.loss_and_gradients(x, y)
    epsilon = 1e-6
    for name, value in model.parameters.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            kept = value[index]
            value[index] = kept + epsilon
            plus, _ = model.loss_and_gradients(x, y)
            value[index] = kept - epsilon
            minus, _ = model.loss_and_gradients(x, y)
            value[index] = kept
            numeric[index] = (plus - minus) / (2 * epsilon)
        error = np.linalg.norm(grads[name] - numeric) / max(np.linalg.norm(grads[name] + numeric), 1e-12)
        assert error < 1e-6, (name, error)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("many_to_many,loss", [(False, "mse"), (True, "cross_entropy")])
def test_outputs_and_gradients_match_keras(cell, many_to_many, loss):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the Keras gradients are taken with tf.GradientTape")
    import tensorflow as tf

    x, y = _data(many_to_many, loss)
    layer_class = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM}[cell]
    recurrent = layer_class(5, return_sequences=many_to_many, dtype="float64")
    dense = keras.layers.Dense(4, dtype="float64")
    inputs = keras.Input((None, 3), dtype="float64")
    keras_model = keras.Model(inputs, dense(recurrent(inputs)))
    ours = _model(cell, many_to_many, loss)
    ours.copy_weights_from(recurrent, dense)
    np.testing.assert_allclose(ours.predict(x), keras.ops.convert_to_numpy(keras_model(x)), rtol=1e-10, atol=1e-12)

    loss_fn = (keras.losses.MeanSquaredError(dtype="float64") if loss == "mse"
               else keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64"))
    with tf.GradientTape() as tape:
        keras_loss = loss_fn(y, keras_model(x))
    keras_grads = tape.gradient(keras_loss, recurrent.trainable_weights + dense.trainable_weights)
    our_loss, our_grads = ours.loss_and_gradients(x, y)
    assert our_loss == pytest.approx(float(keras_loss), rel=1e-10)
    names = [f"recurrent/{n}" for n in ("kernel", "recurrent_kernel", "bias")] + ["head/kernel", "head/bias"]
    for name, keras_grad in zip(names, keras_grads):
        np.testing.assert_allclose(our_grads[name], keras_grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_truncated_bptt_reaches_only_the_last_k_steps(cell):
    model = _model(cell, False, "mse")
    x, y = _data(False, "mse", steps=7)
    full = model.loss_and_gradients(x, y)[1]
    assert all(np.allclose(full[k], v) for k, v in model.loss_and_gradients(x, y, truncate=7)[1].items())
    hs, cache = model.recurrent.forward(x)
    d_hs = np.zeros_like(hs)
    d_hs[:, -1] = 1.0
    _, d_x, d_states = model.recurrent.backward(d_hs, cache, truncate=3)
    assert np.abs(d_x[:, -3:]).sum() > 0 and np.all(d_x[:, :-3] == 0)
    assert all(np.all(d == 0) for d in d_states)
    _, d_x_full, _ = model.recurrent.backward(d_hs, cache)
    np.testing.assert_allclose(d_x[:, -3:], d_x_full[:, -3:])  # what it keeps is exact
    truncated = model.loss_and_gradients(x, y, truncate=3)[1]
    assert not np.allclose(truncated["recurrent/kernel"], full["recurrent/kernel"])


def test_clipping_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert np.sqrt(sum(np.sum(g ** 2) for g in clipped.values())) == pytest.approx(1.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    assert clip_by_global_norm(grads, 10.0)[0] is grads


def test_cross_entropy_is_minus_log_softmax():
    logits = np.array([[2.0, 0.0, -1.0]])
    loss, _ = softmax_cross_entropy(logits, np.array([0]))
    assert loss == pytest.approx(-np.log(np.exp(2.0) / np.exp(logits).sum()))
    assert np.isfinite(softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))[0])


@pytest.mark.parametrize("cell,optimizer", [("lstm", Adam(0.01)), ("simple", SGD(0.1))])
def test_it_learns_the_next_value_of_a_two_tone_series(cell, optimizer):
    t = np.arange(700) * 0.1
    series = np.sin(t) + 0.5 * np.sin(3 * t)
    x = np.stack([series[i:i + 20] for i in range(600)])[..., None]
    y = series[20:620, None]
    model = SequenceModel(CELLS[cell](1, 16, seed=0), 1, loss="mse")
    before = float(np.mean((model.predict(x) - y) ** 2))
    model.fit(x, y, steps=300, optimizer=optimizer, clipnorm=1.0, truncate=10)
    after = float(np.mean((model.predict(x) - y) ** 2))
    assert after < 0.01 and after < before / 20, (before, after)
