"""Forecasting: a window of a timestamped series in, its next steps out.

The standard long-horizon protocol (Informer, Autoformer, Time-Series-Library):
- chronological splits: ETT trains on its first 12 months, validates on the
  next 4 and tests on the 4 after (`ETT_MONTHS`); any other series splits
  70/10/20. Each later split's first window reaches `lookback` steps back
  into the split before it, so every step of the split is forecast;
- every column is z-scored with the training split's mean and standard
  deviation;
- the test set is every window with stride 1, none dropped; MSE and MAE
  are reported on the normalized scale (as papers report them), MAE also in
  each column's own units, next to two baselines on the same windows: naive
  (repeat the last value) and seasonal naive (repeat the last day).

The served model takes a raw window in the series' units and returns the
forecast in those units: the z-scoring is inside the graph. With
`calendar=True` the model also reads the hour of day and day of week of
every step of the window and the horizon (`layers.CalendarFeatures`), and
the served model takes `time` beside the window: the hour of its last row
since 1970 (`hours_since_epoch`), from which the graph computes them. `rnnzoo
evaluate` scores a finished run's SavedModel the same way, on a split of the
series the run read or on every window of another CSV file.
"""

import dataclasses
import os

import keras
import numpy as np

from rnnzoo.data.builtin.series import multi_seasonal_series
from rnnzoo.data.datasets import DATASETS as DATASET_REGISTRY
from rnnzoo.data.datasets import load_dataset
from rnnzoo.data.formats.time_series import load_time_series
from rnnzoo.layers.calendar import hours_since_epoch
from rnnzoo.preprocessing.series import Standardizer
from rnnzoo.tasks import Evaluation, recipe
from rnnzoo.tasks.base import Task, max_abs_difference
from rnnzoo.utils.examples import first_examples

DATASETS = ("ett_h1",)
ETT_MONTHS = (12, 4, 4)  # train, validation, test, of 30 days each
FRACTIONS = (0.7, 0.1, 0.2)
NORMALIZATION_FILE = "normalization.json"
MAX_SERVING_CHECK = 512


def read_series(data, *, seed=0, root=None, download=False, date_column=None, fill=None, encoding="utf-8",
                target="OT", features="M"):
    """A series: `builtin` (generated with `seed`), a named dataset (under
    `root`, or downloaded) or a CSV path (`date_column`, `fill`,
    `encoding`); only the `target` column with `features="S"`."""
    if data == "builtin":
        series = multi_seasonal_series(seed=seed)
    elif data in DATASETS:
        series = load_dataset(data, "all", root=root, download=download)
    elif os.path.exists(data):
        series = load_time_series(data, date_column=date_column, fill=fill, encoding=encoding)
    elif data in DATASET_REGISTRY and DATASET_REGISTRY[data].example_type == "Panel":
        raise ValueError(f"--data {data}: a panel of many series; one model for all of them is the global "
                         f"forecasting recipe: python -m recipes.global_forecasting --data {data}")
    else:
        raise FileNotFoundError(f"--data {data}: no such file, and not a known dataset name "
                                f"({', '.join(('builtin',) + DATASETS)}).")
    if target not in series.columns:
        raise ValueError(f"--target {target}: no such column; the series has {', '.join(series.columns)}.")
    if features == "S":
        series = series.select([target])
    return series


def run_series(config):
    """The series a run reads, from its config (the recipe's, or a finished
    run's `config.json` as a dict)."""
    options = config if isinstance(config, dict) else dataclasses.asdict(config)
    return read_series(options["data"], seed=options.get("seed", 0), root=options.get("data_root"),
                       download=options.get("download", False), date_column=options.get("date_column"),
                       fill=options.get("fill"), encoding=options.get("encoding", "utf-8"),
                       target=options.get("target", "OT"), features=options.get("features", "M"))


