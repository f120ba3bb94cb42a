"""Global forecasting: one model for a panel of many univariate series (shops,
sensors, servers; M4 Hourly's 414 series), trained on the windows of all of
them, with split-conformal intervals.

- The preprocessor is the window scaling: each window is divided by its mean
  absolute value inside the graph (the forecasters' `normalization="scale"`)
  and the forecast multiplied back, so series of any size share one model
  and the served model takes and returns each series' own units. Training
  weighs each window by 1 / its scale, so the mean absolute error is taken
  on the scaled values (a series of 100,000 counts as much as one of 10).
- The backbone is any forecaster (`segment_rnn`, `direct`, `seq2seq`,
  `multiscale`) with one channel.
- With `series_embedding=D`, the model also reads which series a window
  comes from: a learned vector of D values per training series (the
  forecasters' static covariate), index 0 standing for any series it did
  not train on; the ids are the preset's `series_ids.txt`, and the served
  model takes each window's `series_index` (its 1-based row there).
- Several lookbacks, or several members per lookback, make an ensemble
  trained side by side that answers with the members' median
  (`build_backbone`).
- With `quantiles=(0.025, 0.5, 0.975)` (levels, 0.5 among them), every
  member forecasts those quantiles (`QuantileSpread`: its forecast is the
  median, the other levels lie below and above it by positive steps that a
  dense layer reads from the scaled window and forecast) and trains on the
  pinball loss; the members' quantiles are combined level by level.
- Intervals: `calibrate(windows, futures)` keeps, per horizon step, the
  split-conformal margin of the absolute errors on calibration windows the
  model did not train on, in units of each window's seasonal spread (how
  much it moves in a season: `interval_spread`); an interval is the forecast
  plus and minus that margin times the window's spread
  (`rnnzoo.metrics.forecasting.conformal_margins`). A quantile model's
  interval is its own quantiles at `alpha / 2` and `1 - alpha / 2`, widened
  or narrowed by the conformalized-quantile-regression margin, also in
  spreads (`quantile_interval_margins`).
- Scores: the M4 competition's (sMAPE, MASE with the seasonal `period`,
  OWA against Naive2; MSIS and coverage of the intervals), next to the
  naive, seasonal naive and Naive2 forecasts of the same series.
"""

import os
import warnings

import keras
import numpy as np
from keras import ops

from rnnzoo.data.builtin.series import seasonal_panel
from rnnzoo.data.datasets import load_dataset
from rnnzoo.data.formats.panel import Panel, load_long_panel, load_m4_rows, load_panel_folder
from rnnzoo.data.reading import read_text
from rnnzoo.layers.distribution_heads import MIN_SCALE, DistributionLoss, get_distribution_head
from rnnzoo.utils.files import write_text
from rnnzoo.metrics import forecasting as scores
from rnnzoo.preprocessing.series import last_windows, series_windows
from rnnzoo.tasks import Evaluation, recipe
from rnnzoo.tasks.base import Task
from rnnzoo.tasks.forecasting import window_batches
from rnnzoo.topologies import forecasters
from rnnzoo.topologies.blocks import check_choice

DATASETS = ("m4_hourly",)
MAX_SERVING_CHECK = 512
SERIES_IDS = "series_ids.txt"


def read_panels(data, horizon, *, seed=0, root=None, download=False, encoding="utf-8"):
    """`(train, test)` panels: `builtin` (generated with `seed`), `m4_hourly`
    (the competition's split), or a CSV file in the M4 layout or the long
    layout (a `series_id` column) or a folder of CSV files (one series
    each), whose last `horizon` values of each series are held out for
    test."""
    if data == "builtin":
        return seasonal_panel(horizon=horizon, seed=seed)
    if data in DATASETS:
        train = load_dataset(data, "train", root=root, download=download)
        test = load_dataset(data, "test", root=root, download=download)
        if min(test.lengths()) < horizon:
            raise ValueError(f"--horizon {horizon}: {data}'s test split holds {min(test.lengths())} values per "
                             "series.")
        return train, Panel(test.ids, tuple(v[:horizon] for v in test.values))
    if not os.path.exists(data):
        raise FileNotFoundError(f"--data {data}: no such file or folder, and not a known dataset name "
                                f"({', '.join(('builtin',) + DATASETS)}).")
    panel = read_panel_file(data, encoding)
    short = [i for i, length in zip(panel.ids, panel.lengths()) if length <= horizon]
    if short:
        raise ValueError(f"--data {data}: series {', '.join(short[:5])} hold at most --horizon {horizon} values; "
                         "nothing would be left to forecast from.")
    return (Panel(panel.ids, tuple(v[:-horizon] for v in panel.values)),
            Panel(panel.ids, tuple(v[-horizon:] for v in panel.values)))


def read_panel_file(path, encoding="utf-8"):
    """A panel file in the long layout (a `series_id` column) or M4's (a row
    per series), or a folder of CSV files (`load_panel_folder`)."""
    if os.path.isdir(path):
        return load_panel_folder(path, encoding=encoding)
    header = read_text(path, encoding).split("\n", 1)[0]
    return load_long_panel(path, encoding=encoding) if "series_id" in header else load_m4_rows(path, encoding)


def serve_panel(signature, run_dir, panel):
    """The run's SavedModel answer after each series' last `lookback`
    values (with each series' `series_index` when the model embeds series):
    a dict of NumPy arrays `(series, horizon)`."""
    import tensorflow as tf

    spec = signature.structured_input_signature[1]
    history = last_windows(panel.values, int(spec["window"].shape[1]))[0]
    inputs = {"window": history}
    if "series_index" in spec:
        inputs["series_index"] = series_index(read_series_ids(run_dir), panel.ids)[:, None]
    served = [signature(**{k: tf.constant(v[i:i + 1024]) for k, v in inputs.items()})
              for i in range(0, len(history), 1024)]
    return {key: np.concatenate([s[key].numpy() for s in served]) for key in served[0]}


