"""Timestamped numeric columns from a CSV file (ETT, and any such file).

```
date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT
2016-07-01 00:00:00,5.827,2.009,1.599,0.462,4.203,1.340,30.531
```

The first column (or `date_column`) holds ISO 8601 timestamps; every other
column must be numeric. Rows must be evenly spaced in time: a repeated or
earlier timestamp is an error, and so is a gap, unless `fill` says how to
fill it ("previous": repeat the last value; "linear": interpolate), which
also fills empty cells. Errors name the file, the line and the column.
"""

import csv
import dataclasses
import io

import numpy as np

from rnnzoo.data.reading import DataFormatError, read_text

FILLS = ("previous", "linear")
# A filled series may hold at most this many times the rows read (plus `MAX_FILLED_EXTRA`): a timestamp far
# from the others (a typo in the year) would otherwise ask for gigabytes of missing rows.
MAX_FILL_FACTOR = 10
MAX_FILLED_EXTRA = 10_000


@dataclasses.dataclass(frozen=True)
class TimeSeries:
    """`values[t, k]` is column `columns[k]` at `timestamps[t]`."""

    timestamps: np.ndarray  # datetime64[s], evenly spaced
    values: np.ndarray  # float32 (steps, columns)
    columns: tuple

    def __len__(self):
        return len(self.values)

    def select(self, columns):
        """The series with only `columns` (names), in that order."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise ValueError(f"no column {missing[0]!r}; the series has {', '.join(self.columns)}.")
        return dataclasses.replace(self, values=self.values[:, [self.columns.index(c) for c in columns]],
                                   columns=tuple(columns))

    @property
    def step(self):
        return self.timestamps[1] - self.timestamps[0] if len(self) > 1 else None


def _timestamp(text, path, line):
    try:
        return np.datetime64(text.strip(), "s")
    except ValueError:
        raise DataFormatError(path, line, f"{text!r} is not a timestamp (expected ISO 8601, e.g. "
                                          "'2016-07-01 00:00:00').") from None


def load_time_series(path, date_column=None, fill=None, encoding="utf-8"):
    """A `TimeSeries` from a CSV file with a header row."""
    if fill is not None and fill not in FILLS:
        raise ValueError(f"fill must be one of {', '.join(FILLS)} (or None), got {fill!r}.")
    reader = csv.reader(io.StringIO(read_text(path, encoding)))
    try:
        rows = list(reader)
    except csv.Error as error:  # a field over the csv module's limit (131,072 characters), a NUL byte, ...
        raise DataFormatError(path, reader.line_num + 1, f"not a CSV row the reader accepts ({error}).") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DataFormatError(path, 1, "no header row (expected e.g. 'date,load,OT').")
    header = [cell.strip() for cell in rows[0]]
    date_index = 0 if date_column is None else header.index(date_column) if date_column in header else None
    if date_index is None:
        raise DataFormatError(path, 1, f"no column {date_column!r} for the timestamps; the header has "
                                       f"{', '.join(header)}.")
    columns = [name for index, name in enumerate(header) if index != date_index]
    if not columns:
        raise DataFormatError(path, 1, "only a timestamp column; there are no values to forecast.")
    times, values, lines = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataFormatError(path, line, f"has {len(row)} columns; the header has {len(header)}.")
        times.append(_timestamp(row[date_index], path, line))
        lines.append(line)
        numbers = []
        for name, cell in zip(columns, (cell for index, cell in enumerate(row) if index != date_index)):
            try:
                numbers.append(float(cell) if cell.strip() or fill is None else np.nan)
            except ValueError:
                raise DataFormatError(path, line, f"column {name!r}: {cell!r} is not a number.") from None
            if not np.isfinite(numbers[-1]) and (fill is None or cell.strip()):
                raise DataFormatError(path, line, f"column {name!r}: {cell!r} is not a finite number.")
        values.append(numbers)
    if len(times) < 2:
        raise DataFormatError(path, None, f"has {len(times)} rows of values; a series needs at least 2.")
    timestamps = np.array(times, dtype="datetime64[s]")
    values = np.array(values, dtype="float64")
    timestamps, values = _evenly_spaced(timestamps, values, lines, path, fill)
    if fill is not None:
        values = _fill_missing(values, fill, path, columns)
    return TimeSeries(timestamps, values.astype("float32"), tuple(columns))


def _evenly_spaced(timestamps, values, lines, path, fill):
    """Check the spacing (the most common step); fill gaps with NaN rows when
    `fill` is given. `lines[k]` is row k's line in the file."""
    steps = np.diff(timestamps)
    unique, counts = np.unique(steps, return_counts=True)
    step = unique[np.argmax(counts)]
    for index in np.flatnonzero(steps <= np.timedelta64(0, "s")):
        what = "repeats" if steps[index] == np.timedelta64(0, "s") else "goes back before"
        raise DataFormatError(path, lines[index + 1], f"timestamp {timestamps[index + 1]} {what} the one above "
                                                     f"({timestamps[index]}); rows must be in time order.")
    if step <= np.timedelta64(0, "s"):
        raise DataFormatError(path, None, "the timestamps do not advance.")
    uneven = np.flatnonzero(steps % step != np.timedelta64(0, "s"))
    if uneven.size:
        index = uneven[0]
        raise DataFormatError(path, lines[index + 1], f"timestamp {timestamps[index + 1]} is off the series' step "
                                                     f"of {step} (after {timestamps[index]}).")
    gaps = np.flatnonzero(steps > step)
    if gaps.size and fill is None:
        index = gaps[0]
        missing = int(steps[index] // step) - 1
        raise DataFormatError(path, lines[index + 1], f"{missing} missing step(s) of {step} between "
                                                     f"{timestamps[index]} and {timestamps[index + 1]} "
                                                     f"({gaps.size} gap(s) in all); pass --fill previous or "
                                                     "--fill linear (fill=) to fill them.")
    if not gaps.size:
        return timestamps, values
    filled_rows = int((timestamps[-1] - timestamps[0]) // step) + 1
    if filled_rows > MAX_FILL_FACTOR * len(timestamps) + MAX_FILLED_EXTRA:
        index = int(np.argmax(steps))
        raise DataFormatError(path, lines[index + 1], f"timestamp {timestamps[index + 1]} is "
                                                     f"{int(steps[index] // step):,} steps of {step} after the one "
                                                     f"above ({timestamps[index]}): filling the gaps would make "
                                                     f"{filled_rows:,} rows of {len(timestamps):,}; is the "
                                                     "timestamp right?")
    full = np.arange(timestamps[0], timestamps[-1] + step, step)
    filled = np.full((len(full), values.shape[1]), np.nan)
    filled[((timestamps - timestamps[0]) // step).astype(int)] = values
    return full, filled


def _fill_missing(values, fill, path, names):
    """Fill NaN cells column by column: repeat the previous value, or
    interpolate linearly (ends take the nearest value)."""
    values = values.copy()
    for name, column in zip(names, values.T):
        missing = np.isnan(column)
        if missing.all():
            raise DataFormatError(path, None, f"column {name!r} has no values at all.")
        if not missing.any():
            continue
        known = np.flatnonzero(~missing)
        if fill == "linear":
            column[missing] = np.interp(np.flatnonzero(missing), known, column[known])
        else:
            last = np.maximum.accumulate(np.where(missing, 0, np.arange(len(column))))
            column[:] = column[last]
            column[: known[0]] = column[known[0]]
    return values
