"""Time series: the CSV loader (ETT's format and its failures) and the
generated multi-seasonal series."""

import os

import numpy as np
import pytest

import helpers
from rnnzoo.data import DataFormatError
from rnnzoo.data.builtin.series import multi_seasonal_series
from rnnzoo.data.formats.time_series import load_time_series

HEADER = "date,load,OT\n"


def _csv(tmp_path, body, header=HEADER, name="series.csv"):
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return str(path)


def test_reads_timestamps_and_columns(tmp_path):
    path = _csv(tmp_path, "2016-07-01 00:00:00,5.8,30.5\n2016-07-01 01:00:00,5.7,27.8\n\n"
                          "2016-07-01 02:00:00,5.1,27.8\n")
    series = load_time_series(path)
    assert series.columns == ("load", "OT") and series.values.shape == (3, 2) and series.values.dtype == np.float32
    assert series.step == np.timedelta64(3600, "s")
    assert str(series.timestamps[2]) == "2016-07-01T02:00:00"
    np.testing.assert_allclose(series.select(["OT"]).values[:, 0], [30.5, 27.8, 27.8])
    with pytest.raises(ValueError, match="no column 'oil'; the series has load, OT"):
        series.select(["oil"])


@pytest.mark.parametrize("body,message", [
    ("2016-07-01 00:00:00,5.8,30.5\nyesterday,5.7,27.8\n", r"series.csv:3: 'yesterday' is not a timestamp"),
    ("2016-07-01 00:00:00,5.8,30.5\n2016-07-01 01:00:00,high,27.8\n",
     r"series.csv:3: column 'load': 'high' is not a number"),
    ("2016-07-01 00:00:00,5.8,30.5\n2016-07-01 01:00:00,,27.8\n", r"series.csv:3: column 'load': '' is not a number"),
    ("2016-07-01 00:00:00,5.8,30.5\n2016-07-01 01:00:00,5.7\n", r"series.csv:3: has 2 columns; the header has 3"),
    ("2016-07-01 00:00:00,5.8,30.5\n2016-07-01 01:00:00,5.7,27.8\n2016-07-01 01:00:00,5.7,27.8\n",
     r"series.csv:4: timestamp 2016-07-01T01:00:00 repeats the one above"),
    ("2016-07-01 01:00:00,5.8,30.5\n2016-07-01 02:00:00,5.7,27.8\n2016-07-01 00:00:00,5.7,27.8\n",
     r"series.csv:4: .* goes back before the one above .*time order"),
    ("2016-07-01 00:00:00,1,1\n2016-07-01 01:00:00,2,2\n2016-07-01 02:00:00,3,3\n2016-07-01 05:00:00,6,6\n",
     r"series.csv:5: 2 missing step\(s\) of 3600 seconds between 2016-07-01T02:00:00 and 2016-07-01T05:00:00 "
     r"\(1 gap\(s\) in all\); pass --fill previous or --fill linear"),
    ("2016-07-01 00:00:00,1,1\n", r"series.csv: has 1 rows of values; a series needs at least 2"),
])
def test_bad_files_are_named_with_line_and_column(tmp_path, body, message):
    with pytest.raises(DataFormatError, match=message):
        load_time_series(_csv(tmp_path, body))


def test_gaps_and_empty_cells_are_filled_when_asked(tmp_path):
    path = _csv(tmp_path, "2016-07-01 00:00:00,1,10\n2016-07-01 01:00:00,,11\n2016-07-01 02:00:00,3,12\n"
                          "2016-07-01 05:00:00,6,15\n")
    linear = load_time_series(path, fill="linear")
    assert len(linear) == 6
    np.testing.assert_allclose(linear.values[:, 0], [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(linear.values[:, 1], [10, 11, 12, 13, 14, 15])
    previous = load_time_series(path, fill="previous")
    np.testing.assert_allclose(previous.values[:, 0], [1, 1, 3, 3, 3, 6])
    with pytest.raises(ValueError, match="fill must be one of previous, linear"):
        load_time_series(path, fill="zero")


def test_a_named_date_column_and_a_missing_one(tmp_path):
    path = _csv(tmp_path, "1,2016-07-01 00:00:00\n2,2016-07-01 00:15:00\n", header="OT,time\n")
    series = load_time_series(path, date_column="time")
    assert series.columns == ("OT",) and series.step == np.timedelta64(900, "s")
    with pytest.raises(DataFormatError, match="series.csv:1: no column 'date' for the timestamps; the header has OT"):
        load_time_series(path, date_column="date")


def test_the_generated_series_is_seeded_hourly_and_seasonal():
    series = multi_seasonal_series(steps=24 * 7 * 4)
    again = multi_seasonal_series(steps=24 * 7 * 4)
    np.testing.assert_array_equal(series.values, again.values)
    assert not np.array_equal(series.values, multi_seasonal_series(steps=24 * 7 * 4, seed=1).values)
    assert series.columns[-1] == "OT" and series.step == np.timedelta64(3600, "s")
    load = series.values[:, 0] - series.values[:, 0].mean()
    day_lag = np.corrcoef(load[:-24], load[24:])[0, 1]
    half_day_lag = np.corrcoef(load[:-12], load[12:])[0, 1]
    assert day_lag > 0.5 > half_day_lag  # the daily cycle is there to learn


def test_reads_etth1():
    series = load_time_series(os.path.join(helpers.shared_data("ett"), "ETTh1.csv"))
    assert len(series) == 17420 and series.columns == ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
    assert str(series.timestamps[0]) == "2016-07-01T00:00:00" and series.step == np.timedelta64(3600, "s")


def test_etth1_by_name_reads_the_ett_folder():
    from rnnzoo.data.datasets import load_dataset

    root = os.path.dirname(helpers.shared_data("ett"))
    series = load_dataset("ett_h1", "all", root=root)
    assert len(series) == 17420 and series.columns[-1] == "OT"
