"""Global forecasting: one recurrent model for many series at once (M4
Hourly's 414), each window scaled by its own size inside the model, with
split-conformal 95% intervals, scored as the M4 competition scored.

```bash
python -m recipes.global_forecasting                      # 60 built-in hourly series, about a minute
python -m recipes.global_forecasting --data m4_hourly --data-root ../shared/data
python -m recipes.global_forecasting --data sales.csv --horizon 14 --period 7 --lookback 56
python -m recipes.global_forecasting --quantiles 0.025 0.5 0.975 --series-embedding 16   # quantiles, ids
```
A file holds a row per series (M4's layout) or a row per value
(`series_id,timestamp,value`), a folder a file per series; each series'
last `--horizon` values are its test. The model trains on windows that end
two horizons before the test; the horizon just before the test chooses the
epoch, the one before it calibrates the intervals. Reports sMAPE, MASE and
OWA against Naive2, the intervals' MSIS and coverage, beside the naive,
seasonal naive, Naive2 and SES forecasts; saves a SavedModel and TFLite
files from a raw window of any series to its forecast and interval in its
units. `--quantiles` (pinball loss) or `--distribution` (likelihood) serve
those too; `--series-embedding D` tells the series apart (the served model
then also takes `series_index`, the line in the run's `series_ids.txt`).
"""

import os

import numpy as np

from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import GlobalForecastingConfig
from rnnzoo.preprocessing.series import last_windows, series_windows
from rnnzoo.tasks import global_forecasting as forecasting
from rnnzoo.tasks import recipe


def main(argv=None):
    config = parse_config(GlobalForecastingConfig, argv, prog="python -m recipes.global_forecasting")
    horizon, lookback = config.horizon, max(config.lookback)  # windows of the longest lookback
    options = forecasting.model_options(config)  # checked before any work

    # Data: a panel of series; training windows stop two horizons before each series' test values.
    train, test = forecasting.read_panels(config.data, horizon, seed=config.seed, root=config.data_root,
                                          download=config.download, encoding=config.encoding)
    history, future, owners, too_short = series_windows(train.values, lookback, horizon, holdout=2 * horizon)
    if too_short:
        print(f"{len(too_short)} series shorter than a window and two horizons ({lookback + 3 * horizon} values) "
              f"give no training windows (they are still forecast): {', '.join(train.ids[i] for i in too_short[:10])}")
    validation = last_windows(train.values, lookback, horizon, holdout=2 * horizon)[:2]
    calibration = last_windows(train.values, lookback, horizon, holdout=horizon)[:2]
    if config.max_examples:
        history, future, owners = (a[: config.max_examples] for a in (history, future, owners))
    _, run = recipe.start("global_forecasting", config, builtin=None, load_path=None, unit="windows",
                          splits={"train": history, "validation": validation[0], "calibration": calibration[0],
                                  "test (series)": test.values})
    print(f"series: {len(train)}, {min(train.lengths())}-{max(train.lengths())} values each; forecast {horizon}")

    # Model: any forecaster over one channel; the window scaling is its first layer.
    with recipe.distribution(config).scope():
        task = forecasting.GlobalForecaster.from_examples(period=config.period, series_ids=train.ids, **options)
        recipe.compile_model(task.model, config, loss=task.loss)
    ids = np.array(train.ids)[owners]  # each window's series

    # Training: a fresh draw of windows from all series each epoch, weighted by 1 / their scale (a likelihood: 1).
    def train_batches(epoch):
        draw = np.random.default_rng([config.seed, epoch]).permutation(len(history))[: config.windows_per_epoch]
        return task.batches(history[draw], future[draw], config.batch_size, series_ids=ids[draw])

    task.model, state = recipe.train(task.model, train_batches, task.batches(*validation, config.batch_size, train.ids),
                                     run, config, monitor="val_loss", mode="min")

    # Intervals: conformal margins from the last horizon before the test, which the model never trained on.
    task.calibrate(*calibration, alpha=1 - config.coverage, series_ids=train.ids)

    # Evaluation: every series' forecast, as M4 scored it, against the baselines.
    metrics = task.evaluate(train, test)
    for name, found in metrics["baselines"].items():
        print(f"baseline {name}: sMAPE {found['smape']:.3f}, MASE {found['mase']:.3f}, OWA {found['owa']:.3f}")
    forecasting.plot_panel(task, train, test, run.file("forecasts.png"))  # four series with their intervals
    recipe.save_metrics(run, config, task.model, metrics, state, dataset=config.data, num_examples=len(test))

    # Export: a SavedModel and TFLite files from a raw window to the forecast and interval, each checked.
    serving = recipe.export_saved_model(run, config, task, train)  # after each series' last values
    tflite = forecasting.export_tflite(run, config, task, *validation, series_ids=train.ids)
    card = {"title": f"Global forecaster: {os.path.basename(run.path)}", "metric_name": "OWA (against Naive2)",
            "description": f"{config.model} ({config.cell.upper()}, {config.units} units) for {len(train)} series: "
                           f"the last {lookback} values of a series in, its next {horizon} and a "
                           f"{config.coverage:.0%} conformal interval out, in its units.",
            "split_sizes": {"train windows": len(history), "series": len(train)}, "serving_check": serving,
            "text_example": None, "input_kind": "window", "tflite": tflite,
            "tflite_inputs": forecasting.TFLITE_INPUTS}
    recipe.finish(run, config, task.model, metrics, state, dataset=config.data, num_examples=len(test),
                  extra={"serving_check": serving, "tflite": tflite, "too_short": [train.ids[i] for i in too_short]},
                  card=card, unit="series", task=task)
    return metrics


if __name__ == "__main__":
    recipe.command(main)
