"""`CalendarFeatures`: the known-future covariates of a dated window (hour
of day, day of week), computed inside the graph from one number per window,
so that a served forecaster takes `time` beside its window and nothing else.

`time` is the hour of the window's last step, counted from 1970-01-01 00:00
in the series' own clock (timestamps as the file writes them, no time
zone): `hours_since_epoch`. Step k of the window and horizon (k = 0 is the
window's first step, `lookback - 1` its last) is at `time + (k - lookback +
1) * step_hours`, and gets four features in [-1, 1]: the sine and cosine of
its hour of day (2 pi hour / 24) and of its day of week (2 pi day / 7,
Monday 0; 1970-01-01 was a Thursday). float32 holds whole hours exactly for
1,900 years after 1970 and quarter hours until 2900, so the features match
the calendar's to float precision.
"""

import keras
import numpy as np
from keras import ops

FEATURES = ("hour_sin", "hour_cos", "weekday_sin", "weekday_cos")
THURSDAY = 3  # 1970-01-01, Monday = 0


def hours_since_epoch(timestamps):
    """datetime64 timestamps (any unit, any shape) -> float64 hours since
    1970-01-01 00:00."""
    return (np.asarray(timestamps, "datetime64[s]") - np.datetime64(0, "s")) / np.timedelta64(3600, "s")


@keras.saving.register_keras_serializable(package="rnnzoo")
class CalendarFeatures(keras.layers.Layer):
    """`time` `(batch, 1)` (hours since 1970 of each window's last step) ->
    `(batch, lookback + horizon, 4)`: the sine and cosine of the hour of day
    and of the day of week of every step of the window and its horizon,
    `step_hours` apart (see the module)."""

    def __init__(self, lookback, horizon, step_hours, **kwargs):
        super().__init__(**kwargs)
        self.lookback, self.horizon, self.step_hours = int(lookback), int(horizon), float(step_hours)
        if self.lookback < 1 or self.horizon < 1 or not self.step_hours > 0:
            raise ValueError(f"CalendarFeatures needs lookback and horizon >= 1 and step_hours > 0, got "
                             f"{lookback}, {horizon}, {step_hours}.")

    def call(self, time):
        offsets = (np.arange(self.lookback + self.horizon) - (self.lookback - 1)) * self.step_hours
        hours = ops.cast(time, "float32") + ops.convert_to_tensor(offsets[None], "float32")  # (batch, steps)
        days = ops.floor(hours / 24.0)
        hour_of_day = hours - 24.0 * days  # in [0, 24), exact for whole hours
        weekday = days + THURSDAY - 7.0 * ops.floor((days + THURSDAY) / 7.0)  # in {0, ..., 6}
        hour_angle, day_angle = hour_of_day * (2 * np.pi / 24), weekday * (2 * np.pi / 7)
        return ops.stack([ops.sin(hour_angle), ops.cos(hour_angle), ops.sin(day_angle), ops.cos(day_angle)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.lookback + self.horizon, len(FEATURES))

    def get_config(self):
        return {**super().get_config(), "lookback": self.lookback, "horizon": self.horizon,
                "step_hours": self.step_hours}