def build_forecaster(config, channels, step=None):
    """The recipe's `--model` (`segment_rnn`, `direct`, `seq2seq` or
    `multiscale`), uncompiled; with `--calendar`, reading the calendar of
    each window (`step`: the series' step in seconds)."""
    options = dict(cell=config.cell, cell_options=config.cell_options, units=config.units, dropout=config.dropout,
                   normalization=None if config.normalization == "none" else config.normalization)
    if config.model in ("segment_rnn", "multiscale"):
        options["segment_length"] = config.segment_length
    if config.model != "segment_rnn":
        options.update(num_layers=config.num_layers, channel_independent=config.channel_independent)
    return network(config.model, config.lookback, config.horizon, channels, step if config.calendar else None,
                   compile=False, **options)


def network(model, lookback, horizon, channels, calendar_step=None, **options):
    """`rnnzoo.build_model("segment_rnn" | "<model>_forecaster", ...)`; with
    `calendar_step` (the series' step in seconds), reading the calendar of
    each window's `time` (`calendar_step_hours`)."""
    import rnnzoo

    name = "segment_rnn" if model == "segment_rnn" else f"{model}_forecaster"
    return rnnzoo.build_model(name, lookback=lookback, horizon=horizon, channels=channels,
                              calendar_step_hours=calendar_step / 3600 if calendar_step else None, **options)


