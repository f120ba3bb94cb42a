"""What a recipe's `--data` means: `builtin` (generated here), a named
public dataset (`sst2`, `ud_english_ewt`, ...), or a path to files in a
standard format. Always returns train / validation / test examples.

A path may be one file (split 80/10/10 with a seeded shuffle), or a folder
holding files whose names say the split (`*train*`, `*dev*` / `*valid*` /
`*val*`, `*test*`), or `train/` and `test/` sub-folders (aclImdb); with no
validation split, 10% of train is held out.
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


def _complete(splits, seed):
    """Fill a missing validation split from train (10%)."""
    if "train" not in splits:
        raise ValueError("the data has no training split.")
    if "validation" not in splits:
        splits["train"], splits["validation"] = random_split(splits["train"], 0.1, seed=seed)
    if "test" not in splits:
        raise ValueError("the data has no test split.")
    return splits


def _from_path(path, load_path, seed):
    if os.path.isfile(path):
        rest, test = random_split(load_path(path), 0.1, seed=seed)
        train, validation = random_split(rest, 1 / 9, seed=seed)
        return {"train": train, "validation": validation, "test": test}
    if not os.path.isdir(path):
        raise FileNotFoundError(f"--data {path}: no such file or folder, and not a known dataset name "
                                f"(known: builtin, {', '.join(sorted(DATASETS))}).")
    splits = {}
    for entry in sorted(os.listdir(path)):
        split = _split_of(entry)
        if split is None or split in splits or entry.startswith("."):
            continue
        splits[split] = load_path(os.path.join(path, entry))
    if not splits:
        raise ValueError(f"--data {path}: found no file or folder named for a split (train, dev/valid, test).")
    return _complete(splits, seed)


def load_split(data, split, *, builtin, load_path, names=(), root=None, download=False, **options):
    """One split's examples, to score a finished model on: `"builtin"` or a
    dataset name gives that split; a file gives all its examples; a folder
    gives its entry named for `split` (`test.tsv`, `aclImdb/test/`), or, if
    no entry is named for any split, what `load_path(folder)` reads."""
    if data == "builtin":
        return load_builtin(builtin, split)
    if data in DATASETS and not os.path.exists(data):
        if data not in names:
            raise ValueError(f"--data {data}: that dataset does not fit this task; use one of "
                             f"{', '.join(names) or 'none'}, 'builtin' or a path.")
        found = [name for name in _SPLIT_NAMES.get(split, (split,)) if name in DATASETS[data]]
        if not found:
            raise ValueError(f"--data {data} has no {split} split (it has {', '.join(DATASETS[data])}); "
                             "pass a file instead.")
        return load_dataset(data, found[0], root=root, download=download, **options)
    if os.path.isfile(data):
        return load_path(data)
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
                **options):
    """`{"train": [...], "validation": [...], "test": [...]}`.

    Args:
        data: "builtin", a dataset name from `names`, or a path.
        builtin: the built-in dataset to use for "builtin".
        load_path: `path -> examples` for files (or class folders) in the
            formats this recipe reads.
        names: the named datasets that fit this recipe.
        options: passed to `load_dataset` (e.g. `tag="xpos"`).
    """
    if data == "builtin":
        return {split: load_builtin(builtin, split) for split in SPLITS}
    if data in DATASETS and not os.path.exists(data):
        if data not in names:
            raise ValueError(f"--data {data}: that dataset does not fit this recipe; use one of "
                             f"{', '.join(names) or 'none'}, 'builtin' or a path.")
        splits = {}
        for split, candidates in _SPLIT_NAMES.items():
            found = [name for name in candidates if name in DATASETS[data]]
            if found:
                splits[split] = load_dataset(data, found[0], root=root, download=download, **options)
        return _complete(splits, seed)
    return _from_path(data, load_path, seed)
