"""Probabilistic forecast heads: what a forecaster's last layer means when it
says more than one number per step, and the loss it trains with.

- `QuantileHead`: `len(quantiles)` values per step, trained with the pinball
  (quantile) loss; sorted at inference so that quantiles never cross.
- `NormalHead`: a mean and a scale per step (scale = softplus + a floor),
  trained with the Normal negative log-likelihood.
- `StudentTHead`: a mean, a scale and degrees of freedom (2 + softplus, so
  the variance exists), trained with the Student-t negative log-likelihood.

A head's `parameters(outputs)` turns the network's raw outputs (..., size)
into named parameters; `loss` is a Keras loss on those raw outputs (mean
over every step, or per value with `reduce=False`); `quantiles(outputs, levels)` gives NumPy quantiles of the
forecast distribution (for intervals and plots); `sample(outputs, draws,
seed)` draws from it (for CRPS). Heads are plain objects rebuilt from a
config, as in `heads.py`.
"""

import math

import keras
import numpy as np
from keras import ops

# Smallest scale a distribution head predicts (in the scaled units the network sees).
MIN_SCALE = 1e-3


def _softplus(x):
    return ops.softplus(x)


def pinball(y_true, quantile_values, quantiles, reduce=True):
    """Mean pinball loss of `quantile_values` (..., Q) at levels `quantiles`
    for targets `y_true` (...); `reduce=False`: its mean over the levels
    only, per value (...)."""
    levels = ops.convert_to_tensor(np.asarray(quantiles, dtype="float32"))
    error = ops.expand_dims(ops.cast(y_true, quantile_values.dtype), -1) - quantile_values
    losses = ops.mean(ops.maximum(levels * error, (levels - 1.0) * error), axis=-1)
    return ops.mean(losses) if reduce else losses


class QuantileHead:
    size_per_step = None  # set per instance: one output per level

    def __init__(self, quantiles=(0.025, 0.5, 0.975)):
        quantiles = tuple(float(q) for q in quantiles)
        if not quantiles or any(not 0 < q < 1 for q in quantiles) or list(quantiles) != sorted(set(quantiles)):
            raise ValueError(f"quantiles must be increasing levels strictly between 0 and 1, got {quantiles}.")
        self.quantiles = quantiles
        self.size_per_step = len(quantiles)

    def get_config(self):
        return {"kind": "quantile", "quantiles": list(self.quantiles)}

    def parameters(self, outputs):
        return {"quantiles": outputs}

    def loss(self, y_true, outputs, reduce=True):
        return pinball(y_true, outputs, self.quantiles, reduce)

    def point(self, outputs):
        """The median where one is predicted, else the middle level."""
        outputs = np.sort(np.asarray(outputs), axis=-1)
        return outputs[..., int(np.argmin(np.abs(np.array(self.quantiles) - 0.5)))]

    def quantiles_at(self, outputs, levels):
        """Levels between the predicted ones are interpolated linearly;
        outside them, the outermost predicted level is returned."""
        outputs = np.sort(np.asarray(outputs, dtype="float64"), axis=-1)
        return np.stack([np.apply_along_axis(lambda row: np.interp(level, self.quantiles, row), -1, outputs)
                         for level in levels], axis=-1)

    def sample(self, outputs, draws, seed=0):
        """Draws by inverse CDF on the interpolated quantile function."""
        levels = np.random.default_rng(seed).uniform(self.quantiles[0], self.quantiles[-1], draws)
        return np.moveaxis(self.quantiles_at(outputs, levels), -1, 0)


class NormalHead:
    """`positive=True`: the outputs' scale is already the scale (a layer
    before made it positive), not a value to pass through softplus."""

    size_per_step = 2

    def __init__(self, positive=False):
        self.positive = bool(positive)

    def get_config(self):
        return {"kind": "normal", "positive": self.positive}

    def parameters(self, outputs):
        scale = outputs[..., 1] if self.positive else _softplus(outputs[..., 1]) + MIN_SCALE
        return {"mean": outputs[..., 0], "scale": scale}

    def loss(self, y_true, outputs, reduce=True):
        p = self.parameters(outputs)
        z = (ops.cast(y_true, outputs.dtype) - p["mean"]) / p["scale"]
        losses = 0.5 * ops.square(z) + ops.log(p["scale"]) + 0.5 * math.log(2 * math.pi)
        return ops.mean(losses) if reduce else losses

    def _numpy(self, outputs):
        outputs = np.asarray(outputs, dtype="float64")
        return outputs[..., 0], _positive(outputs[..., 1], self.positive)

    def point(self, outputs):
        return self._numpy(outputs)[0]

    def quantiles_at(self, outputs, levels):
        from scipy import stats

        mean, scale = self._numpy(outputs)
        return np.stack([stats.norm.ppf(level, mean, scale) for level in levels], axis=-1)

    def sample(self, outputs, draws, seed=0):
        mean, scale = self._numpy(outputs)
        return np.random.default_rng(seed).normal(mean, scale, (draws,) + mean.shape)


