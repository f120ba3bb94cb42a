"""Multivariate time-series forecasting: SegRNN (segments of the lookback
window read by a recurrent cell, every future segment decoded at once),
`--model direct` (a recurrent stack and a dense head emitting the horizon),
`--model seq2seq` (an encoder, and a decoder forecasting step by step) or
`--model multiscale` (each day of hours into a vector, then the days).

```bash
python -m recipes.forecasting                      # built-in series, about a minute
python -m recipes.forecasting --data ett_h1 --data-root ../shared/data --horizon 96
python -m recipes.forecasting --data prices.csv --target close --features S
python -m recipes.forecasting --data ett_h1 --data-root ../shared/data --calendar   # hour and weekday too
```
The standard protocol: chronological splits (ETT: 12/4/4 months; other
files 70/10/20), z-scoring with training statistics, every test window with
stride 1. Reports MSE and MAE on the normalized scale (as papers do), MAE in
each column's units, and the naive and seasonal-naive baselines on the same
windows; saves a SavedModel and TFLite files that take a raw window in the
series' units and return the forecast in those units.
"""

import os

from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import ForecastingConfig
from rnnzoo.metrics import plot_error_by_step, plot_forecasts
from rnnzoo.tasks import forecasting, recipe


def main(argv=None):
    config = parse_config(ForecastingConfig, argv, prog="python -m recipes.forecasting")
    if config.bidirectional:
        raise ValueError("a forecaster reads the past left to right: drop --bidirectional")
    if config.model == "segment_rnn" and config.num_layers != 1:
        raise ValueError("SegRNN reads the segments with one recurrent layer: drop --layers (or use --model direct)")

    # Data: one series, split in time, z-scored with the training rows, cut into windows (stride 1); with
    # --calendar each window comes with the hour of its last row, from which the model computes the calendar.
    series = forecasting.run_series(config)
    step, bounds = forecasting.series_splits(series, config.lookback, config.horizon, config.data)
    standardizer = forecasting.Standardizer.fit(series.values[slice(*bounds["train"])], series.columns)
    data = forecasting.split_windows(series, standardizer(series.values), bounds, config.lookback, config.horizon,
                                     calendar=config.calendar)
    if config.max_examples:
        data["train"] = forecasting.head(data["train"], config.max_examples)
    if config.smoke:
        data = {k: v if k == "train" else forecasting.head(v, recipe.SMOKE_EXAMPLES) for k, v in data.items()}
    _, run = recipe.start("forecasting", config, builtin=None, load_path=None,
                          splits={k: v[1] for k, v in data.items()}, unit="windows")
    standardizer.save(run.file(forecasting.NORMALIZATION_FILE))
    print(f"series: {len(series)} rows of {', '.join(series.columns)}, every {series.step}")

    # Model: SegRNN (or the direct, seq2seq or multiscale forecaster) with the chosen cell.
    with recipe.distribution(config).scope():
        model = recipe.compile_model(forecasting.build_forecaster(config, len(series.columns), step), config,
                                     loss="mse", metrics=["mae"])

    # Training: shuffled windows, the best model by validation MSE.
    def train_batches(epoch):
        return forecasting.window_batches(data["train"], config.batch_size, seed=config.seed * 1000 + epoch)

    model, state = recipe.train(model, train_batches, forecasting.window_batches(data["validation"], config.batch_size),
                                run, config, monitor="val_loss", mode="min")

    # Evaluation: every test window, against the naive and seasonal-naive forecasts.
    inputs, future = data["test"]
    history = forecasting.history_of(inputs)
    predicted = model.predict(inputs, batch_size=config.batch_size, verbose=0)
    metrics = forecasting.test_metrics(predicted, future, standardizer)
    # Seasonal naive repeats the last day.
    metrics["baselines"] = forecasting.baselines(history, future, forecasting.seasonal_period(step))
    plot_forecasts(history, future, predicted, series.columns.index(config.target), run.file("forecasts.png"))
    plot_error_by_step(metrics["mse_by_step"], run.file("error_by_step.png"))
    for name, scores in metrics["baselines"].items():
        print(f"baseline {name}: mse {scores['mse']:.4f}, mae {scores['mae']:.4f}")

    recipe.save_metrics(run, config, model, metrics, state, dataset=config.data, num_examples=len(history))

    # Export: a raw-window SavedModel and TFLite files, both in the series' units, each checked.
    forecaster = forecasting.Forecaster(standardizer, model, step)
    serving = recipe.export_saved_model(run, config, forecaster, forecaster.served_inputs(inputs))
    validation, validation_future = data["validation"]
    tflite = forecasting.export_tflite(run, config, forecaster.forecasting_model(),
                                       forecaster.served_inputs(validation), standardizer.invert(validation_future),
                                       standardizer)
    card = {"title": f"Forecaster: {os.path.basename(run.path)}", "metric_name": "MSE (normalized)",
            "description": f"{config.model} ({config.cell.upper()}, {config.units} units): {config.lookback} steps of "
                           f"{', '.join(series.columns)} in, the next {config.horizon} out, in the series' units.",
            "split_sizes": {k: len(v[1]) for k, v in data.items()}, "serving_check": serving, "text_example": None,
            "input_kind": "calendar_window" if config.calendar else "window", "tflite": tflite,
            "tflite_inputs": forecasting.TFLITE_INPUTS}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=len(history),
                  extra={"serving_check": serving, "tflite": tflite, "columns": list(series.columns)}, card=card,
                  unit="windows", task=forecaster)
    return metrics


if __name__ == "__main__":
    recipe.command(main)
