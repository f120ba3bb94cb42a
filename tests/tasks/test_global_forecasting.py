"""The global forecasting recipe end to end on a small panel file (long
layout), and its refusals of bad input."""

import json
import os

import keras
import numpy as np
import pytest

from rnnzoo import cli
from rnnzoo.data.builtin.series import seasonal_panel
from rnnzoo.data.formats.panel import Panel
from rnnzoo.metrics import forecasting as baselines
from rnnzoo.metrics.forecasting import smape
from rnnzoo.tasks.global_forecasting import backtest

TINY = ["--lookback", "12", "24", "--ensemble", "2", "--horizon", "6", "--period", "6", "--segment-length", "6",
        "--units", "8", "--seasonal-skip",
        "--epochs", "1", "--smoke", "--verbose", "0", "--coverage", "0.8"]


def _long_file(path, series):
    rows = ["series_id,timestamp,value"]
    start = np.datetime64("2024-01-01T00:00:00", "s")
    for name, values in series:
        rows += [f"{name},{start + np.timedelta64(i, 'h')},{v:.3f}" for i, v in enumerate(values)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_a_panel_file_trains_one_model_that_serves_any_series_with_an_interval(tmp_path, capsys):
    import tensorflow as tf

    import rnnzoo
    from recipes import global_forecasting

    train, test = seasonal_panel(count=10, horizon=6)
    path = _long_file(tmp_path / "panel.csv", [(i, np.concatenate([a, b])[-120:])
                                               for i, a, b in zip(train.ids, train.values, test.values)])
    metrics = global_forecasting.main(["--data", path, *TINY, "--export-quantize", "--output", str(tmp_path / "out")])
    assert {"smape", "mase", "owa", "msis", "coverage", "baselines"} <= set(metrics) and metrics["series"] == 10
    assert metrics["baselines"]["naive2"]["owa"] == 1.0
    assert metrics["owa"] == pytest.approx((metrics["smape"] / metrics["baselines"]["naive2"]["smape"]
                                            + metrics["mase"] / metrics["baselines"]["naive2"]["mase"]) / 2)
    (name,) = os.listdir(tmp_path / "out" / "global_forecasting")
    folder = tmp_path / "out" / "global_forecasting" / name
    for file in ("forecasts.png", "README.md", "task.json", "saved_model/saved_model.pb", "tflite/model.tflite"):
        assert (folder / file).exists(), file
    report = json.loads((folder / "metrics.json").read_text())
    assert report["extra"]["serving_check"]["max_relative_diff"] < 1e-4

    # The SavedModel takes a raw window of any size and answers in its units, inside its interval.
    window = np.concatenate([train.values[0], test.values[0]])[-24:].astype("float32")
    signature = tf.saved_model.load(str(folder / "saved_model")).signatures["serving_default"]
    small, large = (signature(window=tf.constant(w[None])) for w in (window, 1000 * window))
    np.testing.assert_allclose(large["forecast"].numpy(), 1000 * small["forecast"].numpy(), rtol=1e-3)
    assert np.all(small["lower"].numpy() <= small["forecast"].numpy())
    assert np.all(small["forecast"].numpy() <= small["upper"].numpy())

    # The run folder is a preset: the task predicts what the SavedModel serves, with the same interval.
    task = rnnzoo.load(str(folder))
    assert type(task).__name__ == "GlobalForecaster" and task.get_config()["alpha"] == pytest.approx(0.2)
    answer = task.predict_interval(window[None])
    for key in ("forecast", "lower", "upper"):
        np.testing.assert_allclose(answer[key], small[key].numpy(), rtol=1e-4, atol=1e-3)

    # `rnnzoo evaluate --backtest 2`: two cut-offs through the SavedModel; the first is the recipe's test.
    cli.main(["evaluate", str(folder), "--data", path, "--backtest", "2", "--output", str(tmp_path / "b.json")])
    found = json.loads((tmp_path / "b.json").read_text())["metrics"]
    assert [c["cutoff"] for c in found["cutoffs"]] == [1, 2]
    assert found["cutoffs"][0]["smape"] == pytest.approx(metrics["smape"], rel=1e-4)
    assert found["owa"] == pytest.approx(np.mean([c["owa"] for c in found["cutoffs"]]))
    whole = [np.concatenate([a, b])[-120:] for a, b in zip(train.values, test.values)]
    served = signature(window=tf.constant(np.stack([s[-12 - 24:-12] for s in whole]).astype("float32")))
    by_hand = np.mean([smape(s[-12:-6], f) for s, f in zip(whole, served["forecast"].numpy())])
    assert found["cutoffs"][1]["smape"] == pytest.approx(by_hand, rel=1e-4)

    # `rnnzoo predict RUN FILE`: every series' next 6 values after its last 24, with the interval.
    capsys.readouterr()
    cli.main(["predict", str(folder), path])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[:2] == [f"# forecast after {path}", "series_id,step,forecast,lower,upper"] and len(lines) == 2 + 60
    served = signature(window=tf.constant(np.stack([s[-24:] for s in whole]).astype("float32")))
    assert lines[2].split(",")[:2] == [train.ids[0], "1"]
    np.testing.assert_allclose([float(v) for v in lines[2].split(",")[2:]],
                               [served[k].numpy()[0, 0] for k in ("forecast", "lower", "upper")], rtol=1e-4)
    with pytest.raises(SystemExit, match="2"):  # --backtest 0: the parser refuses it (exit 2)
        cli.main(["evaluate", str(folder), "--data", path, "--backtest", "0"])


def test_a_backtest_of_naive_scores_as_the_naive_baseline():
    train, test = seasonal_panel(count=5, horizon=6)
    panel = Panel(train.ids, tuple(np.concatenate([a, b]) for a, b in zip(train.values, test.values)))

    def naive(insamples):
        return {"forecast": np.stack([baselines.naive(s, 6) for s in insamples])}

    found = backtest(naive, panel, horizon=6, period=24, alpha=0.05, cutoffs=3)
    for cutoff in found["cutoffs"]:
        assert cutoff["owa"] == pytest.approx(cutoff["baselines"]["naive"]["owa"])
    assert found["smape"] == pytest.approx(np.mean([c["smape"] for c in found["cutoffs"]]))
    with pytest.raises(ValueError, match="the shortest series has 5 values; 1 cut-offs of 6 need more than 6"):
        backtest(naive, Panel(("a",), (np.arange(5.0),)), horizon=6, period=1, alpha=0.05)


def test_bad_panels_are_refused_with_the_place(tmp_path):
    from recipes import global_forecasting

    out = ["--output", str(tmp_path / "out")]
    path = _long_file(tmp_path / "short.csv", [("a", np.arange(50.0)), ("b", np.arange(5.0))])
    with pytest.raises(ValueError, match=r"series b hold at most --horizon 6 values"):
        global_forecasting.main(["--data", path, *TINY, *out])
    with pytest.raises(FileNotFoundError, match="not a known dataset name"):
        global_forecasting.main(["--data", str(tmp_path / "missing.csv"), *out])
    (tmp_path / "bad.csv").write_text('"V1","V2","V3"\n"H1","1","x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv:2: column 3: 'x' is not a number"):
        global_forecasting.main(["--data", str(tmp_path / "bad.csv"), *TINY, *out])
    with pytest.raises(ValueError, match="--dilations and --residual shape the direct model's stack"):
        global_forecasting.main(["--dilations", "1", "2", *out])
    assert not (tmp_path / "out").exists()  # refused before a run folder was made


@pytest.mark.parametrize("members_per_lookback", [1, 2])
def test_an_ensemble_is_its_members_on_their_own_lookbacks_and_answers_their_median(members_per_lookback):
    from rnnzoo.tasks.global_forecasting import GlobalForecaster, MemberMedian

    task = GlobalForecaster.from_examples(lookback=[12, 24], horizon=6, period=6, segment_length=6, units=4,
                                          members_per_lookback=members_per_lookback)
    members = [layer for layer in task.model.layers if isinstance(layer, keras.Model)]
    assert [m.inputs[0].shape[1] for m in members] == [12] * members_per_lookback + [24] * members_per_lookback
    window = np.random.default_rng(0).uniform(1, 2, size=(3, 24)).astype("float32")
    by_hand = np.concatenate([np.asarray(m(window[:, -m.inputs[0].shape[1]:, None])) for m in members], axis=-1)
    np.testing.assert_allclose(np.asarray(task.model(window[..., None])), by_hand, rtol=1e-5, atol=1e-6)
    assert len({tuple(np.asarray(w).ravel()[:3]) for w in (m.weights[0] for m in members)}) == len(members)
    np.testing.assert_allclose(task.predict(window), np.median(by_hand, axis=-1), rtol=1e-5, atol=1e-6)
    for count in (1, 2, 3, 4):
        forecasts = np.random.default_rng(count).normal(size=(2, 5, count)).astype("float32")
        np.testing.assert_allclose(np.asarray(MemberMedian()(forecasts)), np.median(forecasts, axis=-1), rtol=1e-6)


def test_the_seasonal_skip_adds_the_last_season_to_each_members_correction():
    from rnnzoo.tasks.global_forecasting import GlobalForecaster

    task = GlobalForecaster.from_examples(lookback=[12, 24], horizon=9, period=6, segment_length=3, units=4,
                                          seasonal_skip=6)
    members = [layer for layer in task.model.layers if isinstance(layer, keras.Model)]
    window = np.random.default_rng(3).uniform(1, 2, size=(2, 24)).astype("float32")
    corrections = np.concatenate([np.asarray(m(window[:, -m.inputs[0].shape[1]:, None])) for m in members], -1)
    season = np.concatenate([window[:, -6:], window[:, -6:-3]], axis=1)[..., None]  # 9 steps: 6, then 3 again
    np.testing.assert_allclose(np.asarray(task.model(window[..., None])), corrections + season, rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(ValueError, match="repeats the last 24 values; the shortest lookback is 12"):
        GlobalForecaster.from_examples(lookback=[12, 24], horizon=6, seasonal_skip=24, segment_length=6, units=4)


def test_a_series_embedding_reads_which_series_a_window_comes_from(tmp_path):
    import rnnzoo
    from rnnzoo.tasks.global_forecasting import GlobalForecaster, series_index

    train, _ = seasonal_panel(count=4, horizon=6)
    panel = Panel(train.ids, tuple(v[-60:] for v in train.values))
    options = dict(lookback=[12, 24], horizon=6, period=6, segment_length=6, units=4, series_embedding=3)
    with pytest.raises(ValueError, match="series_embedding needs the training series' `series_ids`"):
        GlobalForecaster.from_examples(**options)
    task = GlobalForecaster.from_examples(series_ids=panel.ids, **options)
    assert task.embeds_series and series_index(panel.ids, ["S9", panel.ids[2]]).tolist() == [0, 3]
    history, future, rows = task.windows(panel)
    assert rows.tolist() == [k + 1 for k in range(4) for _ in range(60 - 24 - 6 + 1)]  # each window's own series
    task.fit(panel, epochs=1, batch_size=32, verbose=0)

    # The same values under another id forecast differently; an unseen id reads row 0, as windows without ids do.
    renamed = Panel(("S9",) + panel.ids[1:], panel.values)
    known, unseen = task.predict(panel), task.predict(renamed)
    assert not np.allclose(known[0], unseen[0]) and np.allclose(known[1:], unseen[1:])
    np.testing.assert_allclose(unseen[0], task.predict(task.histories(panel)[:1])[0], rtol=1e-4,
                               atol=1e-5 * np.abs(unseen).max())

    # The preset keeps the ids; the SavedModel takes each window's `series_index` and serves what predict gives.
    task.calibrate(*task.windows(panel)[:2], series_ids=[panel.ids[k] for k in rows - 1], alpha=0.2)
    task.save_to_preset(str(tmp_path / "preset"))
    assert (tmp_path / "preset" / "series_ids.txt").read_text().split() == list(panel.ids)
    loaded = rnnzoo.load(str(tmp_path / "preset"))
    np.testing.assert_allclose(loaded.predict(panel), known, rtol=1e-4, atol=1e-5 * np.abs(known).max())
    check = loaded.export(str(tmp_path / "saved_model"), panel)
    assert check["examples"] == 4 and check["max_relative_diff"] < 1e-4


def test_a_quantile_forecaster_orders_its_levels_scales_with_the_series_and_serves_them(tmp_path):
    import rnnzoo
    from rnnzoo.tasks.global_forecasting import GlobalForecaster, MemberMedian, QuantileSpread

    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    with pytest.raises(ValueError, match="0.5 among them and levels below and above it"):
        QuantileSpread([0.1, 0.9], 6)
    layer = QuantileSpread(levels, 6)
    window = np.random.default_rng(0).uniform(1, 2, size=(3, 12, 1)).astype("float32")
    forecast = np.random.default_rng(1).uniform(1, 2, size=(3, 6, 1)).astype("float32")
    found = np.asarray(layer(window, forecast))
    assert found.shape == (3, 6, 5) and np.all(np.diff(found, axis=-1) > 0)  # the levels never cross
    np.testing.assert_allclose(found[..., 2], forecast[..., 0], rtol=1e-6)  # the forecast is the median
    np.testing.assert_allclose(np.asarray(layer(1000 * window, 1000 * forecast)), 1000 * found, rtol=1e-4)
    members = np.random.default_rng(2).normal(size=(2, 6, 3, 5)).astype("float32")  # (batch, horizon, members, Q)
    np.testing.assert_allclose(np.asarray(MemberMedian()(members)), np.median(members, axis=2), rtol=1e-6)

    train, _ = seasonal_panel(count=4, horizon=6)
    panel = Panel(train.ids, tuple(v[-60:] for v in train.values))
    task = GlobalForecaster.from_examples(lookback=[12, 24], horizon=6, period=6, segment_length=6, units=4,
                                          quantiles=levels)
    task.fit(panel, epochs=1, batch_size=32, verbose=0)
    quantiles = task.predict_quantiles(panel)
    assert quantiles.shape == (4, 6, 5) and np.all(np.diff(quantiles, axis=-1) >= 0)
    np.testing.assert_allclose(task.predict(panel), quantiles[..., 2])
    history, future, _ = task.windows(panel)
    margins = task.calibrate(history, future, alpha=0.1)
    answer = task.predict_interval(history)
    # CQR: the 90% interval is the 0.05 and 0.95 levels moved by each step's margin (in spreads), and it
    # holds at least 90% of the calibration values it was fitted on, step by step.
    spread = np.asarray(keras.ops.convert_to_numpy(
        rnnzoo.tasks.global_forecasting.interval_spread(history, 6)))
    np.testing.assert_allclose(answer["lower"], task.predict_quantiles(history)[..., 0] - np.array(margins) * spread,
                               rtol=1e-5, atol=1e-5 * np.abs(answer["lower"]).max())
    assert np.all(np.mean((future >= answer["lower"]) & (future <= answer["upper"]), axis=0) >= 0.9)
    metrics = task.evaluate(panel, [v[:6] for v in train.values])  # scores any later values given
    assert metrics["quantile_loss"] > 0 and 0 <= metrics["coverage"] <= 1

    task.save_to_preset(str(tmp_path / "preset"))
    loaded = rnnzoo.load(str(tmp_path / "preset"))
    assert loaded.quantiles == levels
    check = loaded.export(str(tmp_path / "saved_model"), history)
    assert check["max_relative_diff"] < 1e-4


def test_a_folder_of_series_files_splits_each_series_last_horizon_for_test(tmp_path):
    from rnnzoo.tasks.global_forecasting import read_panels

    for name, length in (("shop1", 10), ("shop2", 7)):
        (tmp_path / f"{name}.csv").write_text("value\n" + "".join(f"{v}\n" for v in range(length)))
    train, test = read_panels(str(tmp_path), horizon=3)
    assert train.ids == test.ids == ("shop1", "shop2")
    assert [len(v) for v in train.values] == [7, 4] and test.values[1].tolist() == [4.0, 5.0, 6.0]


def test_distribution_parameters_scale_with_the_series_and_bound_the_interval_as_the_distribution_does():
    from scipy import stats

    from rnnzoo.tasks.global_forecasting import DistributionSpread, base_bounds

    window = np.random.default_rng(0).uniform(1, 2, size=(3, 12, 1)).astype("float32")
    forecast = np.random.default_rng(1).uniform(1, 2, size=(3, 6, 1)).astype("float32")
    layer = DistributionSpread("student_t", 6)
    found = np.asarray(layer(window, forecast))
    assert found.shape == (3, 6, 3) and np.all(found[..., 1] > 0) and np.all(found[..., 2] > 2)
    np.testing.assert_allclose(found[..., 0], forecast[..., 0])  # the forecast is the mean
    large = np.asarray(layer(1000 * window, 1000 * forecast))
    np.testing.assert_allclose(large[..., :2], 1000 * found[..., :2], rtol=1e-4)  # mean and scale in its units
    np.testing.assert_allclose(large[..., 2], found[..., 2], rtol=1e-4)  # the tails do not depend on the size
    with pytest.raises(ValueError, match="`distribution` must be one of 'normal', 'student_t'"):
        DistributionSpread("gamma", 6)

    parameters = np.array([[[10.0, 2.0, 2.0], [10.0, 2.0, 10.0]]])
    lower, upper = base_bounds(parameters[..., :2], 0.05, distribution="normal")
    np.testing.assert_allclose(upper, stats.norm.ppf(0.975, 10.0, 2.0), rtol=1e-6)
    lower, upper = base_bounds(parameters, 0.05, distribution="student_t")
    standard, exact = (upper[0] - 10.0) / 2.0, stats.t.ppf(0.975, [2.0, 10.0])  # 4.30 and 2.23
    assert abs(standard[0] - exact[0]) < 0.04 * exact[0] and abs(standard[1] - exact[1]) < 0.002 * exact[1]
    np.testing.assert_allclose(lower[0], 20.0 - upper[0])


@pytest.mark.parametrize("distribution", ["normal", "student_t"])
def test_a_distribution_forecaster_trains_on_its_likelihood_samples_and_serves_its_parameters(distribution,
                                                                                             tmp_path):
    import rnnzoo
    from rnnzoo.tasks.global_forecasting import GlobalForecaster

    train, _ = seasonal_panel(count=4, horizon=6)
    panel = Panel(train.ids, tuple(v[-60:] for v in train.values))
    task = GlobalForecaster.from_examples(lookback=24, horizon=6, period=6, segment_length=6, units=4,
                                          distribution=distribution)
    assert not task.weighted  # a likelihood needs no 1 / scale weights
    history, future, _ = task.windows(panel)
    task.fit(panel, epochs=1, batch_size=32, verbose=0)
    parameters = task.predict_quantiles(history)
    assert parameters.shape == (len(history), 6, 2 if distribution == "normal" else 3)
    draws = task.sample(history[:2], draws=4000, seed=0)
    assert draws.shape == (4000, 2, 6)
    scale = parameters[:2, :, 1]
    # The draws' median (the mean too, for these symmetric ones) is the forecast, within sampling error.
    assert np.all(np.abs(np.median(draws, axis=0) - task.predict(history[:2])) < 0.1 * scale)
    task.calibrate(history, future, alpha=0.1)
    metrics = task.evaluate(panel, [v[:6] for v in train.values])
    assert metrics["crps"] > 0 and 0 <= metrics["coverage"] <= 1
    task.save_to_preset(str(tmp_path / "preset"))
    loaded = rnnzoo.load(str(tmp_path / "preset"))
    assert loaded.distribution == distribution
    check = loaded.export(str(tmp_path / "saved_model"), history[:32])
    assert check["max_relative_diff"] < 1e-4


@pytest.mark.parametrize("options", [{"quantiles": [0.05, 0.5, 0.95]}, {"distribution": "student_t"},
                                     {"series_embedding": 3}])
def test_probabilistic_and_embedding_forecasters_train_on_this_backend(options):
    # Run under torch and JAX by CI as well (a layer attribute named `parameters` once broke torch only).
    from rnnzoo.tasks.global_forecasting import GlobalForecaster

    train, _ = seasonal_panel(count=3, horizon=6)
    panel = Panel(train.ids, tuple(v[-40:] for v in train.values))
    task = GlobalForecaster.from_examples(lookback=[12, 24], horizon=6, period=6, segment_length=6, units=4,
                                          series_ids=panel.ids, **options)
    history = task.fit(panel, epochs=1, batch_size=16, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    found = task.predict_quantiles(panel)
    assert found.shape[:2] == (3, 6) and np.isfinite(found).all()
    assert task.predict(panel).shape == (3, 6)
