"""The loaders on the real datasets in ../shared/data (skipped with a reason
when that folder is absent). Counts are the official split sizes."""

import os

import pytest
from helpers import shared_data

from rnnzoo import data


def _root(name):
    return os.path.dirname(shared_data(name))


@pytest.mark.parametrize("name, counts", [
    ("ud_english_ewt", {"train": 12544, "dev": 2001, "test": 2077}),
    ("wnut17", {"train": 3394, "dev": 1009, "test": 1287}),
    ("sst2", {"train": 6920, "dev": 872, "test": 1821}),
    ("multi30k", {"train": 29000, "val": 1014, "test_2016_flickr": 1000}),
    ("tatoeba_eng_fra", {"all": 76037}),
    ("fsdd", {"train": 2700, "test": 300}),
    ("movie_reviews", {"all": 2000}),
])
def test_split_sizes(name, counts):
    root = _root(name)
    assert {split: len(data.load_dataset(name, split, root=root)) for split in counts} == counts


def test_ewt_words_and_tags():
    train = data.load_dataset("ud_english_ewt", "train", root=_root("ud_english_ewt"))
    assert sum(len(s.words) for s in train) == 204577
    assert len({t for s in train for t in s.tags}) == 17  # the UPOS tag set


def test_wnut_has_six_entity_types():
    train = data.load_dataset("wnut17", "train", root=_root("wnut17"))
    types = {t[2:] for s in train for t in s.tags if t != "O"}
    assert types == {"corporation", "creative-work", "group", "location", "person", "product"}


def test_tiny_shakespeare_and_fsdd_audio():
    text = data.load_dataset("tinyshakespeare", "all", root=_root("tinyshakespeare"))
    assert len(text) == 1115394 and len(set(text)) == 65
    test = data.load_dataset("fsdd", "test", root=_root("fsdd"))
    assert {c.index for c in test} == {0, 1, 2, 3, 4}
    samples, rate = data.read_wav(test[0].path)
    assert rate == 8000 and 0.1 < len(samples) / rate < 2.5


def test_shared_files_match_the_download_checksums():
    """The download table and the local copies agree (same commit, same bytes)."""
    from rnnzoo.data import downloads

    for name in ("ud_english_ewt", "wnut17", "sst2", "tinyshakespeare", "multi30k", "movie_reviews"):
        folder = shared_data(name)
        for remote in downloads.SOURCES[name]:
            path = os.path.join(folder, remote.path)
            found = downloads.folder_digest(path) if os.path.isdir(path) else downloads.file_sha256(path)
            assert found == remote.sha256, remote.path


def test_movie_reviews_folds_are_the_file_prefixes_balanced_and_disjoint():
    from rnnzoo.data.datasets import file_prefix_folds

    examples = data.load_dataset("movie_reviews", "all", root=_root("movie_reviews"))
    tests = []
    for fold in range(10):
        splits = file_prefix_folds(fold)(examples, seed=0)
        assert [len(splits[s]) for s in ("train", "validation", "test")] == [1620, 180, 200]
        assert {e.source.split("/")[1][:3] for e in splits["test"]} == {f"cv{fold}"}
        assert sum(e.label == "pos" for e in splits["test"]) == 100
        tests += [e.source for e in splits["test"]]
    assert len(set(tests)) == 2000  # every review is tested exactly once