def forecast_files(signature, run_dir, paths):
    """`rnnzoo predict RUN FILE...`: for each panel file, every series'
    forecast (and interval) after its last `lookback` values, as one batch
    of `{panel_forecast, series_ids[, lower, upper]}` per file."""
    batches = []
    for path in paths:
        panel = read_panel_file(path)
        served = serve_panel(signature, run_dir, panel)
        batch = {"panel_forecast": served["forecast"][None], "series_ids": np.array([panel.ids])}
        batch.update({key: served[key][None] for key in ("lower", "upper") if key in served})
        batches.append(batch)
    return batches


def model_options(config):
    """`GlobalForecaster.from_examples` arguments from the recipe's config."""
    options = {"lookback": list(config.lookback), "horizon": config.horizon, "model": config.model,
               "members_per_lookback": config.ensemble, "seed": config.seed, "cell": config.cell,
               "seasonal_skip": config.period if config.seasonal_skip else None,
               "series_embedding": config.series_embedding, "quantiles": config.quantiles,
               "distribution": None if config.distribution == "point" else config.distribution,
               "cell_options": config.cell_options, "units": config.units, "dropout": config.dropout,
               "normalization": None if config.normalization == "none" else config.normalization}
    if config.model in ("segment_rnn", "multiscale"):
        options["segment_length"] = config.segment_length
    if config.model != "segment_rnn":
        options["num_layers"] = config.num_layers
    if config.quantiles:
        check_quantile_levels(config.quantiles)
        if config.distribution != "point":
            raise ValueError(f"--quantiles and --distribution {config.distribution}: give one of them.")
    if config.seasonal_skip and config.period > min(config.lookback):
        raise ValueError(f"--seasonal-skip repeats the last --period {config.period} values; --lookback "
                         f"{min(config.lookback)} holds fewer.")
    if config.dilations or config.residual:
        if config.model != "direct":
            raise ValueError("--dilations and --residual shape the direct model's stack: add --model direct")
        options.update(dilations=list(config.dilations) if config.dilations else None, residual=config.residual)
    return options


def window_scale(history):
    """Each window's mean absolute value `(n,)`: what the graph divides it by
    (`topologies.forecasters.window_scale`, run on NumPy windows `(n,
    lookback)`)."""
    scale = forecasters.window_scale(np.asarray(history, "float32")[..., None])
    return np.asarray(ops.convert_to_numpy(scale))[:, 0, 0]


def weighted_batches(history, future, batch_size, seed=None, series=None, weighted=True):
    """`(window, future, 1 / scale)` batches, channels last (shuffled with
    `seed` if given); with `series` (each window's series index), the
    window is `{"series": window, "static": index}`; `weighted=False`:
    every weight 1 (a likelihood loss is scale-free already)."""
    window = np.asarray(history, "float32")[..., None]
    if series is not None:
        window = {"series": window, "static": np.asarray(series, "int32")[:, None]}
    weights = 1.0 / window_scale(history) if weighted else np.ones(len(history), "float32")
    arrays = (window, np.asarray(future, "float32")[..., None], weights[:, None])
    return window_batches(arrays, batch_size, seed=seed)


def series_index(series_ids, ids):
    """Each of `ids`' row of a series embedding over `series_ids` (the
    training series): its 1-based position there, 0 for a series the model
    did not train on. int32 `(len(ids),)`."""
    rows = {str(s): i + 1 for i, s in enumerate(series_ids or ())}
    return np.array([rows.get(str(s), 0) for s in ids], "int32")


def read_series_ids(folder):
    """A run's or preset's training series ids (`series_ids.txt`, one per
    line), or None."""
    path = os.path.join(folder, SERIES_IDS)
    return read_text(path).split("\n")[:-1] if os.path.exists(path) else None


def _series(x):
    return x.values if isinstance(x, Panel) else x


def _ids(x, series_ids):
    """`series_ids` if given, else a panel's ids (else None)."""
    return series_ids if series_ids is not None else x.ids if isinstance(x, Panel) else None


def score_forecasts(insamples, actuals, answer, period, alpha):
    """The M4 scores of `answer["forecast"]` (and of the interval
    `answer["lower"]`, `answer["upper"]` when given) after each history of
    `insamples` against `actuals`, and those of the naive, seasonal naive
    and Naive2 forecasts of the same series; OWA is against Naive2."""
    horizon = len(answer["forecast"][0])
    if any(len(a) < horizon for a in actuals):
        raise ValueError(f"every series needs {horizon} values to score (the horizon).")
    baselines = {name: scores.m4_scores(insamples, actuals, [forecast(s, horizon, period) for s in insamples], period)
                 for name, forecast in scores.BASELINES.items()}
    for found in baselines.values():
        found["owa"] = scores.owa(found, baselines["naive2"])
    metrics = scores.m4_scores(insamples, actuals, list(answer["forecast"]), period)
    if "lower" in answer:
        metrics.update(scores.interval_scores(insamples, actuals, list(answer["lower"]), list(answer["upper"]),
                                              period, alpha))
    metrics["owa"] = scores.owa(metrics, baselines["naive2"])
    return {**metrics, "baselines": baselines, "series": len(insamples)}