def split_bounds(length, lookback, horizon, step_seconds, ett=False, name="the series"):
    """`{split: (start, end)}` row ranges; a later split starts `lookback`
    rows early (its first window's history). Every split must hold at least
    one window."""
    if ett:
        rows_per_month = int(30 * 24 * 3600 // step_seconds)
        ends = np.cumsum([months * rows_per_month for months in ETT_MONTHS])
    else:
        train, test = int(length * FRACTIONS[0]), int(length * FRACTIONS[2])
        ends = np.array([train, length - test, length])
    if ends[-1] > length:
        raise ValueError(f"{name} has {length} rows; the ETT split needs {ends[-1]}.")
    starts = [0, ends[0] - lookback, ends[1] - lookback]
    bounds = {split: (int(start), int(end)) for split, start, end in zip(("train", "validation", "test"), starts, ends)}
    for split, (start, end) in bounds.items():
        if end - start < lookback + horizon:
            raise ValueError(f"{name}: the {split} split has {end - start} rows with its history; a window needs "
                             f"--lookback {lookback} + --horizon {horizon} = {lookback + horizon}.")
    return bounds


def series_splits(series, lookback, horizon, data):
    """`(step in seconds, {split: (start, end)})` of a series read for
    `--data`: ETT's months for a named dataset, else 70/10/20."""
    step = step_seconds(series)
    return step, split_bounds(len(series), lookback, horizon, step, ett=data in DATASETS, name=f"--data {data}")


def step_seconds(series):
    return int(series.step / np.timedelta64(1, "s"))


def windows(values, start, end, lookback, horizon):
    """Every `(history, future)` pair in rows `start..end`, stride 1:
    arrays `(windows, lookback, columns)` and `(windows, horizon, columns)`."""
    rows = values[start:end]
    view = np.lib.stride_tricks.sliding_window_view(rows, lookback + horizon, axis=0)  # (n, columns, L + H)
    view = np.ascontiguousarray(np.moveaxis(view, -1, 1))
    return view[:, :lookback], view[:, lookback:]


def window_times(timestamps, start, end, lookback, horizon):
    """The `time` of every window `windows` cuts from rows `start..end`:
    the hour of its last row since 1970, float32 `(windows, 1)`."""
    last = np.asarray(timestamps)[start + lookback - 1: end - horizon]
    return hours_since_epoch(last).astype("float32")[:, None]


def split_windows(series, values, bounds, lookback, horizon, calendar=False):
    """`{split: (inputs, future)}`: every window of each split's rows of
    `values` (the series' values, scaled as the model reads them) and its
    future; `inputs` is the window, or with `calendar` `{"series": window,
    "time": its last row's hour}` (what the model reads)."""
    data = {}
    for split, (start, end) in bounds.items():
        history, future = windows(values, start, end, lookback, horizon)
        times = window_times(series.timestamps, start, end, lookback, horizon) if calendar else None
        data[split] = (model_inputs(history, times), future)
    return data


def model_inputs(history, times=None, key="series"):
    """Windows alone, or `{key: windows, "time": times}` (a calendar model's
    input; `key="window"`: the served model's)."""
    return history if times is None else {key: history, "time": times}


def head(data, count):
    """The first `count` windows of `(inputs, future)`."""
    return tuple(first_examples(part, count) for part in data)


def history_of(inputs):
    """The windows in `model_inputs`' answer."""
    return inputs["series"] if isinstance(inputs, dict) else inputs


def window_batches(arrays, batch_size, seed=None):
    """`(history, future)` arrays as a `tf.data.Dataset` of batches, shuffled
    with `seed` if given (the same order whenever it is read)."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(tuple(arrays))
    if seed is not None:
        dataset = dataset.shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=False)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def seasonal_period(step_seconds):
    """Steps in a day, for the seasonal-naive baseline (None when a step is
    longer than an hour)."""
    return int(24 * 3600 // step_seconds) if step_seconds <= 3600 else None


def baselines(history, future, period):
    """Naive (the last value repeated) and seasonal naive (the last `period`
    steps repeated) forecasts of every window, scored like the model."""
    horizon = future.shape[1]
    naive = np.repeat(history[:, -1:], horizon, axis=1)
    scores = {"naive": scores_of(naive, future)}
    if period and history.shape[1] >= period:
        repeats = -(-horizon // period)
        seasonal = np.tile(history[:, -period:], (1, repeats, 1))[:, :horizon]
        scores["seasonal_naive"] = scores_of(seasonal, future)
    return scores


def scores_of(predicted, future):
    from rnnzoo.metrics import mean_absolute_error, mean_squared_error

    return {"mse": mean_squared_error(future, predicted), "mae": mean_absolute_error(future, predicted)}


def test_metrics(predicted, future, standardizer):
    """MSE and MAE on the normalized scale, MAE per column in its units, and
    MSE per horizon step."""
    metrics = scores_of(predicted, future)
    units = np.abs(standardizer.invert(predicted) - standardizer.invert(future)).mean(axis=(0, 1))
    metrics["mae_units"] = {column: float(value) for column, value in zip(standardizer.columns, units)}
    metrics["mse_by_step"] = ((predicted - future) ** 2).mean(axis=(0, 2)).tolist()
    return metrics


def raw_forecaster(model, standardizer):
    """A Keras model from a raw window `(batch, lookback, columns)` in the
    series' units (and, for a calendar model, `time` `(batch, 1)`) to the
    forecast in those units (the z-scoring inside)."""
    mean, variance = standardizer.mean, standardizer.std ** 2
    window = keras.Input(series_input(model).shape[1:], name="window")
    normalized = keras.layers.Normalization(mean=mean, variance=variance, name="standardize")(window)
    inputs = normalized
    if reads_calendar(model):
        time = keras.Input((1,), name="time")
        inputs, window = {"series": normalized, "time": time}, {"window": window, "time": time}
    forecast = keras.layers.Normalization(mean=mean, variance=variance, invert=True, name="restore")(model(inputs))
    return keras.Model(window, {"forecast": forecast}, name="forecaster")


def series_input(model):
    """A forecaster's window input (its only input, or `series`)."""
    return model.input["series"] if isinstance(model.input, dict) else model.inputs[0]


def reads_calendar(model):
    """Whether a forecaster reads each window's `time` (`calendar_step_hours`)."""
    return isinstance(model.input, dict) and "time" in model.input


def forecast_files(signature, run_dir, paths):
    """The run's forecast after the last `lookback` rows of each CSV file
    (its columns as in training, in any order; read as the run read its data:
    `--date-column`, `--fill`): batches of `{forecast, timestamps, columns}`
    for `run_folder.predict_run_folder`."""
    import tensorflow as tf

    from rnnzoo.data.reading import read_json

    standardizer = Standardizer.load(os.path.join(run_dir, NORMALIZATION_FILE))
    config_path = os.path.join(run_dir, "config.json")
    config = read_json(config_path) if os.path.exists(config_path) else {}
    read_options = {"date_column": config.get("date_column"), "fill": config.get("fill")}
    spec = signature.structured_input_signature[1]
    lookback = int(spec["window"].shape[1])
    batches = []
    for path in paths:
        series = load_time_series(path, **read_options).select(standardizer.columns)
        if len(series) < lookback:
            raise ValueError(f"{path}: {len(series)} rows; the model reads the last {lookback}.")
        inputs = {"window": series.values[None, -lookback:]}
        if "time" in spec:
            inputs["time"] = hours_since_epoch(series.timestamps[-1:]).astype("float32")[None]
        forecast = signature(**{k: tf.constant(v) for k, v in inputs.items()})["forecast"].numpy()
        horizon = forecast.shape[1]
        timestamps = series.timestamps[-1] + series.step * np.arange(1, horizon + 1)
        batches.append({"forecast": forecast, "timestamps": timestamps[None],
                        "columns": np.array([standardizer.columns])})
    return batches


@dataclasses.dataclass(frozen=True)
class Windows:
    """Every `(history, future)` window of one stretch of a series, in its
    units, its step in seconds and each window's `time` (`window_times`):
    what `rnnzoo evaluate` scores."""

    history: np.ndarray
    future: np.ndarray
    step_seconds: int
    times: np.ndarray = None

    def __len__(self):
        return len(self.history)


def evaluation_windows(run_dir, data, split, config, root=None, download=False, encoding="utf-8"):
    """The windows `rnnzoo evaluate` scores: for `builtin` or a named dataset,
    the `split` the recipe made of it (the same chronological cut); for a CSV
    file, every window of it (stride 1), read as the run read its data
    (`--date-column`, `--fill`)."""
    standardizer = Standardizer.load(os.path.join(run_dir, NORMALIZATION_FILE))
    series = run_series({**config, "data": data, "data_root": root, "download": download,
                         "encoding": encoding}).select(standardizer.columns)
    lookback, horizon = config["lookback"], config["horizon"]
    if data == "builtin" or data in DATASETS:
        _, bounds = series_splits(series, lookback, horizon, data)
        if split not in bounds:
            raise ValueError(f"--split {split}: a series splits into {', '.join(bounds)}.")
        start, end = bounds[split]
    elif len(series) < lookback + horizon:
        raise ValueError(f"--data {data}: {len(series)} rows; a window needs the run's lookback {lookback} + "
                         f"horizon {horizon} = {lookback + horizon}.")
    else:
        start, end = 0, len(series)
    return Windows(*windows(series.values, start, end, lookback, horizon), step_seconds=step_seconds(series),
                   times=window_times(series.timestamps, start, end, lookback, horizon))


def evaluate_run(run_dir, found, config, batch_size=256):
    """Scores the run's SavedModel (raw window in, forecast in units out) on
    `found` (`Windows`) like the recipe's test: normalized MSE and MAE, MAE
    per column in its units, MSE per step, and both baselines."""
    import tensorflow as tf

    from rnnzoo.exporting.text_serving import load_signature

    signature = load_signature(os.path.join(run_dir, "saved_model"))
    standardizer = Standardizer.load(os.path.join(run_dir, NORMALIZATION_FILE))
    inputs = {"window": found.history}
    if "time" in signature.structured_input_signature[1]:
        inputs["time"] = found.times
    forecast = np.concatenate([
        signature(**{k: tf.constant(v[start:start + batch_size], tf.float32) for k, v in inputs.items()})[
            "forecast"].numpy() for start in range(0, len(found), batch_size)])
    history, future = standardizer(found.history), standardizer(found.future)
    metrics = test_metrics(standardizer(forecast), future, standardizer)
    metrics["baselines"] = baselines(history, future, seasonal_period(found.step_seconds))
    return metrics


EVALUATION = Evaluation("forecasting", DATASETS, builtin=None, load_path=None, evaluate=evaluate_run,
                        load_split=evaluation_windows)


TFLITE_INPUTS = """`window`: float32 `(1, lookback, columns)`, the last `lookback` rows of the series in its own
units, columns in the order of `normalization.json` (and, for a `--calendar` run, `time`: float32 `(1, 1)`,
the hour of the window's last row since 1970-01-01 00:00, e.g. 2016-07-01 00:00 is 407,592). The output
`forecast` `(1, horizon, columns)` is in the same units."""


def export_tflite(run, config, forecaster, inputs_units, future_units, standardizer):
    """TFLite files of the raw-window forecaster, scored by normalized MSE on
    validation windows (`inputs_units`: `served_inputs`' answer)."""
    def mse(outputs):
        predicted = standardizer(np.asarray(outputs))
        return float(np.mean((predicted - standardizer(future_units[: len(predicted)])) ** 2))

    served = inputs_units if isinstance(inputs_units, dict) else {"window": inputs_units}
    examples = [{k: np.asarray(v[i], "float32") for k, v in served.items()} for i in range(len(future_units))]
    return recipe.export_tflite(run, config, forecaster, examples, mse, output="forecast")


def _series_windows(x, y, lookback, horizon):
    """`(history, future, times)` in the series' units: from windows `(n,
    lookback, columns)` (or `{"window": ..., "time": ...}`) and their
    futures `(n, horizon, columns)`, or from a whole series (a `TimeSeries`
    or a `(rows, columns)` array; every window, stride 1) when `y` is None.
    `times` (`window_times`) is None where nothing gives them."""
    if isinstance(x, dict):
        x, times = x["window"], np.asarray(x["time"], "float32")
    else:
        times = None
    values = np.asarray(getattr(x, "values", x), "float32")
    if y is not None:
        return values, np.asarray(y, "float32"), times
    if values.ndim != 2:
        raise ValueError(f"expected a series (rows, columns) or windows with their futures, got shape {values.shape}.")
    if len(values) < lookback + horizon:
        raise ValueError(f"the series has {len(values)} rows; a window needs lookback {lookback} + horizon "
                         f"{horizon} = {lookback + horizon}.")
    if hasattr(x, "timestamps"):
        times = window_times(x.timestamps, 0, len(values), lookback, horizon)
    return (*windows(values, 0, len(values), lookback, horizon), times)


class Forecaster(Task):
    """A forecaster that takes raw windows of a series, in its own units, and
    answers with the next `horizon` steps in those units: the per-column
    z-scoring (the preprocessor, `normalization.json`) is inside the served
    graph; the backbone (`segment_rnn`, `direct_forecaster`,
    `seq2seq_forecaster`) reads and writes the normalized scale, where the
    loss is taken (as the long-horizon papers report MSE).

    ```python
    forecaster = Forecaster.from_examples(train_series, lookback=96, horizon=24, units=64)
    forecaster.fit(train_series, epochs=5)                # a (rows, columns) array or TimeSeries
    forecaster.predict(windows)                           # (n, 24, columns), in the series' units
    forecaster.evaluate(test_series)["mse"]               # or evaluate(windows, futures)
    ```
    With `calendar=True` (a `TimeSeries`: its step and timestamps), the
    model also reads each step's hour of day and day of week; windows then
    come with their times, `predict({"window": windows, "time": hours})`
    (`window_times`), as the served model takes them.
    """

    recipe = "forecasting"
    serves = "window in, forecast out, in the series' units"

    def __init__(self, standardizer, model, step_seconds=None):
        self.standardizer, self.model, self.step_seconds = standardizer, model, step_seconds
        self.lookback, self.horizon = int(series_input(model).shape[1]), int(model.outputs[0].shape[1])
        self.calendar = reads_calendar(model)

    @classmethod
    def from_examples(cls, series, *, lookback, horizon, model="segment_rnn", columns=None, calendar=False,
                      **model_options):
        """Fit the scaling to a training series (a `TimeSeries` or a `(rows,
        columns)` array) and build the model (compiled): `network(...)`;
        `calendar` needs a `TimeSeries` (its step)."""
        values = np.asarray(getattr(series, "values", series), "float32")
        columns = columns or getattr(series, "columns", None) or [f"column_{i}" for i in range(values.shape[1])]
        step = step_seconds(series) if getattr(series, "step", None) is not None else None
        if calendar and step is None:
            raise ValueError("calendar=True reads the series' timestamps: give a TimeSeries, not an array.")
        built = network(model, lookback, horizon, values.shape[1], step if calendar else None, **model_options)
        return cls(Standardizer.fit(values, columns), built, step)

    def served_inputs(self, inputs):
        """The served model's input (`window` in the series' units[, `time`])
        from the model's (`split_windows`: scaled windows[, times])."""
        if isinstance(inputs, dict):
            return {"window": self.standardizer.invert(inputs["series"]), "time": inputs["time"]}
        return self.standardizer.invert(inputs)

    def _inputs(self, history, times, key="series"):
        """`model_inputs` for this model: the windows, and their times when it
        reads the calendar (else ValueError)."""
        if not self.calendar:
            return history
        if times is None:
            raise ValueError("this forecaster reads the calendar: give {'window': windows, 'time': hours} (the hour "
                             "of each window's last row since 1970, `window_times`) or a TimeSeries.")
        return model_inputs(history, times, key)

    def dataset(self, x, y=None, *, batch_size=32, shuffle=False, seed=0):
        """Normalized `(history, future)` batches (shuffled with `seed`)."""
        history, future, times = _series_windows(x, y, self.lookback, self.horizon)
        return window_batches((self._inputs(self.standardizer(history), times), self.standardizer(future)),
                              batch_size, seed=seed if shuffle else None)

    def forecasting_model(self):
        """The Keras model from a raw window to the forecast, both in the
        series' units (`raw_forecaster`)."""
        return raw_forecaster(self.model, self.standardizer)

    def predict(self, windows, batch_size=256):
        """The forecast `(n, horizon, columns)` after each window `(n,
        lookback, columns)` (a calendar model: `{"window": windows, "time":
        (n, 1)}`), in the series' units."""
        history, times = (windows["window"], windows["time"]) if isinstance(windows, dict) else (windows, None)
        inputs = self._inputs(self.standardizer(np.asarray(history, "float32")), times)
        normalized = self.model.predict(inputs, batch_size=batch_size, verbose=0)
        return self.standardizer.invert(np.asarray(normalized))

    def evaluate(self, x, y=None, batch_size=256):
        """Normalized MSE and MAE, MAE per column in its units, MSE per
        step, and the naive and seasonal-naive baselines on the same windows
        (a whole series: every window, stride 1)."""
        history, future, times = _series_windows(x, y, self.lookback, self.horizon)
        predicted = self.predict(model_inputs(history, times, "window") if self.calendar else history, batch_size)
        metrics = test_metrics(self.standardizer(predicted), self.standardizer(future),
                               self.standardizer)
        period = seasonal_period(self.step_seconds) if self.step_seconds else None
        metrics["baselines"] = baselines(self.standardizer(history), self.standardizer(future), period)
        return metrics

    def get_config(self):
        return {"step_seconds": self.step_seconds}

    @classmethod
    def run_options(cls, run_dir):
        return {}

    def save_assets(self, folder):
        self.standardizer.save(os.path.join(folder, NORMALIZATION_FILE))

    @classmethod
    def load_assets(cls, folder):
        return {"standardizer": Standardizer.load(os.path.join(folder, NORMALIZATION_FILE))}

    def serving(self):
        """`window` (raw, in the series' units; and `time` for a calendar
        model) -> `forecast` in those units."""
        import tensorflow as tf

        forecaster = self.forecasting_model()
        spec = tf.TensorSpec([None, self.lookback, len(self.standardizer.columns)], tf.float32, name="window")
        if not self.calendar:
            return (lambda window: forecaster(window)), (spec,), [forecaster]
        time = tf.TensorSpec([None, 1], tf.float32, name="time")
        return (lambda window, time: forecaster({"window": window, "time": time})), (spec, time), [forecaster]

    def export_check(self, signature, windows):
        """The largest difference from `predict`, absolute and relative to
        the forecasts' scale (each column's standard deviation)."""
        import tensorflow as tf

        served = windows if isinstance(windows, dict) else {"window": windows}
        served = {k: np.asarray(v, "float32")[:MAX_SERVING_CHECK] for k, v in served.items()}
        expected = self.predict(served if self.calendar else served["window"])
        served = signature(**{k: tf.constant(v) for k, v in served.items()})["forecast"].numpy()
        return {"max_abs_diff": max_abs_difference(served, expected),
                "max_relative_diff": max_abs_difference(served / self.standardizer.std,
                                                        expected / self.standardizer.std)}
