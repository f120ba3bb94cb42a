"""A generated multi-seasonal series for the forecasting recipe: hourly
loads with daily and weekly cycles, slow drift and AR(1) noise, and an `OT`
column that follows the loads with a lag (as ETT's oil temperature follows
its loads). One series, split in time by the task like ETT. And a panel of
many hourly series in M4's layout for global forecasting (`seasonal_panel`)."""

import numpy as np

from rnnzoo.data.formats.panel import Panel
from rnnzoo.data.formats.time_series import TimeSeries

COLUMNS = ("load_a", "load_b", "OT")


def _ar1(rng, steps, phi=0.8, scale=0.3):
    noise = rng.normal(scale=scale, size=steps)
    out = np.empty(steps)
    out[0] = noise[0]
    for t in range(1, steps):
        out[t] = phi * out[t - 1] + noise[t]
    return out


def multi_seasonal_series(steps=24 * 7 * 24, seed=0):
    """`steps` hours (24 weeks by default) from 2020-01-01 as a `TimeSeries`."""
    rng = np.random.default_rng([seed, 20261201])
    t = np.arange(steps, dtype="float64")
    daily, weekly = 2 * np.pi * t / 24, 2 * np.pi * t / (24 * 7)
    drift = 1.5 * np.sin(2 * np.pi * t / steps)
    load_a = 10 + 3 * np.sin(daily) + 1.5 * np.sin(weekly) + drift + _ar1(rng, steps)
    load_b = 5 + 2 * np.sin(daily - 1.0) + 0.8 * np.cos(weekly) + _ar1(rng, steps, scale=0.2)
    lagged = np.concatenate([np.full(3, load_a[0]), load_a[:-3]])
    oil = 20 + 0.8 * lagged - 0.5 * load_b + 0.5 * np.sin(daily + 0.5) + _ar1(rng, steps, phi=0.9, scale=0.2)
    timestamps = np.datetime64("2020-01-01T00:00:00", "s") + np.arange(steps) * np.timedelta64(1, "h")
    values = np.stack([load_a, load_b, oil], axis=1).astype("float32")
    return TimeSeries(timestamps, values, COLUMNS)


def seasonal_panel(count=60, horizon=48, seed=0):
    """`(train, test)` `Panel`s of `count` hourly series like M4 Hourly's:
    lengths 400-700, levels from 10 to 100,000, a daily cycle whose amplitude
    follows the level (multiplicative), a weekly one on some, a trend on
    some, AR(1) noise; `test` holds the `horizon` values after each training
    series (the M4 layout)."""
    rng = np.random.default_rng([seed, 20261204])
    ids, train, test = [], [], []
    for index in range(count):
        steps = int(rng.integers(400, 701)) + horizon
        t = np.arange(steps, dtype="float64")
        phase = rng.uniform(0, 2 * np.pi)
        daily = 1 + rng.uniform(0.1, 0.5) * np.sin(2 * np.pi * t / 24 + phase)
        weekly = 1 + rng.choice([0.0, rng.uniform(0.05, 0.2)]) * np.sin(2 * np.pi * t / 168)
        trend = 1 + rng.choice([0.0, rng.uniform(-0.3, 0.3)]) * t / steps
        noise = 1 + _ar1(rng, steps, phi=0.7, scale=0.03)
        values = 10 ** rng.uniform(1, 5) * daily * weekly * trend * noise
        ids.append(f"S{index + 1}")
        train.append(values[:-horizon])
        test.append(values[-horizon:])
    return Panel(tuple(ids), tuple(train)), Panel(tuple(ids), tuple(test))