def backtest(forecast, panel, horizon, period, alpha, cutoffs=1):
    """Rolling-origin evaluation: for k = 1..`cutoffs`, each series is cut
    `k * horizon` values before its end, `forecast(histories)` (a dict as
    `score_forecasts` reads) answers from what is before the cut, and the
    next `horizon` values score it. Returns each cut-off's scores
    (`cutoffs`, the most recent first) and their means."""
    shortest = min(len(s) for s in panel.values)
    if shortest <= cutoffs * horizon:
        raise ValueError(f"--backtest {cutoffs}: the shortest series has {shortest} values; {cutoffs} cut-offs of "
                         f"{horizon} need more than {cutoffs * horizon}.")
    found = []
    for k in range(1, cutoffs + 1):
        insamples = [np.asarray(s, "float64")[: len(s) - k * horizon] for s in panel.values]
        actuals = [np.asarray(s, "float64")[len(s) - k * horizon: len(s) - (k - 1) * horizon] for s in panel.values]
        found.append({"cutoff": k, **score_forecasts(insamples, actuals, forecast(insamples), period, alpha)})
    means = {key: float(np.mean([f[key] for f in found])) for key, value in found[0].items()
             if isinstance(value, float)}
    return {**means, "cutoffs": found, "series": len(panel)}


def interval_spread(window, period):
    """How much a window moves in a season: the mean absolute difference
    between its values a `period` apart (1 apart when the window is not
    longer than a period), at least 1e-3 of its mean absolute value: the
    unit of the conformal margins, so that intervals are wide where a series
    is hard to forecast and narrow where it repeats itself (the scale MASE
    and MSIS divide by, measured on the window). `window`: `(batch, lookback)`,
    NumPy or a tensor; returns `(batch, 1)`."""
    window = ops.convert_to_tensor(window, "float32")
    lag = period if window.shape[-1] > period else 1
    spread = ops.mean(ops.abs(window[:, lag:] - window[:, :-lag]), axis=-1, keepdims=True)
    level = forecasters.window_scale(window[..., None])[..., 0]  # (batch, 1)
    return ops.maximum(spread, 1e-3 * level)


def _spread(history, period):
    return np.asarray(ops.convert_to_numpy(interval_spread(np.asarray(history, "float32"), period)), "float64")


@keras.saving.register_keras_serializable(package="rnnzoo")
class ConformalBounds(keras.layers.Layer):
    """`(window, forecast)` -> `(lower, upper)`: the forecast minus and plus
    each horizon step's margin times the window's `interval_spread`. With
    `quantiles` (the levels of a quantile forecast `(batch, horizon, Q)`)
    and `alpha`, the bounds start from the forecast's quantiles at `alpha /
    2` and `1 - alpha / 2` instead (interpolated between levels)."""

    def __init__(self, margins, period, quantiles=None, alpha=None, distribution=None, **kwargs):
        super().__init__(**kwargs)
        self.margins, self.period = [float(m) for m in margins], int(period)
        self.quantiles = None if quantiles is None else [float(q) for q in quantiles]
        self.alpha = None if alpha is None else float(alpha)
        self.distribution = distribution

    def call(self, window, forecast):
        half_width = ops.convert_to_tensor(np.array(self.margins, "float32"))[None] * interval_spread(window,
                                                                                                      self.period)
        lower, upper = base_bounds(forecast, self.alpha, self.quantiles, self.distribution)
        return lower - half_width, upper + half_width

    def get_config(self):
        return {**super().get_config(), "margins": self.margins, "period": self.period, "quantiles": self.quantiles,
                "alpha": self.alpha, "distribution": self.distribution}


def base_bounds(forecast, alpha, quantiles=None, distribution=None):
    """The interval the conformal margins widen, NumPy arrays or tensors:
    a point forecast `(batch, horizon)` twice; a quantile forecast
    `(..., Q)`: its levels `alpha / 2` and `1 - alpha / 2`; a distribution's
    parameters `(..., P)`: its mean minus and plus the standard quantile
    times its scale (Normal's z; Student-t's by the Cornish-Fisher series in
    1 / df, for 95%: 3.1% short at df = 2, 0.7% at 3, 0.1% at 5; the
    conformal margin, computed with the same rule, absorbs the rest)."""
    if quantiles is not None:
        return tuple(_level(forecast, quantiles, level) for level in (alpha / 2, 1 - alpha / 2))
    if distribution is None:
        return forecast, forecast
    from scipy import stats

    z = float(stats.norm.ppf(1 - alpha / 2))
    reach = z * forecast[..., 1]
    if distribution == "student_t":
        df = forecast[..., 2]
        reach = forecast[..., 1] * (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
                                    + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))
    return forecast[..., 0] - reach, forecast[..., 0] + reach


def _level(quantile_values, levels, level):
    """The quantile at `level` of forecasts `(..., Q)` at `levels`: linear
    between the two levels around it, the outermost beyond them (as
    `numpy.interp`); NumPy arrays or tensors."""
    index = int(np.clip(np.searchsorted(levels, level) - 1, 0, len(levels) - 2))
    weight = float(np.clip((level - levels[index]) / (levels[index + 1] - levels[index]), 0.0, 1.0))
    return quantile_values[..., index] * (1 - weight) + quantile_values[..., index + 1] * weight


