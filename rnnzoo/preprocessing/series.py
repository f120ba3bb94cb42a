"""Series scaling: per-column z-scoring with the training rows' statistics
(`Standardizer`, saved as `normalization.json`); a forecaster serves it
inside its graph (`rnnzoo.tasks.forecasting.raw_forecaster`). Windows of a
panel of many series (`series_windows`, `last_windows`) for global models,
which scale each window inside their graph instead (the forecasters'
`normalization="scale"`)."""

import json

import numpy as np

from rnnzoo.utils.files import write_json


class Standardizer:
    """Per-column z-scoring with the training rows' statistics."""

    def __init__(self, mean, std, columns):
        self.mean, self.std, self.columns = np.asarray(mean, "float32"), np.asarray(std, "float32"), tuple(columns)

    @classmethod
    def fit(cls, values, columns):
        std = values.std(axis=0)
        return cls(values.mean(axis=0), np.where(std > 0, std, 1.0), columns)

    def __call__(self, values):
        return (values - self.mean) / self.std

    def invert(self, values):
        return values * self.std + self.mean

    def save(self, path):
        write_json(path, {"columns": list(self.columns), "mean": self.mean.tolist(), "std": self.std.tolist()})

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            found = json.load(f)
        return cls(found["mean"], found["std"], found["columns"])


# Windows of a panel (many series): one model learns from every series' windows.


def series_windows(values, lookback, horizon, holdout=0):
    """Every `(history, future)` window, stride 1, of each series in `values`
    (a sequence of 1-D arrays) with its last `holdout` values left out:
    `history (n, lookback)`, `future (n, horizon)` float32 and `series (n,)`,
    the index of the series each window comes from; no window crosses two
    series. Also returns the indices of the series too short for one window
    (fewer than `lookback + horizon + holdout` values), which give none."""
    histories, futures, owners, too_short = [], [], [], []
    for index, series in enumerate(values):
        series = np.asarray(series, "float32")[: len(series) - holdout]
        if len(series) < lookback + horizon:
            too_short.append(index)
            continue
        view = np.lib.stride_tricks.sliding_window_view(series, lookback + horizon)
        histories.append(view[:, :lookback])
        futures.append(view[:, lookback:])
        owners.append(np.full(len(view), index))
    if not histories:
        raise ValueError(f"no series has the {lookback + horizon + holdout} values a window needs (lookback "
                         f"{lookback} + horizon {horizon}, with the last {holdout} held out).")
    return np.concatenate(histories), np.concatenate(futures), np.concatenate(owners), too_short


def last_windows(values, lookback, horizon=0, holdout=0):
    """One window per series: the `lookback` values before its last
    `holdout` ones (the history a forecast starts from) and, with `horizon`,
    the `horizon` values after them. A series shorter than that is padded on
    the left with its first value; returns `(history (n, lookback), future
    (n, horizon), padded)` with `padded` the indices of the padded series."""
    histories, futures, padded = [], [], []
    for index, series in enumerate(values):
        series = np.asarray(series, "float32")
        if holdout + horizon > 0 and len(series) < holdout + 1:
            raise ValueError(f"series {index} has {len(series)} values; holding out {holdout} leaves none.")
        end = len(series) - holdout
        history = series[max(end - lookback, 0): end]
        if len(history) < lookback:
            padded.append(index)
            history = np.concatenate([np.full(lookback - len(history), history[0], "float32"), history])
        histories.append(history)
        futures.append(series[end: end + horizon])
    if any(len(future) < horizon for future in futures):
        raise ValueError(f"holding out {holdout} values leaves some series without {horizon} to forecast.")
    return np.stack(histories), np.stack(futures).reshape(len(futures), horizon), padded
