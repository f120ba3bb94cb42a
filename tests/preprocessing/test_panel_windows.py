"""Windows of a panel: they never cross two series, too-short series are
named, and the last window of each series is the history a forecast starts
from."""

import numpy as np
import pytest

from rnnzoo.preprocessing.series import last_windows, series_windows


def test_windows_never_cross_series_and_short_ones_are_named():
    panel = [np.arange(10.0), 100 + np.arange(4.0), 1000 + np.arange(7.0)]
    history, future, owner, too_short = series_windows(panel, 3, 2, holdout=1)
    assert too_short == [1]  # 4 values less the held-out one: fewer than 3 + 2
    assert len(history) == (9 - 5 + 1) + (6 - 5 + 1) and history.dtype == np.float32
    for h, f, k in zip(history, future, owner):
        whole = np.concatenate([h, f])
        assert np.all(np.diff(whole) == 1) and whole[0] >= [0, 100, 1000][k]  # one series, in order
        assert whole[-1] < [9, 103, 1006][k]  # the held-out last value is never used
    with pytest.raises(ValueError, match="no series has the 13 values a window needs"):
        series_windows(panel, 8, 4, holdout=1)


def test_last_windows_pad_short_series_on_the_left():
    panel = [np.arange(10.0), np.array([5.0, 6.0, 7.0, 8.0])]
    history, future, padded = last_windows(panel, 4, horizon=2, holdout=2)
    assert history.tolist() == [[4, 5, 6, 7], [5, 5, 5, 6]] and future.tolist() == [[8, 9], [7, 8]]
    assert padded == [1]
    with pytest.raises(ValueError, match="series 1 has 4 values; holding out 4 leaves none"):
        last_windows(panel, 4, horizon=2, holdout=4)
    with pytest.raises(ValueError, match="leaves some series without 2 to forecast"):
        last_windows(panel, 4, horizon=2, holdout=1)
    history, future, padded = last_windows(panel, 5)
    assert history.tolist() == [[5, 6, 7, 8, 9], [5, 5, 6, 7, 8]] and future.shape == (2, 0) and padded == [1]