@keras.saving.register_keras_serializable(package="rnnzoo")
class QuantileSpread(keras.layers.Layer):
    """`(window (batch, lookback, 1), forecast (batch, horizon, 1))` ->
    quantiles `(batch, horizon, len(quantiles))` in the window's units: the
    forecast is the median (level 0.5); each level below it lies a positive
    step below the next, each above a positive step above the one before,
    the steps read by a dense layer from the window and the forecast divided
    by the window's scale (so the levels never cross and scale with the
    series)."""

    def __init__(self, quantiles, horizon, **kwargs):
        super().__init__(**kwargs)
        self.quantiles, self.horizon = [float(q) for q in quantiles], int(horizon)
        self.median = check_quantile_levels(self.quantiles)
        # Steps start near 5% of the window's scale (softplus(-3)): the tails' pinball gradients are weak
        # (only the few values beyond a level push it out), so a wide start would stay wide.
        self.steps = keras.layers.Dense(self.horizon * (len(self.quantiles) - 1), name="quantile_steps",
                                        bias_initializer=keras.initializers.Constant(-3.0))

    def build(self, window_shape, forecast_shape):
        self.steps.build((None, window_shape[1] + self.horizon))

    def call(self, window, forecast):
        features, scale = _scaled_inputs(window, forecast)
        steps = ops.softplus(ops.reshape(self.steps(features), (-1, self.horizon, len(self.quantiles) - 1))) * scale
        below, above = steps[..., : self.median], steps[..., self.median:]
        reach_below = ops.flip(ops.cumsum(ops.flip(below, axis=-1), axis=-1), axis=-1)  # to each lower level
        return ops.concatenate([forecast - reach_below, forecast, forecast + ops.cumsum(above, axis=-1)], axis=-1)

    def compute_output_shape(self, window_shape, forecast_shape):
        return (forecast_shape[0], self.horizon, len(self.quantiles))

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles, "horizon": self.horizon}


@keras.saving.register_keras_serializable(package="rnnzoo")
class DistributionSpread(keras.layers.Layer):
    """`(window (batch, lookback, 1), forecast (batch, horizon, 1))` -> a
    distribution's parameters `(batch, horizon, P)` in the window's units:
    the forecast is the mean; the scale (and, for `"student_t"`, the
    degrees of freedom, above 2) per step come from a dense layer reading
    the window and the forecast divided by the window's scale, the scale
    multiplied back (the parameters `NormalHead(positive=True)` /
    `StudentTHead(positive=True)` read)."""

    def __init__(self, distribution, horizon, **kwargs):
        super().__init__(**kwargs)
        check_choice("distribution", distribution, ("normal", "student_t"))
        self.distribution, self.horizon = distribution, int(horizon)
        self.extra = 1 if distribution == "normal" else 2
        self.project = keras.layers.Dense(self.horizon * self.extra, name="distribution_parameters")

    def build(self, window_shape, forecast_shape):
        self.project.build((None, window_shape[1] + self.horizon))

    def call(self, window, forecast):
        features, scale = _scaled_inputs(window, forecast)
        raw = ops.reshape(self.project(features), (-1, self.horizon, self.extra))
        found = [forecast, (ops.softplus(raw[..., :1]) + MIN_SCALE) * scale]
        if self.distribution == "student_t":
            found.append(ops.softplus(raw[..., 1:]) + 2.0)
        return ops.concatenate(found, axis=-1)

    def compute_output_shape(self, window_shape, forecast_shape):
        return (forecast_shape[0], self.horizon, 1 + self.extra)

    def get_config(self):
        return {**super().get_config(), "distribution": self.distribution, "horizon": self.horizon}


def _scaled_inputs(window, forecast):
    """What a spread layer reads: the window and the forecast divided by
    the window's scale, side by side `(batch, lookback + horizon)`, and that
    scale `(batch, 1, 1)`."""
    scale = forecasters.window_scale(window)
    return ops.concatenate([(window / scale)[..., 0], (forecast / scale)[..., 0]], axis=-1), scale


def check_quantile_levels(quantiles):
    """The index of 0.5 among increasing `quantiles` with levels on both
    sides of it (else ValueError)."""
    levels = list(quantiles)
    if (levels != sorted(set(levels)) or 0.5 not in levels or levels[0] <= 0 or levels[-1] >= 1
            or levels[0] == 0.5 or levels[-1] == 0.5):
        raise ValueError(f"--quantiles must be increasing levels in (0, 1) with 0.5 among them and levels below and "
                         f"above it, got {' '.join(map(str, levels))}.")
    return levels.index(0.5)


@keras.saving.register_keras_serializable(package="rnnzoo")
class MemberMedian(keras.layers.Layer):
    """`(batch, horizon, members)` -> `(batch, horizon)`: the median of the
    members' forecasts (their mean for one or two); a quantile ensemble's
    `(batch, horizon, members, quantiles)` -> `(batch, horizon, quantiles)`,
    level by level (which keeps the levels in order)."""

    def call(self, forecasts):
        if len(forecasts.shape) == 4:  # members on axis -2: move them last
            forecasts = ops.transpose(forecasts, (0, 1, 3, 2))
        members = forecasts.shape[-1]
        if members <= 2:  # no sort: the median of one or two is their mean
            return ops.mean(forecasts, axis=-1)
        ordered = ops.sort(forecasts, axis=-1)
        middle = members // 2
        if members % 2:
            return ordered[..., middle]
        return (ordered[..., middle - 1] + ordered[..., middle]) / 2

    def compute_output_shape(self, input_shape):
        return input_shape[:-1] if len(input_shape) == 3 else input_shape[:2] + input_shape[3:]


