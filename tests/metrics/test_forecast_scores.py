"""Forecast scores, baselines and conformal margins against hand computations,
closed forms and the M4 organisers' published figures."""

import math
import os

import helpers
import numpy as np
import pytest
from scipy import stats

from rnnzoo.metrics import forecasting as scores


def test_point_scores_by_hand():
    assert scores.smape([100, 200], [110, 180]) == pytest.approx((2000 / 210 + 4000 / 380) / 2)
    assert scores.smape([0, 1], [0, 1]) == 0.0  # 0/0 counts as no error
    assert scores.seasonal_scale([1, 2, 4, 7]) == 2.0
    assert scores.seasonal_scale([1, 2, 4, 7], period=2) == 4.0
    assert scores.mase([1, 2, 4, 7], [8, 10], [7, 7]) == pytest.approx(1.0)
    assert scores.mase([1, 2, 4, 7], [8, 10], [7, 7], period=2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="period 4 needs more than 4"):
        scores.seasonal_scale([1, 2, 3, 4], period=4)
    with pytest.raises(ValueError, match="shapes differ"):
        scores.smape([1, 2], [1, 2, 3])


def test_interval_and_distribution_scores_by_hand():
    actual, lower, upper = [5, 10, 0], [4, 4, 4], [6, 6, 6]
    # widths 2; misses of 4 above and 4 below cost 2 / 0.05 * 4 = 160 each; scale 2.
    assert scores.msis([1, 2, 4, 7], actual, lower, upper, alpha=0.05) == pytest.approx((2 + 162 + 162) / 3 / 2)
    assert scores.coverage(actual, lower, upper) == pytest.approx(1 / 3)
    assert scores.pinball_loss([1, 3], [2, 2], 0.9) == pytest.approx((0.1 + 0.9) / 2)
    assert scores.crps_from_samples(1.0, np.array([0.0, 2.0])) == pytest.approx(0.5)


def test_crps_from_samples_equals_its_definition_over_pairs():
    rng = np.random.default_rng(0)
    samples, actual = rng.normal(size=(7, 3)), rng.normal(size=3)
    first = np.abs(samples - actual).mean(axis=0)
    second = np.abs(samples[:, None] - samples[None]).mean(axis=(0, 1))
    assert scores.crps_from_samples(actual, samples) == pytest.approx(float(np.mean(first - second / 2)))


def test_crps_of_a_normal_against_its_closed_form_and_samples():
    # At the mean of a standard Normal: 2 pdf(0) - 1 / sqrt(pi).
    assert scores.crps_normal([0.0], [0.0], 1.0) == pytest.approx(2 * stats.norm.pdf(0) - 1 / math.sqrt(math.pi))
    draws = np.random.default_rng(1).normal(3.0, 2.0, size=(20000, 1))
    assert scores.crps_from_samples([4.0], draws) == pytest.approx(scores.crps_normal([4.0], [3.0], 2.0), rel=0.02)


def test_autocorrelation_and_seasonality_test():
    assert scores.autocorrelation([1, 2, 3, 4], 2) == pytest.approx([0.25, -0.3])
    t = np.arange(96)
    daily = 10 + np.sin(2 * np.pi * t / 24)
    assert scores.seasonality_test(daily, 24)
    assert not scores.seasonality_test(daily[:71], 24)  # shorter than three seasons
    assert not scores.seasonality_test(np.random.default_rng(0).normal(size=96), 24)
    assert not scores.seasonality_test(daily, 1)


def test_classical_multiplicative_decomposition_by_hand():
    # Even period: the centred average of one period (weights 1/4, 1/2, 1/4) is 2 everywhere inside.
    assert scores.seasonal_indices([1, 3, 1, 3, 1, 3], 2) == pytest.approx([0.5, 1.5] * 3)
    assert scores.seasonal_indices([1, 2, 3] * 3, 3) == pytest.approx([0.5, 1.0, 1.5] * 3)
    # Trend and season: the indices are the season, whatever the level.
    t = np.arange(48.0)
    season = np.array([0.8, 1.2, 1.0, 1.0])
    indices = scores.seasonal_indices((100 + t) * np.resize(season, 48), 4)
    assert indices[:4] == pytest.approx(season, rel=1e-3)


def test_naive2_reseasonalizes_naive_on_the_adjusted_series():
    series = np.resize([1.0, 3.0], 20)  # seasonal with period 2
    assert scores.naive2(series, 3, 2) == pytest.approx([1.0, 3.0, 1.0])
    trend = np.arange(1.0, 21.0)  # not seasonal: plain naive
    assert scores.naive2(trend, 3, 2) == pytest.approx([20.0] * 3)
    assert scores.seasonal_naive([1, 2, 3, 4, 5], 5, 2) == pytest.approx([4, 5, 4, 5, 4])


def test_owa_of_naive2_is_one_and_halves_with_both_scores():
    naive2_scores = {"smape": 18.0, "mase": 2.0}
    assert scores.owa(naive2_scores, naive2_scores) == 1.0
    assert scores.owa({"smape": 9.0, "mase": 1.0}, naive2_scores) == 0.5


