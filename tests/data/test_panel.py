"""Panels of many series: the M4 row layout and the long layout, and the
errors that name file, line and column."""

import numpy as np
import pytest

from rnnzoo.data import formats
from rnnzoo.data.reading import DataFormatError


def _write(tmp_path, text, name="panel.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_m4_rows_are_ragged_series_by_id(tmp_path):
    path = _write(tmp_path, '"V1","V2","V3","V4"\n"H1","1","2.5","3"\n"H2","10","",""\n')
    panel = formats.load_m4_rows(path)
    assert panel.ids == ("H1", "H2") and list(panel.lengths()) == [3, 1]
    assert panel["H1"].tolist() == [1.0, 2.5, 3.0] and panel.values[0].dtype == np.float64


def test_long_panel_keeps_first_seen_order_and_starts(tmp_path):
    path = _write(tmp_path, "series_id,timestamp,value\nb,2024-01-01 01:00:00,5\na,2024-01-01 00:00:00,1\n"
                            "b,2024-01-01 02:00:00,6\na,2024-01-01 01:00:00,2\na,2024-01-01 02:00:00,3\n")
    panel = formats.load_long_panel(path)
    assert panel.ids == ("b", "a") and panel["a"].tolist() == [1, 2, 3] and panel["b"].tolist() == [5, 6]
    assert str(panel.starts[0]) == "2024-01-01T01:00:00"
    untimed = formats.load_long_panel(_write(tmp_path, "series_id,value\nx,1\nx,2\n", "untimed.csv"))
    assert untimed.starts is None and untimed["x"].tolist() == [1, 2]


def test_a_folder_of_csv_files_is_a_panel_of_one_series_per_file(tmp_path):
    folder = tmp_path / "stores"
    folder.mkdir()
    (folder / "b.csv").write_text("timestamp,value\n2024-01-01 00:00:00,5\n2024-01-01 01:00:00,6\n")
    (folder / "a.csv").write_text("timestamp,value,price\n2024-01-02 00:00:00,1,9\n2024-01-02 01:00:00,2,9\n"
                                  "2024-01-02 02:00:00,3,9\n")
    (folder / "notes.txt").write_text("not a series")
    panel = formats.load_panel_folder(str(folder))
    assert panel.ids == ("a", "b") and panel["a"].tolist() == [1, 2, 3] and panel["b"].tolist() == [5, 6]
    assert [str(s) for s in panel.starts] == ["2024-01-02T00:00:00", "2024-01-01T00:00:00"]
    (folder / "c.csv").write_text("value\n1\nx\n")
    with pytest.raises(DataFormatError, match=r"c.csv:3: column value: 'x' is not a number"):
        formats.load_panel_folder(str(folder))
    (folder / "c.csv").write_text("value\n1\n2\n")
    with pytest.raises(DataFormatError, match=r"c.csv:1: no column 'timestamp', which other files of the folder"):
        formats.load_panel_folder(str(folder))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="holds no .csv files"):
        formats.load_panel_folder(str(tmp_path / "empty"))


@pytest.mark.parametrize("loader, text, where, what", [
    ("m4_rows", '"V1","V2","V3"\n"H1","1","x"\n', ":2:", "column 3: 'x' is not a number"),
    ("m4_rows", '"V1","V2","V3"\n"H1","1",""\n"H2","","3"\n', ":3:", "column 2: empty cell inside series 'H2'"),
    ("m4_rows", '"V1","V2"\n"H1","1"\n"H1","2"\n', ":3:", "series 'H1' again (first on line 2)"),
    ("m4_rows", '"V1","V2"\n"H1",""\n', ":2:", "series 'H1' has no values"),
    ("m4_rows", '"V1","V2"\n', "panel.csv", "holds no series"),
    ("long_panel", "id,value\nx,1\n", ":1:", "no column 'series_id'"),
    ("long_panel", "series_id,timestamp,value\nx,2024-01-01 00:00:00,1\nx,2024-01-01 00:00:00,2\n", ":3:",
     "series 'x': timestamp 2024-01-01T00:00:00 is not after"),
    ("long_panel", "series_id,timestamp,value\nx,2024-01-01 00:00:00,1\nx,2024-01-01 01:00:00,2\n"
                   "x,2024-01-01 03:00:00,3\n", ":4:", "is off its step"),
    ("long_panel", "series_id,timestamp,value\nx,yesterday,1\n", ":2:", "'yesterday' is not a timestamp"),
    ("long_panel", "series_id,value\nx,inf\n", ":2:", "column value: 'inf' is not a finite number"),
])
def test_panel_errors_name_the_place(tmp_path, loader, text, where, what):
    with pytest.raises(DataFormatError) as error:
        getattr(formats, f"load_{loader}")(_write(tmp_path, text))
    assert where in str(error.value) and what in str(error.value)