class StudentTHead:
    """`positive=True`: the outputs are the scale and the degrees of
    freedom themselves (a layer before made them valid)."""

    size_per_step = 3

    def __init__(self, positive=False):
        self.positive = bool(positive)

    def get_config(self):
        return {"kind": "student_t", "positive": self.positive}

    def parameters(self, outputs):
        if self.positive:
            return {"mean": outputs[..., 0], "scale": outputs[..., 1], "df": outputs[..., 2]}
        return {"mean": outputs[..., 0], "scale": _softplus(outputs[..., 1]) + MIN_SCALE,
                "df": _softplus(outputs[..., 2]) + 2.0}

    def loss(self, y_true, outputs, reduce=True):
        p = self.parameters(outputs)
        df, scale = p["df"], p["scale"]
        z = (ops.cast(y_true, outputs.dtype) - p["mean"]) / scale
        log_density = (_lgamma((df + 1) / 2) - _lgamma(df / 2) - 0.5 * ops.log(df * math.pi) - ops.log(scale)
                       - (df + 1) / 2 * ops.log1p(ops.square(z) / df))
        return -ops.mean(log_density) if reduce else -log_density

    def _numpy(self, outputs):
        outputs = np.asarray(outputs, dtype="float64")
        if self.positive:
            return outputs[..., 0], outputs[..., 1], outputs[..., 2]
        return (outputs[..., 0], np.logaddexp(0, outputs[..., 1]) + MIN_SCALE,
                np.logaddexp(0, outputs[..., 2]) + 2.0)

    def point(self, outputs):
        return self._numpy(outputs)[0]

    def quantiles_at(self, outputs, levels):
        from scipy import stats

        mean, scale, df = self._numpy(outputs)
        return np.stack([stats.t.ppf(level, df, mean, scale) for level in levels], axis=-1)

    def sample(self, outputs, draws, seed=0):
        mean, scale, df = self._numpy(outputs)
        rng = np.random.default_rng(seed)
        return mean + scale * rng.standard_t(df, (draws,) + mean.shape)


def _positive(raw, positive):
    return raw if positive else np.logaddexp(0, raw) + MIN_SCALE


def _lgamma(x):
    """log Gamma(x) for x > 0 on every backend: Keras 3 has no `ops.lgamma`,
    so Stirling's series after shifting x up by 6 (error < 1e-10 there)."""
    shift = ops.zeros_like(x)
    for k in range(6):
        shift = shift + ops.log(x + k)
    y = x + 6.0
    series = 1 / (12 * y) - 1 / (360 * y ** 3) + 1 / (1260 * y ** 5)
    return (y - 0.5) * ops.log(y) - y + 0.5 * math.log(2 * math.pi) + series - shift


DISTRIBUTION_HEADS = {"quantile": QuantileHead, "normal": NormalHead, "student_t": StudentTHead}


def get_distribution_head(kind, **options):
    if kind not in DISTRIBUTION_HEADS:
        raise ValueError(f"unknown distribution head {kind!r}; choose from {', '.join(DISTRIBUTION_HEADS)}.")
    return DISTRIBUTION_HEADS[kind](**options)


@keras.saving.register_keras_serializable(package="rnnzoo")
class DistributionLoss(keras.losses.Loss):
    """A Keras loss wrapping a head's `loss` (for `model.compile`): the mean
    per example, so that Keras weighs each by its sample weight before
    averaging over the batch."""

    def __init__(self, head_config=None, name="distribution_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.head_config = dict(head_config or {"kind": "normal"})
        options = {k: v for k, v in self.head_config.items() if k != "kind"}
        self.head = get_distribution_head(self.head_config["kind"], **options)

    def call(self, y_true, y_pred):
        losses = self.head.loss(y_true, y_pred, reduce=False)
        return ops.mean(losses, axis=tuple(range(1, len(losses.shape)))) if len(losses.shape) > 1 else losses

    def get_config(self):
        return {**super().get_config(), "head_config": self.head_config}