@keras.saving.register_keras_serializable(package="rnnzoo")
class SeasonalSkip(keras.layers.Layer):
    """`(window (batch, lookback, 1), forecast (batch, horizon, 1))` ->
    the forecast plus the seasonal-naive forecast: the window's last
    `period` values repeated over the horizon."""

    def __init__(self, period, horizon, **kwargs):
        super().__init__(**kwargs)
        self.period, self.horizon = int(period), int(horizon)

    def call(self, window, forecast):
        season = window[:, -self.period:, 0]
        season = ops.concatenate([season] * -(-self.horizon // self.period), axis=1)[:, : self.horizon]
        # Added as (batch, horizon) rows: TFLite's converter mistakes a (batch, horizon, 1) add for a bias.
        return ops.expand_dims(forecast[..., 0] + season, -1)

    def compute_output_shape(self, window_shape, forecast_shape):
        return forecast_shape

    def get_config(self):
        return {**super().get_config(), "period": self.period, "horizon": self.horizon}


def build_backbone(lookbacks, horizon, model="segment_rnn", members_per_lookback=1, seed=0, seasonal_skip=None,
                   series=0, series_embedding=0, quantiles=None, distribution=None, **model_options):
    """One forecaster per lookback (and `members_per_lookback` of each, with
    their own initial weights) over the last values of one window of the
    longest lookback: `(batch, max lookback, 1)` -> `(batch, horizon,
    members)`, trained side by side (each member's own error counts, the
    loss averaging over members) and answering with their median (an
    ensemble, as the M4 winners forecast). One member is the forecaster
    itself. With `seasonal_skip=period`, every member forecasts a correction
    to the seasonal-naive forecast (the last `period` values repeated),
    which is added to it: where a series repeats its last season, the
    members have nothing to learn. With `series_embedding=D` (and `series`
    training series), the model reads `{"series": window, "static": index
    (batch, 1)}` and every member embeds the index (0: an unseen series) in
    D values. With `quantiles`, each member's forecast becomes those
    quantiles (`QuantileSpread`), with `distribution` ("normal",
    "student_t") the mean of that distribution (`DistributionSpread`), and
    the model answers `(batch, horizon, members, quantiles or
    parameters)`."""
    import rnnzoo

    if series_embedding:
        model_options.update(static_cardinalities=[int(series) + 1], static_dim=int(series_embedding))
    name = "segment_rnn" if model == "segment_rnn" else f"{model}_forecaster"
    lookbacks = sorted(set(int(lookback) for lookback in lookbacks))
    longest = lookbacks[-1]
    if seasonal_skip and seasonal_skip > lookbacks[0]:
        raise ValueError(f"the seasonal skip repeats the last {seasonal_skip} values; the shortest lookback is "
                         f"{lookbacks[0]}.")
    members = []
    for lookback in lookbacks:
        for _ in range(members_per_lookback):
            keras.utils.set_random_seed(seed * 1000 + len(members))  # each member its own initial weights
            members.append(rnnzoo.build_model(name, lookback=lookback, horizon=horizon, channels=1, compile=False,
                                              **model_options))
    if len(members) == 1 and not seasonal_skip and not quantiles and not distribution:
        return members[0]
    window = keras.Input((longest, 1), name="series")
    inputs = {"series": window, "static": keras.Input((1,), dtype="int32", name="static")} if series_embedding \
        else window
    forecasts = []
    for member, lookback in zip(members, [lookback for lookback in lookbacks for _ in range(members_per_lookback)]):
        member_window = window if lookback == longest else keras.layers.Cropping1D((longest - lookback, 0))(window)
        forecasts.append(member(dict(inputs, series=member_window) if series_embedding else member_window))
    if seasonal_skip:
        forecasts = [SeasonalSkip(seasonal_skip, horizon)(window, forecast) for forecast in forecasts]
    if quantiles or distribution:
        spreads = [QuantileSpread(quantiles, horizon) if quantiles else DistributionSpread(distribution, horizon)
                   for _ in forecasts]
        forecasts = [keras.layers.Reshape((horizon, 1, -1))(spread(window, forecast))
                     for spread, forecast in zip(spreads, forecasts)]
    forecast = forecasts[0] if len(forecasts) == 1 else keras.layers.Concatenate(axis=2, name="members")(forecasts)
    return keras.Model(inputs, forecast, name="forecast_ensemble")


class GlobalForecaster(Task):
    """One forecaster for many series, in their own units, with intervals.

    ```python
    train, test = rnnzoo.data.load_dataset("m4_hourly", "train"), ...("test")
    forecaster = GlobalForecaster.from_examples(lookback=168, horizon=48, period=24, units=128)
    forecaster.fit(train, epochs=2)                  # every window of every series
    forecaster.calibrate(windows, futures)           # held-out windows: conformal margins
    forecaster.predict(train)                        # (414, 48): after each series' last 168 values
    forecaster.evaluate(train, test)                 # sMAPE, MASE, OWA, MSIS, coverage, baselines
    ```
    `from_examples(..., quantiles=[0.025, 0.5, 0.975])` forecasts quantiles
    (`predict_quantiles`), `distribution="normal"` or `"student_t"` a
    distribution (`predict_quantiles` gives its parameters, `sample` draws);
    `series_embedding=16, series_ids=train.ids` tells the series apart.
    """

    recipe = "global_forecasting"
    serves = "a window of one series in, its forecast and interval out, in its units"

    def __init__(self, model, period=1, alpha=0.05, margins=None, series_ids=None, quantiles=None, distribution=None):
        self.model, self.period, self.alpha = model, int(period), float(alpha)
        self.quantiles = None if quantiles is None else [float(q) for q in quantiles]
        self.distribution = distribution
        if (self.quantiles is not None or distribution is not None) != (len(model.outputs[0].shape) == 4):
            raise ValueError("`quantiles` or `distribution` must say what the model forecasts: its output is "
                             f"{model.outputs[0].shape}.")
        self.margins = None if margins is None else [float(m) for m in margins]
        inputs = model.input if isinstance(model.input, dict) else {"series": model.inputs[0]}
        self.embeds_series = "static" in inputs
        if self.embeds_series and series_ids is None:
            raise ValueError("the model embeds series ids: give the `series_ids` it was trained on.")
        self.series_ids = None if series_ids is None else [str(s) for s in series_ids]
        self.lookback, self.horizon = int(inputs["series"].shape[1]), int(model.outputs[0].shape[1])
        if inputs["series"].shape[-1] != 1:
            raise ValueError(f"a global forecaster reads one series at a time; the model has "
                             f"{inputs['series'].shape[-1]} channels.")

    @classmethod
    def from_examples(cls, *, lookback, horizon, period=1, model="segment_rnn", members_per_lookback=1,
                      learning_rate=1e-3, normalization="scale", seed=0, seasonal_skip=None, series_ids=None,
                      series_embedding=0, quantiles=None, distribution=None, **model_options):
        """Build the backbone (`build_backbone`: `rnnzoo.build_model(
        "segment_rnn" | "<model>_forecaster", channels=1,
        normalization="scale")` for `lookback`, or for each of several
        lookbacks, an ensemble), compiled with Adam and the mean absolute
        error (the pinball loss with `quantiles`, the negative
        log-likelihood with `distribution`). `series_embedding=D` embeds
        each of `series_ids` (the training series) in D values."""
        if quantiles and distribution:
            raise ValueError("give quantiles or a distribution, not both.")
        if series_embedding and not series_ids:
            raise ValueError("series_embedding needs the training series' `series_ids`.")
        lookbacks = lookback if isinstance(lookback, (list, tuple)) else [lookback]
        network = build_backbone(lookbacks, horizon, model, members_per_lookback, seed=seed,
                                 seasonal_skip=seasonal_skip, series=len(series_ids or ()),
                                 series_embedding=series_embedding, quantiles=quantiles, distribution=distribution,
                                 normalization=normalization, **model_options)
        task = cls(network, period=period, series_ids=list(series_ids) if series_embedding else None,
                   quantiles=quantiles, distribution=distribution)
        network.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0), loss=task.loss)
        return task

    @property
    def loss(self):
        """The training loss: the mean absolute error of a point forecast, the
        mean pinball loss of quantiles (each window weighted by 1 / its
        scale, so both are taken on the scaled values), the negative
        log-likelihood of a distribution (which needs no weights: it is
        the scaled values' plus a constant)."""
        if self.distribution is not None:
            return DistributionLoss({"kind": self.distribution, "positive": True})
        if self.quantiles is None:
            return "mae"
        return DistributionLoss({"kind": "quantile", "quantiles": self.quantiles})

    @property
    def weighted(self):
        """Whether training weighs each window by 1 / its scale (the
        absolute and pinball losses; a likelihood is scale-free)."""
        return self.distribution is None

    def head(self):
        """The distribution head that reads the model's parameters (None for
        point and quantile forecasts)."""
        return None if self.distribution is None else get_distribution_head(self.distribution, positive=True)

    # Data --------------------------------------------------------------------------------------------------------

    def series_rows(self, x, series_ids=None):
        """Each window's or series' row of the series embedding
        (`series_index`): from `series_ids` if given, else from a panel's
        ids; None when the model does not embed series. Windows without ids
        read row 0 (an unseen series)."""
        if not self.embeds_series:
            return None
        ids = series_ids if series_ids is not None else x.ids if isinstance(x, Panel) else None
        return series_index(self.series_ids, ids) if ids is not None else np.zeros(len(x), "int32")

    def model_inputs(self, history, rows=None):
        """What the network reads: the windows `(n, lookback, 1)`, with their
        series rows when it embeds series."""
        window = np.asarray(history, "float32")[..., None]
        return window if rows is None else {"series": window, "static": np.asarray(rows, "int32")[:, None]}

    def windows(self, x, y=None, series_ids=None):
        """`(history, future, rows)`: every window (stride 1) of a panel or a
        list of series when `y` is None, else windows `(n, lookback)` and
        their futures `(n, horizon)` as given; `rows`: each window's series
        row (`series_rows`) or None."""
        if y is not None:
            return np.asarray(x, "float32"), np.asarray(y, "float32"), self.series_rows(x, series_ids)
        history, future, owners, too_short = series_windows(_series(x), self.lookback, self.horizon)
        if too_short:
            warnings.warn(f"{len(too_short)} series are shorter than a window ({self.lookback + self.horizon} "
                          "values) and give no training windows.", stacklevel=2)
        rows = self.series_rows(x, series_ids)
        return history, future, None if rows is None else rows[owners]

    def histories(self, x):
        """The windows a forecast starts from: `(n, lookback)` as given, or the
        last `lookback` values of each series of a panel or list (a shorter
        series is padded on the left with its first value)."""
        if isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == self.lookback:
            return x.astype("float32")
        return last_windows(_series(x), self.lookback)[0]

    def batches(self, history, future, batch_size, series_ids=None, seed=None):
        """Batches of windows `(n, lookback)` and their futures (with the
        windows' `series_ids` when the model embeds series), weighted as the
        loss needs (`weighted_batches`), shuffled with `seed` if given."""
        return weighted_batches(history, future, batch_size, seed=seed, series=self.series_rows(history, series_ids),
                                weighted=self.weighted)

    def dataset(self, x, y=None, *, batch_size=32, shuffle=False, seed=0, series_ids=None):
        history, future, rows = self.windows(x, y, series_ids)
        return weighted_batches(history, future, batch_size, seed=seed if shuffle else None, series=rows,
                                weighted=self.weighted)

    # Answers -----------------------------------------------------------------------------------------------------

    def predict(self, x, batch_size=1024, series_ids=None):
        """The forecast `(n, horizon)` after each window (or each series'
        last `lookback` values), in its units; a model that embeds series
        reads `series_ids` (one per window) or a panel's ids."""
        return self.predict_from(self.predict_quantiles(x, batch_size, series_ids))

    def predict_quantiles(self, x, batch_size=1024, series_ids=None):
        """A quantile model's forecast quantiles `(n, horizon, len(quantiles))`
        (the members' median level by level); a distribution's parameters
        `(n, horizon, P)` (mean, scale[, df]; the members' median of each);
        a point model's forecast."""
        history = self.histories(x)
        inputs = self.model_inputs(history, self.series_rows(x if isinstance(x, Panel) else history, series_ids))
        members = np.asarray(self.model.predict(inputs, batch_size=batch_size, verbose=0))
        return np.median(members, axis=-2 if members.ndim == 4 else -1)

    def _bounds(self, history, batch_size, series_ids):
        """`(forecast, lower, upper)` before the conformal margins: the point
        forecast three times, or a quantile model's median and its quantiles
        at alpha / 2 and 1 - alpha / 2."""
        found = self.predict_quantiles(history, batch_size, series_ids)
        lower, upper = base_bounds(found, self.alpha, self.quantiles, self.distribution)
        return self.predict_from(found), lower, upper

    def predict_from(self, found):
        """The point forecast in `predict_quantiles`' answer."""
        if self.quantiles is not None:
            return found[..., self.quantiles.index(0.5)]
        return found if self.distribution is None else found[..., 0]

    def sample(self, x, draws=100, seed=0, series_ids=None):
        """A distribution model's draws `(draws, n, horizon)` of each
        forecast (`head().sample`)."""
        if self.distribution is None:
            raise ValueError("only a model with a distribution (normal, student_t) samples its forecasts.")
        return self.head().sample(self.predict_quantiles(x, series_ids=series_ids), draws, seed)

    def predict_interval(self, x, batch_size=1024, series_ids=None):
        """`{forecast, lower, upper}`, each `(n, horizon)`: the conformal
        (1 - alpha) interval around the forecast (after `calibrate`)."""
        if self.margins is None:
            raise ValueError("no intervals yet: calibrate(windows, futures) on windows the model did not train on.")
        history = self.histories(x)
        forecast, lower, upper = self._bounds(history, batch_size, _ids(x, series_ids))
        half_width = np.array(self.margins)[None] * _spread(history, self.period)
        return {"forecast": forecast, "lower": lower - half_width, "upper": upper + half_width}

    def calibrate(self, windows, futures, alpha=None, series_ids=None):
        """Split-conformal margins per horizon step from calibration windows
        and their futures (and the windows' `series_ids` when the model
        embeds series), on the errors in units of each window's
        `interval_spread` (for a quantile model, how far its interval misses
        or overshoots, `quantile_interval_margins`). Returns the margins."""
        self.alpha = self.alpha if alpha is None else float(alpha)
        history, future = np.asarray(windows, "float32"), np.asarray(futures, "float32")
        scale = _spread(history, self.period)
        forecast, lower, upper = self._bounds(history, 1024, series_ids)
        if self.quantiles is None and self.distribution is None:
            margins = scores.conformal_margins(future / scale, forecast / scale, self.alpha)
        else:
            margins = scores.quantile_interval_margins(future / scale, lower / scale, upper / scale, self.alpha)
        if not np.isfinite(margins).all():
            raise ValueError(f"{len(history)} calibration windows are too few for a {1 - self.alpha:.0%} interval "
                             f"(at least {int(np.ceil(1 / self.alpha)) - 1} are needed).")
        self.margins = margins.tolist()
        return self.margins

    def evaluate(self, x, y, batch_size=1024):
        """M4 scores of the forecast after each series of `x` (a panel or a
        list) against `y` (the values that follow, `horizon` each): sMAPE,
        MASE, OWA against Naive2, MSIS and coverage when calibrated, and the
        baselines' scores on the same series (`score_forecasts`)."""
        insamples, actuals = list(_series(x)), [np.asarray(a, "float64")[: self.horizon] for a in _series(y)]
        ids = _ids(x, None)
        answer = self.predict_interval(insamples, batch_size, ids) if self.margins is not None else {
            "forecast": self.predict(insamples, batch_size, ids)}
        found = score_forecasts(insamples, actuals, answer, self.period, self.alpha)
        if self.quantiles is not None:
            found["quantile_loss"] = scores.scaled_quantile_loss(
                insamples, actuals, self.predict_quantiles(insamples, batch_size, ids), self.quantiles, self.period)
        if self.distribution is not None:  # CRPS of 200 draws, each series' divided by its seasonal scale
            draws = self.sample(insamples, 200, series_ids=ids)
            found["crps"] = float(np.mean([scores.crps_from_samples(a, draws[:, k]) / scores.seasonal_scale(
                x, self.period) for k, (x, a) in enumerate(zip(insamples, actuals))]))
        return found

    # Saving and serving ------------------------------------------------------------------------------------------

    def get_config(self):
        return {"period": self.period, "alpha": self.alpha, "margins": self.margins, "quantiles": self.quantiles,
                "distribution": self.distribution}

    def save_assets(self, folder):
        # The scaling is inside the model and the margins in task.json; the embedded series' ids are a file.
        if self.series_ids is not None:
            write_text(os.path.join(folder, SERIES_IDS), "".join(f"{s}\n" for s in self.series_ids))

    @classmethod
    def load_assets(cls, folder):
        return {"series_ids": read_series_ids(folder)}

    def forecasting_model(self):
        """The Keras model from raw windows `(batch, lookback)` to
        `{forecast}` (and `{lower, upper}` once calibrated), in the series'
        units."""
        window = keras.Input((self.lookback,), name="window")
        series = keras.layers.Reshape((self.lookback, 1))(window)
        inputs = {"window": window}
        if self.embeds_series:
            inputs["series_index"] = keras.Input((1,), dtype="int32", name="series_index")
            series = {"series": series, "static": inputs["series_index"]}
        forecast = MemberMedian(name="forecast")(self.model(series))
        outputs = {"forecast": forecast}
        if self.quantiles is not None:
            outputs["quantiles"] = forecast
            outputs["forecast"] = forecast[..., self.quantiles.index(0.5)]  # the median
        if self.distribution is not None:
            outputs["forecast"], outputs["scale"] = forecast[..., 0], forecast[..., 1]  # mean and scale
            if self.distribution == "student_t":
                outputs["df"] = forecast[..., 2]
        if self.margins is not None:
            outputs["lower"], outputs["upper"] = ConformalBounds(self.margins, self.period, self.quantiles,
                                                                 self.alpha, self.distribution,
                                                                 name="interval")(window, forecast)
        return keras.Model(inputs if self.embeds_series else window, outputs, name="global_forecaster")

    def serving(self):
        """`window` `(batch, lookback)` in the series' units (and, when the
        model embeds series, `series_index` `(batch, 1)`: each window's
        1-based row in `series_ids.txt`, 0 for an unseen series) ->
        `forecast` (and `lower`, `upper`) in those units."""
        import tensorflow as tf

        forecaster = self.forecasting_model()
        spec = tf.TensorSpec([None, self.lookback], tf.float32, name="window")
        if not self.embeds_series:
            return (lambda window: forecaster(window)), (spec,), [forecaster]
        index = tf.TensorSpec([None, 1], tf.int32, name="series_index")
        return ((lambda window, series_index: forecaster({"window": window, "series_index": series_index})),
                (spec, index), [forecaster])

    def export_check(self, signature, x):
        """The largest difference from `predict` (and the intervals),
        absolute and relative to each window's scale."""
        import tensorflow as tf

        x = x[:MAX_SERVING_CHECK]
        history, ids = self.histories(x), _ids(x, None)
        inputs = {"window": tf.constant(history)}
        if self.embeds_series:
            inputs["series_index"] = tf.constant(self.series_rows(history if ids is None else x)[:, None])
        served = signature(**inputs)
        expected = self.predict_interval(history, series_ids=ids) if self.margins is not None else {
            "forecast": self.predict(history, series_ids=ids)}
        found = self.predict_quantiles(history, series_ids=ids)
        if self.quantiles is not None:
            expected["quantiles"] = found
        if self.distribution is not None:
            expected.update({key: found[..., i] for i, key in enumerate(("scale", "df")[: found.shape[-1] - 1], 1)})
        scale = window_scale(history)
        found = {key: served[key].numpy() for key in expected}
        differences = {k: np.abs(found[k] - expected[k]) for k in expected}
        return {"max_abs_diff": max(float(np.max(d)) for d in differences.values()),
                "max_relative_diff": max(float(np.max(d / scale.reshape((-1,) + (1,) * (d.ndim - 1))))
                                         for d in differences.values())}


