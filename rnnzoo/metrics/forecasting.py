"""Forecast scores as the M4 competition defines them, interval and
distribution scores, and the statistical baselines they are measured against.

Point scores (one series: `insample` is its history, `actual` and `forecast`
the `horizon` values after it):
- sMAPE (%): mean of 200 |y - f| / (|y| + |f|).
- MASE: mean |y - f| over the in-sample seasonal-naive error
  `mean |x_t - x_{t-m}|` (`seasonal_scale`).
- OWA: the mean over series of sMAPE and of MASE, each divided by Naive2's,
  then averaged (`owa`).
Intervals: MSIS (the scaled interval score at level 1 - alpha) and coverage.
Distributions: the pinball (quantile) loss and CRPS (from samples, or closed
form for a Normal).

Baselines (one series, NumPy): `naive`, `seasonal_naive` and `naive2` (naive
on the seasonally adjusted series, re-seasonalized, when
`seasonality_test` says seasonal; the decomposition is R's classical
multiplicative `decompose`), written after the organisers' R code so that
`m4_scores` of Naive2 reproduces their published figures.
"""

import math

import numpy as np

# The one-sided 90% critical value the M4 seasonality test uses.
SEASONALITY_CRITICAL_VALUE = 1.645


def _vectors(*arrays):
    arrays = [np.asarray(a, dtype="float64") for a in arrays]
    if any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError(f"shapes differ: {', '.join(str(a.shape) for a in arrays)}.")
    return arrays


def smape(actual, forecast):
    """Symmetric MAPE in percent (M4's definition; a step where both are 0
    counts as 0)."""
    actual, forecast = _vectors(actual, forecast)
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(np.abs(actual - forecast), denominator, out=np.zeros_like(denominator),
                      where=denominator > 0)
    return float(200 * ratio.mean())


def seasonal_scale(insample, period=1):
    """The in-sample mean absolute error of the seasonal-naive forecast
    (`x_t - x_{t-period}`): MASE's and MSIS' denominator."""
    insample = np.asarray(insample, dtype="float64")
    if len(insample) <= period:
        raise ValueError(f"the history has {len(insample)} values; a seasonal scale with period {period} "
                         f"needs more than {period}.")
    return float(np.mean(np.abs(insample[period:] - insample[:-period])))


def mase(insample, actual, forecast, period=1):
    """Mean absolute scaled error (scale: `seasonal_scale(insample, period)`)."""
    actual, forecast = _vectors(actual, forecast)
    return float(np.mean(np.abs(actual - forecast)) / seasonal_scale(insample, period))


def msis(insample, actual, lower, upper, alpha=0.05, period=1):
    """Mean scaled interval score of the (1 - alpha) interval [lower, upper]:
    its width plus 2/alpha times each miss, over the seasonal scale."""
    actual, lower, upper = _vectors(actual, lower, upper)
    score = (upper - lower + 2 / alpha * np.maximum(lower - actual, 0)
             + 2 / alpha * np.maximum(actual - upper, 0))
    return float(np.mean(score) / seasonal_scale(insample, period))


def coverage(actual, lower, upper):
    """The fraction of values inside [lower, upper]."""
    actual, lower, upper = _vectors(actual, lower, upper)
    return float(np.mean((actual >= lower) & (actual <= upper)))


def pinball_loss(actual, quantile_forecast, quantile):
    """The quantile (pinball) loss of one quantile level, averaged:
    `max(q (y - f), (q - 1) (y - f))`."""
    actual, quantile_forecast = _vectors(actual, quantile_forecast)
    error = actual - quantile_forecast
    return float(np.mean(np.maximum(quantile * error, (quantile - 1) * error)))


def crps_from_samples(actual, samples):
    """The continuous ranked probability score of the empirical distribution
    of `samples` (axis 0: draws), averaged over the other axes:
    `E|X - y| - E|X - X'| / 2`."""
    samples = np.asarray(samples, dtype="float64")
    actual = np.broadcast_to(np.asarray(actual, dtype="float64"), samples.shape[1:])
    first = np.mean(np.abs(samples - actual), axis=0)
    # E|X - X'| over all pairs, from the sorted draws: sum_i (2i - n - 1) x_(i) * 2 / n^2.
    ordered = np.sort(samples, axis=0)
    n = len(samples)
    weights = (2 * np.arange(1, n + 1) - n - 1).reshape((n,) + (1,) * (samples.ndim - 1))
    second = 2 * np.sum(weights * ordered, axis=0) / n ** 2
    return float(np.mean(first - second / 2))


