"""The calendar covariates against Python's own calendar."""

import datetime

import keras
import numpy as np
import pytest

from rnnzoo.layers import CalendarFeatures
from rnnzoo.layers.calendar import hours_since_epoch


def expected_features(last, lookback, horizon, step):
    """Sine and cosine of the hour of day and the weekday of each step, from `datetime`."""
    rows = []
    for k in range(lookback + horizon):
        moment = last + (k - lookback + 1) * step
        hour = moment.hour + moment.minute / 60
        rows.append([np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24),
                     np.sin(2 * np.pi * moment.weekday() / 7), np.cos(2 * np.pi * moment.weekday() / 7)])
    return np.array(rows)


@pytest.mark.parametrize("step_minutes", [60, 15])
def test_calendar_features_match_the_calendar(step_minutes):
    lasts = [datetime.datetime(2016, 7, 1, 0, 0), datetime.datetime(2018, 2, 26, 23, 0),  # ETTh1's first row; a Monday
             datetime.datetime(1999, 12, 31, 12, 45), datetime.datetime(2031, 3, 9, 5, 30)]
    time = hours_since_epoch(np.array(lasts, "datetime64[s]")).astype("float32")[:, None]
    assert time[0, 0] == 407_592  # hours from 1970-01-01 00:00 to 2016-07-01 00:00
    step = datetime.timedelta(minutes=step_minutes)
    layer = CalendarFeatures(lookback=30, horizon=20, step_hours=step_minutes / 60)
    found = keras.ops.convert_to_numpy(layer(time))
    assert found.shape == (4, 50, 4)
    for row, last in zip(found, lasts):
        np.testing.assert_allclose(row, expected_features(last, 30, 20, step), atol=2e-5)


def test_calendar_features_round_trip_and_refuse_bad_arguments():
    layer = CalendarFeatures(4, 2, 0.5, name="calendar")
    assert CalendarFeatures.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="step_hours > 0"):
        CalendarFeatures(4, 2, 0)
