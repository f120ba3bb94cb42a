"""Property-based tests: every loader, given random bytes, truncated lines,
odd Unicode, wrong column counts or an empty file, either returns data or
raises a `ValueError` whose message names the file it read; never
another exception, and never a hang (each case has a deadline).

Cases are derandomized, so CI runs the same ones every time; run with
`--hypothesis-show-statistics` for their number."""

import os
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnzoo.tasks.tagging import WordEncoder
from rnnzoo.data import RESERVED_TOKENS, Vocabulary, formats
from rnnzoo.data.reading import read_json
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.training.runs import RunFolder

# Cases per loader; RNNZOO_FUZZ_CASES=5000 for a longer hunt.
CASES = int(os.environ.get("RNNZOO_FUZZ_CASES", 200))
FUZZ = settings(max_examples=CASES, deadline=5000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

# Pieces that the text formats give meaning to, mixed with odd Unicode
# (combining marks, right-to-left text, surrogates' neighbours, NUL, BOM).
SPECIAL = ["\t", " ", "#", "# text = ", "1", "0", "-1", "1.5e3", "nan", "B-PER", "I-LOC", "O", "_", "-", ".",
           "\ufeff", "\u0301", "\u200f", "\x00", "\u2028", "\U0001f600", "é", "ß", "\r", "{", "}", "[", "]",
           '"kind"', ":", ",", "img.jpg#0", "<pad>", "<unk>", "<s>", "</s>", "1-2", "3.1"]
line = st.lists(st.one_of(st.sampled_from(SPECIAL), st.text(max_size=8)), max_size=12).map("".join)
text_file = st.tuples(st.lists(line, max_size=12), st.sampled_from(["\n", "\r\n"]), st.integers(0, 3)).map(
    lambda t: t[1].join(t[0])[: len(t[1].join(t[0])) - t[2]].encode("utf-8", "surrogatepass"))
file_bytes = st.one_of(st.binary(max_size=200), text_file, st.just(b""))


def _write(folder, name, data):
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def _check(load, where):
    """`load()` returns, or raises a ValueError that names `where`."""
    try:
        load()
    except ValueError as error:
        assert where in str(error), f"{type(error).__name__} does not name {where}: {error}"


VOCABULARY = Vocabulary([*RESERVED_TOKENS, "good", "film"])
SINGLE_FILE_LOADERS = {
    "bio": formats.load_bio,
    "conllu_upos": formats.load_conllu,
    "conllu_xpos": lambda path: formats.load_conllu(path, tag="xpos"),
    "tsv_pairs": formats.load_tsv_pairs,
    "plain_text": formats.load_text,
    "m4_rows": formats.load_m4_rows,
    "long_panel": formats.load_long_panel,
    "label_first": lambda path: formats.load_labeled_lines(path, "label_first"),
    "tab_label_last": lambda path: formats.load_labeled_lines(path, "tab_label_last"),
    "word_vectors": lambda path: formats.load_word_vectors(path, VOCABULARY),
    "captions": lambda path: formats.load_captions(path, os.path.dirname(path)),
    "wav": formats.read_wav,
    "image": formats.load_image,
    "vocabulary": Vocabulary.load,
    "label_vocabulary": lambda path: Vocabulary.load(path, reserved=()),
    "json": read_json,
}


@pytest.mark.parametrize("name", sorted(SINGLE_FILE_LOADERS))
@FUZZ
@given(data=file_bytes)
def test_single_file_loaders_return_or_name_the_file(name, data):
    folder = tempfile.mkdtemp(prefix="rnnzoo-fuzz-")
    try:
        path = _write(folder, "data.txt", data)
        _check(lambda: SINGLE_FILE_LOADERS[name](path), path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@FUZZ
@given(source=file_bytes, target=file_bytes)
def test_parallel_files(source, target):
    folder = tempfile.mkdtemp(prefix="rnnzoo-fuzz-")
    try:
        paths = _write(folder, "train.en", source), _write(folder, "train.de", target)
        try:
            formats.load_parallel(*paths)
        except ValueError as error:
            assert any(path in str(error) for path in paths), error
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Folders: saved tokenizers and word encoders, run state, class folders.
FOLDER_LOADERS = {
    "text_encoder": (("tokenizer.json", "vocabulary.txt"), TextEncoder.load),
    "word_encoder": (("word_encoder.json", "words.txt", "characters.txt"), WordEncoder.load),
    "run_state": (("state.json",), lambda folder: RunFolder(folder).load_state()),
    "class_folders": (("pos/a.txt", "neg/b.txt"), formats.load_class_folders),
}


@pytest.mark.parametrize("name", sorted(FOLDER_LOADERS))
@FUZZ
@given(contents=st.lists(file_bytes, min_size=3, max_size=3))
def test_folder_loaders_return_or_name_a_file_in_the_folder(name, contents):
    files, load = FOLDER_LOADERS[name]
    folder = tempfile.mkdtemp(prefix="rnnzoo-fuzz-")
    try:
        for file, data in zip(files, contents):
            os.makedirs(os.path.dirname(os.path.join(folder, file)), exist_ok=True)
            _write(folder, file, data)
        _check(lambda: load(folder), folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


NAME_CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00")


@FUZZ
@given(names=st.lists(st.one_of(st.sampled_from(["7_jackson_32.wav", "x.wav", "a_b_c.wav", "README"]),
                                st.text(NAME_CHARACTERS, min_size=1, max_size=12).map(lambda n: n + ".wav")),
                      max_size=5))
def test_audio_folder_names(names):
    folder = tempfile.mkdtemp(prefix="rnnzoo-fuzz-")
    try:
        for name in names:
            try:
                _write(folder, name, b"")
            except OSError:  # a name this file system refuses
                pass
        _check(lambda: formats.list_audio_clips(folder), folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# The time-series CSV reader: mangled files up to 1 MB (huge fields, NUL bytes, a BOM, far-off or
# repeated timestamps, gaps with and without --fill) raise a ValueError naming the file, or return a
# series that keeps every row read, evenly spaced, and finite once filled.
STAMPS = ["2016-07-01 00:00:00", "2016-07-01 01:00:00", "2016-07-01 03:00:00", "9999-12-31 23:00:00",
          "1970-01-01", "2016-07-01T02:00", "x", ""]
CELLS = ["1", "-2.5", "1e3", "", "nan", "inf", "a", "\x00", "\ufeff1", '"1,2"', '"']
csv_row = st.tuples(st.sampled_from(STAMPS), st.lists(st.sampled_from(CELLS), min_size=0, max_size=4)).map(
    lambda row: ",".join([row[0], *row[1]]))
csv_file = st.tuples(
    st.sampled_from(["date,load,OT", "\ufeffdate,load,OT", "date", "", "load,OT"]),
    st.lists(csv_row, max_size=8),
    st.sampled_from([0, 0, 200_000, 1_000_000]),  # a field far over the csv module's 131,072-character limit
).map(lambda t: ("\n".join([t[0], *t[1]]) + ("\n2016-07-01 05:00:00," + "9" * t[2] + ",1" if t[2] else ""))
      .encode("utf-8"))


@pytest.mark.parametrize("fill", [None, "previous", "linear"])
@FUZZ
@given(data=st.one_of(csv_file, file_bytes))
def test_time_series_reader_returns_a_sound_series_or_names_the_file(fill, data):
    folder = tempfile.mkdtemp(prefix="rnnzoo-fuzz-")
    try:
        path = _write(folder, "series.csv", data)
        try:
            series = formats.load_time_series(path, fill=fill)
        except ValueError as error:
            assert path in str(error), error
            return
        steps = np.diff(series.timestamps)
        assert len(series) >= 2 and (steps == steps[0]).all() and steps[0] > np.timedelta64(0, "s")
        assert series.values.shape == (len(series), len(series.columns))
        assert np.isfinite(series.values).all()
        assert len(series) <= 10 * data.count(b"\n") + 10_001  # a far-off timestamp is refused, not filled
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@FUZZ
@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=2, max_size=40),
       missing=st.sets(st.integers(1, 38), max_size=10))
def test_time_series_reader_reads_back_a_written_series(values, missing):
    """A series written with some rows left out reads back with exactly its
    values, the missing rows repeated from the one before (`--fill previous`).
    Rows go missing in the second half only, so the series' step (its most
    common one) stays one hour."""
    missing = {index for index in missing if len(values) // 2 < index < len(values) - 1}
    start = np.datetime64("2016-07-01T00:00:00")
    lines = ["date,OT"] + [f"{start + np.timedelta64(i, 'h')},{value!r}" for i, value in enumerate(values)
                           if i not in missing]
    folder = tempfile.mkdtemp(prefix="rnnzoo-fuzz-")
    try:
        path = _write(folder, "series.csv", "\n".join(lines).encode())
        series = formats.load_time_series(path, fill="previous")
        expected = list(values)
        for index in sorted(missing):
            expected[index] = expected[index - 1]
        np.testing.assert_array_equal(series.values[:, 0], np.asarray(expected, "float32"))
        assert series.timestamps[0] == start and len(series) == len(values)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
