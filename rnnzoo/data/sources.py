"""What a recipe's `--data` means: `builtin` (generated here), a named
public dataset (`sst2`, `ud_english_ewt`, ...), or a path to files in a
standard format. Always returns train / validation / test examples.

A path may be one file (split 80/10/10 with a seeded shuffle, or by the
recipe's `split_path`: a language model's text by its first 90%), or a
folder holding files whose names say the split (`*train*`, `*dev*` /
`*valid*` / `*val*`, `*test*`), or `train/` and `test/` sub-folders
(aclImdb), or a folder read whole (class folders, FSDD recordings) and
split like one file; with no validation split, 10% of train is held out.
A named dataset with no official split is split by its registry entry's
policy (`datasets.DATASETS`: Tatoeba holds out 5% + 5%).
"""

import os

from rnnzoo.data.builtin import SPLITS, load_builtin
from rnnzoo.data.datasets import DATASETS, load_dataset
from rnnzoo.data.examples import random_split

# Split names of the named datasets, in order of preference.
_SPLIT_NAMES = {"train": ("train",), "validation": ("dev", "val", "validation"),
                "test": ("test", "test_2016_flickr")}


def _split_of(filename):
    name = filename.lower()
    if "train" in name:
        return "train"
    if "dev" in name or "valid" in name or name.startswith("val"):
        return "validation"
    if "test" in name:
        return "test"
    return None


def _listed(examples):
    """Examples as a list (a built-in text corpus is one string)."""
    return [examples] if isinstance(examples, str) else examples


def _complete(splits, seed):
    """Fill a missing validation split from train (10%)."""
    if "train" not in splits:
        raise ValueError("the data has no training split.")
    if "validation" not in splits:
        splits["train"], splits["validation"] = random_split(splits["train"], 0.1, seed=seed)
    if "test" not in splits:
        raise ValueError("the data has no test split.")
    return splits


def random_80_10_10(examples, seed):
    """How the examples of one file are split unless a recipe says otherwise:
    a seeded 80% / 10% / 10%."""
    rest, test = random_split(examples, 0.1, seed=seed)
    train, validation = random_split(rest, 1 / 9, seed=seed)
    return {"train": train, "validation": validation, "test": test}


def _from_path(path, load_path, seed, split_path):
    if os.path.isfile(path):
        return split_path(load_path(path), seed)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"--data {path}: no such file or folder, and not a known dataset name "
                                f"(known: builtin, {', '.join(sorted(DATASETS))}).")
    splits = {}
    for entry in sorted(os.listdir(path)):
        split = _split_of(entry)
        if split is None or split in splits or entry.startswith("."):
            continue
        splits[split] = load_path(os.path.join(path, entry))
    if not splits:  # a folder read whole (class folders, recordings), split like one file
        return split_path(load_path(path), seed)
    return _complete(splits, seed)


def load_split(data, split, *, builtin, load_path, names=(), root=None, download=False, seed=0, **options):
    """One split's examples, to score a finished model on: `"builtin"` or a
    dataset name gives that split; a file gives all its examples; a folder
    gives its entry named for `split` (`test.tsv`, `aclImdb/test/`), or, if
    no entry is named for any split, what `load_path(folder)` reads. A
    dataset split by a policy (Tatoeba) is split with `seed`, as the run was."""
    if split not in _SPLIT_NAMES:
        raise ValueError(f"split must be one of {', '.join(_SPLIT_NAMES)}, got {split!r}.")
    if data == "builtin":
        return _listed(load_builtin(builtin, split))
    if data in DATASETS and not os.path.exists(data):
        if data not in names:
            raise ValueError(f"--data {data}: that dataset does not fit this task; use one of "
                             f"{', '.join(names) or 'none'}, 'builtin' or a path.")
        if DATASETS[data].policy is not None:  # the split the recipe trained with, for the same seed
            return DATASETS[data].policy(load_dataset(data, "all", root=root, download=download, **options),
                                         seed)[split]
        found = [name for name in _SPLIT_NAMES.get(split, (split,)) if name in DATASETS[data].splits]
        if not found:
            raise ValueError(f"--data {data} has no {split} split (it has {', '.join(DATASETS[data].splits)}); "
                             "pass a file instead.")
        return load_dataset(data, found[0], root=root, download=download, **options)
    if os.path.isfile(data):
        return _listed(load_path(data))
    if not os.path.isdir(data):
        raise FileNotFoundError(f"--data {data}: no such file or folder, and not a known dataset name "
                                f"(known: builtin, {', '.join(sorted(DATASETS))}).")
    entries = {_split_of(e): e for e in sorted(os.listdir(data), reverse=True) if not e.startswith(".")}
    if split in entries:
        return load_path(os.path.join(data, entries[split]))
    if any(key is not None for key in entries):
        raise ValueError(f"--data {data}: no file or folder named for the {split} split.")
    return load_path(data)


def load_splits(data, *, builtin, load_path, names=(), root=None, download=False, seed=0,
                split_path=random_80_10_10, **options):
    """`{"train": [...], "validation": [...], "test": [...]}`.

    Args:
        data: "builtin", a dataset name from `names`, or a path.
        builtin: the built-in dataset to use for "builtin".
        load_path: `path -> examples` for files (or class folders) in the
            formats this recipe reads.
        names: the named datasets that fit this recipe.
        split_path: `(examples, seed) -> splits` for what `load_path` reads
            from one file, or from a folder with no entry named for a split
            (`datasets.text_prefix(0.9)` for a language model's text).
        options: passed to `load_dataset` (e.g. `tag="xpos"`).
    """
    if data == "builtin":
        return {split: _listed(load_builtin(builtin, split)) for split in SPLITS}
    if data in DATASETS and not os.path.exists(data):
        if data not in names:
            raise ValueError(f"--data {data}: that dataset does not fit this recipe; use one of "
                             f"{', '.join(names) or 'none'}, 'builtin' or a path.")
        dataset = DATASETS[data]
        if dataset.policy is not None:
            return dataset.policy(load_dataset(data, "all", root=root, download=download, **options), seed)
        splits = {}
        for split, candidates in _SPLIT_NAMES.items():
            found = [name for name in candidates if name in dataset.splits]
            if found:
                splits[split] = load_dataset(data, found[0], root=root, download=download, **options)
        return _complete(splits, seed)
    return _from_path(data, load_path, seed, split_path)
