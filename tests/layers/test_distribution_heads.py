"""Probabilistic heads: their losses against closed forms (SciPy's densities,
the pinball formula), their quantiles and samples against the distribution
they parametrize."""

import math

import keras
import numpy as np
import pytest
from keras import ops
from scipy import stats

from rnnzoo.layers import distribution_heads as heads
from rnnzoo.metrics import forecasting as scores

RNG = np.random.default_rng(0)
Y = RNG.normal(size=(4, 6)).astype("float32")


def _softplus(x):
    return np.logaddexp(0, x.astype("float64"))


def test_pinball_loss_is_the_mean_over_levels_of_each_levels_loss():
    levels = (0.1, 0.5, 0.9)
    outputs = RNG.normal(size=(4, 6, 3)).astype("float32")
    expected = np.mean([scores.pinball_loss(Y, outputs[..., k], q) for k, q in enumerate(levels)])
    loss = heads.QuantileHead(levels).loss(ops.convert_to_tensor(Y), ops.convert_to_tensor(outputs))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_normal_negative_log_likelihood_against_scipy():
    outputs = RNG.normal(size=(4, 6, 2)).astype("float32")
    scale = _softplus(outputs[..., 1]) + heads.MIN_SCALE
    expected = -np.mean(stats.norm.logpdf(Y, outputs[..., 0], scale))
    assert float(heads.NormalHead().loss(ops.convert_to_tensor(Y), ops.convert_to_tensor(outputs))) == pytest.approx(
        expected, rel=1e-5)


def test_student_t_negative_log_likelihood_against_scipy():
    outputs = RNG.normal(size=(4, 6, 3)).astype("float32")
    scale, df = _softplus(outputs[..., 1]) + heads.MIN_SCALE, _softplus(outputs[..., 2]) + 2.0
    expected = -np.mean(stats.t.logpdf(Y, df, outputs[..., 0], scale))
    loss = heads.StudentTHead().loss(ops.convert_to_tensor(Y), ops.convert_to_tensor(outputs))
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_log_gamma_matches_the_standard_library():
    x = np.array([0.05, 0.5, 1.0, 2.5, 7.0, 40.0, 500.0])
    got = ops.convert_to_numpy(heads._lgamma(ops.convert_to_tensor(x)))
    assert got == pytest.approx([math.lgamma(v) for v in x], abs=1e-6, rel=1e-6)


def test_quantiles_and_samples_follow_the_distribution():
    outputs = np.array([[1.0, 0.5, 3.0]])  # mean 1, scale softplus(0.5), df 2 + softplus(3)
    scale, df = _softplus(np.array(0.5)) + heads.MIN_SCALE, _softplus(np.array(3.0)) + 2
    normal, student = heads.NormalHead(), heads.StudentTHead()
    assert normal.quantiles_at(outputs[:, :2], [0.975])[0, 0] == pytest.approx(1 + 1.959964 * scale, rel=1e-5)
    assert student.quantiles_at(outputs, [0.1])[0, 0] == pytest.approx(stats.t.ppf(0.1, df, 1, scale))
    draws = normal.sample(outputs[:, :2], 20000, seed=0)
    assert draws.shape == (20000, 1)
    assert draws.mean() == pytest.approx(1.0, abs=0.03) and draws.std() == pytest.approx(scale, rel=0.03)
    quantile = heads.QuantileHead((0.1, 0.5, 0.9))
    values = np.array([[3.0, 1.0, 2.0]])  # crossed quantiles are sorted
    assert quantile.quantiles_at(values, [0.1, 0.3, 0.9])[0] == pytest.approx([1.0, 1.5, 3.0])
    assert quantile.point(values)[0] == 2.0


def test_quantile_levels_are_checked():
    with pytest.raises(ValueError, match="increasing levels"):
        heads.QuantileHead((0.5, 0.1))
    with pytest.raises(ValueError, match="unknown distribution head 'gamma'"):
        heads.get_distribution_head("gamma")


def test_a_model_trains_with_the_keras_loss_and_it_round_trips():
    loss = heads.DistributionLoss({"kind": "quantile", "quantiles": [0.1, 0.5, 0.9]})
    again = heads.DistributionLoss.from_config(loss.get_config())
    assert again.head.quantiles == (0.1, 0.5, 0.9)
    model = keras.Sequential([keras.Input((6, 1)), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    x = RNG.normal(size=(64, 6, 1)).astype("float32")
    history = model.fit(x, 2 * x[..., 0] + 1, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_distribution_loss_weighs_each_value_by_its_examples_sample_weight():
    # A global forecaster weighs each window by 1 / its scale: the loss must be per value for that to act.
    loss = heads.DistributionLoss({"kind": "quantile", "quantiles": [0.1, 0.5, 0.9]})
    y = np.array([[1.0], [100.0]], "float32")
    outputs = np.zeros((2, 1, 3), "float32")
    per_example = [np.mean([max(q * v, (q - 1) * v) for q in (0.1, 0.5, 0.9)]) for v in (1.0, 100.0)]
    found = float(loss(y, outputs, sample_weight=np.array([1.0, 0.01], "float32")))
    assert found == pytest.approx((per_example[0] * 1.0 + per_example[1] * 0.01) / 2, rel=1e-5)