def crps_normal(actual, mean, scale):
    """CRPS of Normal(mean, scale) forecasts (closed form, Gneiting et al.
    2005), averaged."""
    from scipy import stats

    actual, mean, scale = _vectors(actual, mean, np.broadcast_to(scale, np.shape(mean)))
    z = (actual - mean) / scale
    return float(np.mean(scale * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))))


# Baselines.


def naive(insample, horizon):
    """The last value repeated."""
    return np.repeat(np.asarray(insample, dtype="float64")[-1], horizon)


def seasonal_naive(insample, horizon, period):
    """The last `period` values repeated."""
    insample = np.asarray(insample, dtype="float64")
    return np.resize(insample[-period:], horizon) if len(insample) >= period else naive(insample, horizon)


def autocorrelation(series, max_lag):
    """Sample autocorrelations at lags 1..max_lag (R's `acf`: each lag's
    sum of products over the full-series variance)."""
    centered = np.asarray(series, dtype="float64") - np.mean(series)
    denominator = np.sum(centered ** 2)
    return np.array([np.sum(centered[lag:] * centered[:-lag]) / denominator for lag in range(1, max_lag + 1)])


def seasonality_test(series, period):
    """M4's test: seasonal when |acf(period)| exceeds the 90% limit
    `1.645 sqrt((1 + 2 sum_{k<period} acf(k)^2) / n)`; never for a series
    shorter than three seasons or a period of 1."""
    series = np.asarray(series, dtype="float64")
    if period <= 1 or len(series) < 3 * period or np.all(series == series[0]):
        return False
    acf = autocorrelation(series, period)
    limit = SEASONALITY_CRITICAL_VALUE * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / len(series))
    return bool(abs(acf[-1]) > limit)


def seasonal_indices(series, period):
    """Classical multiplicative decomposition (R's `decompose(type =
    "multiplicative")`): the centred moving average of one period is the
    trend; each position's mean of series / trend, normalized to mean 1, is
    its index. Returns the index of every position of the series (the series
    starts at position 0)."""
    series = np.asarray(series, dtype="float64")
    if period % 2:
        weights = np.full(period, 1 / period)
    else:
        weights = np.concatenate([[0.5], np.ones(period - 1), [0.5]]) / period
    half = len(weights) // 2
    trend = np.full(len(series), np.nan)
    trend[half: len(series) - half] = np.convolve(series, weights, mode="valid")
    ratio = series / trend
    figure = np.array([np.nanmean(ratio[position::period]) for position in range(period)])
    figure = figure / figure.mean()
    return np.resize(figure, len(series))


def naive2(insample, horizon, period):
    """Naive on the seasonally adjusted series, re-seasonalized with the last
    season's indices (M4's Naive2; plain naive when not seasonal)."""
    insample = np.asarray(insample, dtype="float64")
    if not seasonality_test(insample, period):
        return naive(insample, horizon)
    indices = seasonal_indices(insample, period)
    adjusted = insample / indices
    return adjusted[-1] * np.resize(indices[-period:], horizon)


# The smoothing constants SES chooses among.
SES_ALPHAS = np.round(np.linspace(0.01, 0.99, 99), 2)


def smoothed_levels(series, alphas):
    """Simple exponential smoothing of `series` with each of `alphas`, the
    level started at the first value: `(final levels, one-step squared
    errors summed)`, one of each per alpha."""
    alphas = np.asarray(alphas, dtype="float64")
    level, errors = np.full(len(alphas), float(series[0])), np.zeros(len(alphas))
    for value in series[1:]:
        error = value - level
        errors += error ** 2
        level = level + alphas * error
    return level, errors


def ses(insample, horizon, period):
    """Simple exponential smoothing on the seasonally adjusted series (as
    Naive2 adjusts it), re-seasonalized with the last season's indices: an
    ETS(A,N,N)-like baseline, after M4's SES benchmark. Alpha is the one of
    `SES_ALPHAS` with the least one-step squared error, the level started at
    the first value (the R forecast package M4 used fits both by
    likelihood, so its figures may differ a little)."""
    insample = np.asarray(insample, dtype="float64")
    seasonal = seasonality_test(insample, period)
    indices = seasonal_indices(insample, period) if seasonal else np.ones(len(insample))
    levels, errors = smoothed_levels(insample / indices, SES_ALPHAS)
    return levels[np.argmin(errors)] * (np.resize(indices[-period:], horizon) if seasonal else np.ones(horizon))