def test_conformal_margins_reach_their_coverage():
    """Split conformal on Normal errors: the nominal 90% on fresh windows,
    within 2 points over many draws, and each step's own width."""
    rng = np.random.default_rng(0)
    covered = []
    for _ in range(200):
        widths = np.array([1.0, 2.0, 4.0])  # the error grows with the step
        calibration = rng.normal(size=(100, 3)) * widths
        margins = scores.conformal_margins(calibration, np.zeros((100, 3)), alpha=0.1)
        fresh = rng.normal(size=(100, 3)) * widths
        covered.append(np.mean(np.abs(fresh) <= margins))
    assert np.mean(covered) == pytest.approx(0.9, abs=0.02)
    assert margins[0] < margins[1] < margins[2]
    assert np.isinf(scores.conformal_margins(np.zeros((5, 2)), np.zeros((5, 2)), alpha=0.05)).all()


def test_conformalized_quantile_intervals_reach_their_coverage_from_too_narrow_or_too_wide():
    """CQR: a quantile interval that is too narrow (the 60% one) or too wide
    (the 99.9% one) of Normal noise is widened or narrowed to 90% coverage
    on fresh windows (within 2 points over many draws)."""
    rng = np.random.default_rng(1)
    for half_width, sign in ((0.84, 1), (3.29, -1)):
        covered, margins = [], []
        for _ in range(200):
            calibration = rng.normal(size=(100, 2))
            margin = scores.quantile_interval_margins(calibration, -half_width + 0 * calibration,
                                                      half_width + 0 * calibration, alpha=0.1)
            fresh = rng.normal(size=(100, 2))
            covered.append(np.mean(np.abs(fresh) <= half_width + margin))
            margins.append(margin)
        assert np.mean(covered) == pytest.approx(0.9, abs=0.02)
        assert np.all(sign * np.array(margins) > 0)  # widened, or narrowed
    with pytest.raises(ValueError, match=r"expected \(windows, horizon\) arrays"):
        scores.conformal_quantile(np.zeros(5), 0.1)


def test_scaled_quantile_loss_by_hand():
    insample = np.array([1.0, 3.0, 1.0, 3.0])  # seasonal scale with period 1: mean |diff| = 2
    actual = np.array([2.0, 4.0])
    quantiles = np.array([[1.0, 2.5], [5.0, 6.0]])  # levels 0.1 and 0.9
    # Level 0.1: errors 1, -1 -> 0.1, 0.9; level 0.9: errors -0.5, -2 -> 0.05, 0.2.
    by_hand = np.mean([np.mean([0.1, 0.9]), np.mean([0.05, 0.2])]) / 2.0
    assert scores.scaled_quantile_loss([insample], [actual], [quantiles], [0.1, 0.9]) == pytest.approx(by_hand)


def test_ses_smooths_the_adjusted_series_with_the_alpha_of_least_one_step_error():
    series = np.array([10.0, 12.0, 11.0, 15.0])
    # By hand, alpha 0.5: levels 10, 11, 11, 13; one-step errors 2, 0, 4 -> 20.
    level, errors = scores.smoothed_levels(series, [0.5])
    assert level[0] == pytest.approx(13.0) and errors[0] == pytest.approx(20.0)
    levels, errors = scores.smoothed_levels(series, scores.SES_ALPHAS)
    best = int(np.argmin(errors))
    assert np.all(errors[best] <= errors) and 0 < scores.SES_ALPHAS[best] < 1
    # Not seasonal (too short for the test): the flat forecast at that level.
    np.testing.assert_allclose(scores.ses(series, 3, 24), np.full(3, levels[best]))
    # A seasonal series with a level step: re-seasonalized by the last season's indices, as Naive2.
    season = np.tile([1.0, 2.0, 3.0, 2.0], 12) * np.repeat([10.0, 12.0], 24)
    forecast = scores.ses(season, 4, 4)
    np.testing.assert_allclose(forecast / forecast[0], [1.0, 2.0, 3.0, 2.0], rtol=0.05)
    assert 10.0 < forecast[0] < 12.5


def test_naive_baselines_reproduce_the_m4_hourly_figures():
    """The organisers' "Evaluation and Ranks" figures for Hourly: a scorer
    and baselines that give these to three decimals score correctly."""
    from rnnzoo.data.datasets import load_dataset

    root = os.path.dirname(helpers.shared_data("m4"))
    train, test = load_dataset("m4_hourly", "train", root=root), load_dataset("m4_hourly", "test", root=root)
    assert train.ids == test.ids and len(train) == 414
    published = {"naive": (43.003, 11.608), "seasonal_naive": (13.912, 1.193), "naive2": (18.383, 2.395)}
    for name, (smape, mase) in published.items():
        forecasts = [scores.BASELINES[name](series, 48, 24) for series in train.values]
        result = scores.m4_scores(train.values, test.values, forecasts, period=24)
        assert (round(result["smape"], 3), round(result["mase"], 3)) == (smape, mase), name