def plot_panel(task, train, test, path, count=4):
    """`count` series spread over the panel: the end of each history, the
    forecast with its interval and the values that came (`test`)."""
    from rnnzoo.metrics import plot_forecasts

    shown = np.linspace(0, len(train) - 1, count).astype(int)
    answer = {k: v[shown, :, None] for k, v in task.predict_interval(train).items()}
    plot_forecasts(task.histories(train)[shown, :, None], np.stack(test.values)[shown, :, None], answer["forecast"],
                   0, path, lower=answer["lower"], upper=answer["upper"], names=[train.ids[i] for i in shown])


def export_tflite(run, config, task, validation_windows, validation_futures, series_ids=None):
    """TFLite files of the raw-window forecaster, each scored by sMAPE on
    validation windows (of the series `series_ids`, when the model embeds
    series)."""
    def smape(outputs):
        predicted = np.asarray(outputs)
        return scores.smape(validation_futures[: len(predicted)], predicted)

    examples = [{"window": np.asarray(w, "float32")} for w in validation_windows]
    rows = task.series_rows(validation_windows, series_ids)
    if rows is not None:
        examples = [dict(example, series_index=np.array([row], "int32")) for example, row in zip(examples, rows)]
    return recipe.export_tflite(run, config, task.forecasting_model(), examples, smape, output="forecast")