BASELINES = {"naive": lambda insample, horizon, period: naive(insample, horizon),
             "seasonal_naive": seasonal_naive, "naive2": naive2, "ses": ses}


def m4_scores(insamples, actuals, forecasts, period):
    """sMAPE and MASE of each series' forecast, averaged over the series (the
    organisers' aggregation)."""
    if not len(insamples) == len(actuals) == len(forecasts):
        raise ValueError(f"{len(insamples)} histories, {len(actuals)} actuals and {len(forecasts)} forecasts.")
    return {"smape": float(np.mean([smape(a, f) for a, f in zip(actuals, forecasts)])),
            "mase": float(np.mean([mase(x, a, f, period) for x, a, f in zip(insamples, actuals, forecasts)]))}


def owa(scores, naive2_scores):
    """Overall weighted average: sMAPE and MASE relative to Naive2's, averaged."""
    return float((scores["smape"] / naive2_scores["smape"] + scores["mase"] / naive2_scores["mase"]) / 2)


def interval_scores(insamples, actuals, lowers, uppers, period, alpha=0.05):
    """MSIS averaged over series, and the coverage over every value."""
    return {"msis": float(np.mean([msis(x, a, lo, up, alpha, period)
                                   for x, a, lo, up in zip(insamples, actuals, lowers, uppers)])),
            "coverage": float(np.mean(np.concatenate([(np.asarray(a) >= lo) & (np.asarray(a) <= up)
                                                      for a, lo, up in zip(actuals, lowers, uppers)])))}


# Conformal calibration.


def conformal_margins(actuals, forecasts, alpha=0.05):
    """Split conformal prediction: from calibration windows (actuals and
    point forecasts, shape (windows, horizon)), the half-width of each
    horizon step's interval that holds the true value with probability at
    least 1 - alpha: the ceil((n + 1)(1 - alpha))-th smallest absolute error
    of that step. Infinite when n is too small for the level."""
    errors = np.abs(np.asarray(actuals, dtype="float64") - np.asarray(forecasts, dtype="float64"))
    return conformal_quantile(errors, alpha)


def quantile_interval_margins(actuals, lowers, uppers, alpha=0.05):
    """Conformalized quantile regression (Romano et al. 2019): from
    calibration windows and a model's quantile interval [lower, upper]
    (each (windows, horizon)), how far to widen (or, when negative, narrow)
    each step's interval on both sides so that it holds the true value with
    probability at least 1 - alpha: the conformal quantile of
    `max(lower - actual, actual - upper)`."""
    actuals, lowers, uppers = (np.asarray(a, dtype="float64") for a in (actuals, lowers, uppers))
    return conformal_quantile(np.maximum(lowers - actuals, actuals - uppers), alpha)


def conformal_quantile(scores, alpha):
    """Each column's ceil((n + 1)(1 - alpha))-th smallest of n calibration
    `scores` (windows, horizon); infinite when n is too small."""
    scores = np.asarray(scores, dtype="float64")
    if scores.ndim != 2:
        raise ValueError(f"expected (windows, horizon) arrays, got shape {scores.shape}.")
    n = len(scores)
    rank = math.ceil((n + 1) * (1 - alpha))
    if rank > n:
        return np.full(scores.shape[1], np.inf)
    return np.sort(scores, axis=0)[rank - 1]


def scaled_quantile_loss(insamples, actuals, quantile_forecasts, levels, period=1):
    """The quantile forecasts' pinball loss, averaged over the levels and
    over series after dividing each series' by its seasonal scale (as MASE
    is); twice it approximates the scaled CRPS of the forecast distribution.
    `quantile_forecasts[k]`: `(horizon, len(levels))`."""
    return float(np.mean([np.mean([pinball_loss(a, np.asarray(q)[:, i], level) for i, level in enumerate(levels)])
                          / seasonal_scale(x, period)
                          for x, a, q in zip(insamples, actuals, quantile_forecasts)]))
