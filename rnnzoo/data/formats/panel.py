"""Many univariate series at once (a panel), in two layouts.

The M4 layout, a row per series (`load_m4_rows`), rows of different lengths:
```
"V1","V2","V3",...
"H1","605","586","586",...
```
The long layout (`load_long_panel`), a row per observation, each series' rows
in time order (the `timestamp` column is optional):
```
series_id,timestamp,value
shop_1,2024-01-01 00:00:00,12.5
```
Errors name the file, the line and the column.
"""

import csv
import dataclasses
import io
import os

import numpy as np

from rnnzoo.data.reading import DataFormatError, read_text


@dataclasses.dataclass(frozen=True)
class Panel:
    """`values[k]` is series `ids[k]` (a float64 vector of its own length);
    `starts[k]` its first timestamp where the file gives one."""

    ids: tuple
    values: tuple
    starts: tuple = None

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, key):
        """A series' values by its id; a slice: the panel of those series."""
        if isinstance(key, slice):
            return Panel(self.ids[key], self.values[key], None if self.starts is None else self.starts[key])
        return self.values[self.ids.index(key)]

    def lengths(self):
        return np.array([len(series) for series in self.values])


def _csv_rows(path, encoding):
    reader = csv.reader(io.StringIO(read_text(path, encoding)))
    try:
        return list(reader)
    except csv.Error as error:
        raise DataFormatError(path, reader.line_num + 1, f"not a CSV row the reader accepts ({error}).") from None


def _number(cell, path, line, column):
    try:
        value = float(cell)
    except ValueError:
        raise DataFormatError(path, line, f"column {column}: {cell!r} is not a number.") from None
    if not np.isfinite(value):
        raise DataFormatError(path, line, f"column {column}: {cell!r} is not a finite number.")
    return value


def _unique(ids, path, lines):
    seen = {}
    for series_id, line in zip(ids, lines):
        if series_id in seen:
            raise DataFormatError(path, line, f"series {series_id!r} again (first on line {seen[series_id]}).")
        seen[series_id] = line


def load_m4_rows(path, encoding="utf-8"):
    """A `Panel` from an M4 competition file: a header row, then a row per
    series (its id, then its values; trailing cells may be empty)."""
    rows = _csv_rows(path, encoding)
    ids, values, lines = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row[1:]]
        while cells and not cells[-1]:
            cells.pop()
        if not row[0].strip():
            raise DataFormatError(path, line, "column 1: no series id.")
        if not cells:
            raise DataFormatError(path, line, f"series {row[0].strip()!r} has no values.")
        numbers = []
        for column, cell in enumerate(cells, start=2):
            if not cell:
                raise DataFormatError(path, line, f"column {column}: empty cell inside series {row[0].strip()!r} "
                                                  "(only trailing cells may be empty).")
            numbers.append(_number(cell, path, line, column))
        ids.append(row[0].strip())
        values.append(np.array(numbers, dtype="float64"))
        lines.append(line)
    if not ids:
        raise DataFormatError(path, None, "holds no series (expected a header row, then a row per series).")
    _unique(ids, path, lines)
    return Panel(tuple(ids), tuple(values))


def load_long_panel(path, id_column="series_id", value_column="value", time_column="timestamp", encoding="utf-8",
                    series_id=None):
    """A `Panel` from a CSV file with a row per observation; each series'
    rows must be in time order and evenly spaced where timestamps are given.
    The series keep the order of their first row. With `id_column=None` the
    file is one series, `series_id`."""
    rows = _csv_rows(path, encoding)
    if not rows:
        raise DataFormatError(path, 1, f"no header row (expected e.g. '{id_column},{time_column},{value_column}').")
    header = [cell.strip() for cell in rows[0]]
    for name in (id_column, value_column):
        if name is not None and name not in header:
            raise DataFormatError(path, 1, f"no column {name!r}; the header has {', '.join(header)}.")
    id_index = None if id_column is None else header.index(id_column)
    value_index = header.index(value_column)
    time_index = header.index(time_column) if time_column in header else None
    series = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataFormatError(path, line, f"has {len(row)} columns; the header has {len(header)}.")
        entry = series.setdefault(series_id if id_index is None else row[id_index].strip(), ([], [], []))
        entry[0].append(_number(row[value_index], path, line, value_column))
        entry[2].append(line)
        if time_index is not None:
            try:
                entry[1].append(np.datetime64(row[time_index].strip(), "s"))
            except ValueError:
                raise DataFormatError(path, line, f"column {time_column}: {row[time_index]!r} is not a timestamp "
                                                  "(expected ISO 8601, e.g. '2024-01-01 00:00:00').") from None
    if not series:
        raise DataFormatError(path, None, "holds no rows of values.")
    starts = []
    for series_id, (_, times, lines) in series.items():
        if time_index is None:
            continue
        steps = np.diff(np.array(times, dtype="datetime64[s]"))
        for index in np.flatnonzero(steps <= np.timedelta64(0, "s")):
            raise DataFormatError(path, lines[index + 1], f"series {series_id!r}: timestamp {times[index + 1]} is "
                                                         f"not after the one before ({times[index]}).")
        if len(steps) and np.any(steps != steps[0]):
            index = int(np.flatnonzero(steps != steps[0])[0])
            raise DataFormatError(path, lines[index + 1], f"series {series_id!r}: timestamp {times[index + 1]} "
                                                         f"is off its step of {steps[0]} (a gap or an uneven step).")
        starts.append(times[0])
    return Panel(tuple(series), tuple(np.array(v, dtype="float64") for v, _, _ in series.values()),
                 tuple(starts) if time_index is not None else None)


def load_panel_folder(folder, value_column="value", time_column="timestamp", encoding="utf-8"):
    """A `Panel` from a folder of CSV files, one series per file (its id:
    the file name without `.csv`), each with a `value` column and
    optionally a `timestamp` column (checked as `load_long_panel` checks
    them). Files in name order; other files are ignored."""
    names = sorted(name for name in os.listdir(folder) if name.lower().endswith(".csv"))
    if not names:
        raise DataFormatError(folder, None, "holds no .csv files (expected one file per series).")
    panels = [load_long_panel(os.path.join(folder, name), id_column=None, value_column=value_column,
                              time_column=time_column, encoding=encoding, series_id=name[:-4]) for name in names]
    timed = [panel.starts is not None for panel in panels]
    if any(timed) and not all(timed):
        untimed = names[timed.index(False)]
        raise DataFormatError(os.path.join(folder, untimed), 1, f"no column {time_column!r}, which other files of "
                                                                 "the folder have.")
    return Panel(tuple(p.ids[0] for p in panels), tuple(p.values[0] for p in panels),
                 tuple(p.starts[0] for p in panels) if all(timed) else None)