TFLITE_INPUTS = """`window`: float32 `(1, lookback)`, the last `lookback` values of one series in its own units
(and, when the run embeds series, `series_index`: int32 `(1, 1)`, the series' 1-based line in `series_ids.txt`,
0 for a series it did not train on).
The outputs `forecast`, `lower` and `upper` `(1, horizon)` are in the same units (`lower` and `upper`: the
conformal interval at the run's level); a `--quantiles` run adds `quantiles` `(1, horizon, levels)`, a
`--distribution` run `scale` (and `df` for Student-t) `(1, horizon)`, `forecast` being the mean."""


def evaluation_panel(run_dir, data, split, config, root=None, download=False, encoding="utf-8"):
    """The whole series `rnnzoo evaluate` backtests: for `builtin` and
    `m4_hourly`, the recipe's training and test values joined (so the first
    cut-off is the recipe's test); for a file, its series as they are."""
    if split != "test":
        raise ValueError(f"--split {split}: a panel is scored on the last horizon(s) of each series (the test split; "
                         "--backtest K for more cut-offs).")
    train, test = read_panels(data, config["horizon"], seed=config.get("seed", 0), root=root, download=download,
                              encoding=encoding)
    return Panel(train.ids, tuple(np.concatenate([a, b]) for a, b in zip(train.values, test.values)))


def evaluate_run(run_dir, panel, config, backtest_cutoffs=None):
    """Backtest the run's SavedModel (raw windows in, forecast and interval
    out) on `panel` over `backtest_cutoffs` cut-offs (default 1: the last
    horizon of each series)."""
    from rnnzoo.exporting.text_serving import load_signature

    signature = load_signature(os.path.join(run_dir, "saved_model"))

    def forecast(insamples):
        return serve_panel(signature, run_dir, Panel(panel.ids, tuple(insamples)))

    return backtest(forecast, panel, config["horizon"], config["period"], 1 - config["coverage"],
                    cutoffs=backtest_cutoffs or 1)


EVALUATION = Evaluation("global_forecasting", DATASETS, builtin=None, load_path=None, evaluate=evaluate_run,
                        load_split=evaluation_panel, backtests=True)
