"""Named public datasets: which loader reads which file of each split, in
the layout that `download(name)` writes and `../shared/data` holds.

```python
train = load_dataset("ud_english_ewt", "train", root="../shared/data")
```
`root` defaults to `$RNNZOO_DATA`, then the download cache; with
`download=True` a missing set is fetched (see `downloads.py`).
"""

import os
import typing

from rnnzoo.data import formats
from rnnzoo.data.downloads import SOURCES, cache_dir, is_complete
from rnnzoo.data.downloads import download as fetch
from rnnzoo.data.examples import random_split


def _parallel(prefix, source_language="en", target_language="de"):
    def load(folder, source_language=source_language, target_language=target_language):
        return formats.load_parallel(os.path.join(folder, f"{prefix}.{source_language}"),
                                     os.path.join(folder, f"{prefix}.{target_language}"))
    return load


def _file(loader, name, **options):
    return lambda folder, **kw: loader(os.path.join(folder, name), **{**options, **kw})


def _class_folders(classes, *path):
    def load(folder, encoding="utf-8"):
        return formats.load_class_folders(os.path.join(folder, *path), classes=classes, encoding=encoding)
    return load


def _imdb(split):
    return _class_folders(("neg", "pos"), "aclImdb", split)


def _fsdd(split):
    def load(folder):
        train, test = formats.split_fsdd(formats.list_audio_clips(os.path.join(folder, "recordings")))
        return train if split == "train" else test
    return load


def held_out(fraction):
    """Split policy for a dataset with no official split: a seeded
    `fraction` of the examples is held out for test, as many for validation."""
    def split(examples, seed):
        rest, test = random_split(examples, fraction, seed=seed)
        train, validation = random_split(rest, fraction / (1 - fraction), seed=seed)
        return {"train": train, "validation": validation, "test": test}
    return split


def text_prefix(fraction):
    """Split policy for one long text (character language models): the
    first `fraction` of its characters train, the rest validates and tests."""
    def split(text, seed):
        cut = int(len(text) * fraction)
        return {"train": [text[:cut]], "validation": [text[cut:]], "test": [text[cut:]]}
    return split


def file_prefix_folds(fold, folds=10, prefix="cv"):
    """Split policy for k-fold cross-validation by file name (Pang & Lee's
    movie reviews: fold k is the files named `cv{k}..`): fold `fold` tests,
    a seeded 10% of the other folds validates (for early stopping), the
    rest trains."""
    def split(examples, seed):
        if not 0 <= fold < folds:
            raise ValueError(f"fold must be in 0..{folds - 1}, got {fold}.")
        test = [e for e in examples if _fold_of(e.source, folds, prefix) == fold]
        train, validation = random_split([e for e in examples if _fold_of(e.source, folds, prefix) != fold], 0.1,
                                         seed=seed)
        return {"train": train, "validation": validation, "test": test}
    return split


def _fold_of(source, folds, prefix):
    name = os.path.basename(source or "")
    digit = name[len(prefix):len(prefix) + 1]
    if not name.startswith(prefix) or not digit.isdigit() or int(digit) >= folds:
        raise ValueError(f"{source}: cross-validation folds need files named {prefix}0.. to {prefix}{folds - 1}...")
    return int(digit)


def fsdd_split(clips, seed):
    """Split policy for recordings named like FSDD's: the official split
    (recordings 0-4 test), and a seeded 10% of the rest validates."""
    train, test = formats.split_fsdd(clips)
    train, validation = random_split(train, 0.1, seed=seed)
    return {"train": train, "validation": validation, "test": test}


class Dataset(typing.NamedTuple):
    """A named dataset: its split files (split name -> `loader(folder,
    **options)`), what the loaders return, how to split it when it has no
    official validation or test split (`policy(examples, seed)`; None: 10%
    of train validates, see `sources.load_splits`), and class names for
    label codes. Where it downloads from (with checksums) is `SOURCES`."""

    splits: dict
    example_type: str
    policy: typing.Callable = None
    label_names: dict = None
    folder: str = None  # its folder under a data root, when not its name


DATASETS = {
    "ud_english_ewt": Dataset({s: _file(formats.load_conllu, f"en_ewt-ud-{s}.conllu")
                               for s in ("train", "dev", "test")}, "TaggedSentence"),
    "wnut17": Dataset({"train": _file(formats.load_bio, "wnut17train.conll"),
                       "dev": _file(formats.load_bio, "emerging.dev.conll"),
                       "test": _file(formats.load_bio, "emerging.test.annotated")}, "TaggedSentence"),
    "sst2": Dataset({s: _file(formats.load_labeled_lines, f"stsa.binary.{s}") for s in ("train", "dev", "test")},
                    "LabeledText", label_names={"0": "negative", "1": "positive"}),
    "imdb": Dataset({s: _imdb(s) for s in ("train", "test")}, "LabeledText",
                    label_names={"neg": "negative", "pos": "positive"}),
    "multi30k": Dataset({"train": _parallel("train"), "val": _parallel("val"),
                         "test_2016_flickr": _parallel("test_2016_flickr")}, "TextPair"),
    # No official split: a seeded 5% for test and 5% for validation.
    "tatoeba_eng_fra": Dataset({"all": _file(formats.load_tsv_pairs, "fra.txt")}, "TextPair", held_out(0.05)),
    # The usual split: the first 90% of the characters train, the last 10% validate and test.
    "tinyshakespeare": Dataset({"all": _file(formats.load_text, "input.txt")}, "str", text_prefix(0.9)),
    # The official split holds recordings 0-4 of each speaker and digit out for test.
    "fsdd": Dataset({"train": _fsdd("train"), "test": _fsdd("test")}, "AudioClip"),
    # Pang & Lee 2004: 1,000 + 1,000 reviews, one sentence per line; 10-fold cross-validation by file name
    # (the recipe's --fold; fold 0 by default).
    "movie_reviews": Dataset({"all": _class_folders(("neg", "pos"))}, "LabeledText", file_prefix_folds(0),
                             label_names={"neg": "negative", "pos": "positive"}),
    # One series; the forecasting task splits it in time (12/4/4 months).
    "ett_h1": Dataset({"all": _file(formats.load_time_series, "ETTh1.csv")}, "TimeSeries", folder="ett"),
    # 414 hourly series; test holds the 48 values after each training series (the competition's split).
    "m4_hourly": Dataset({s: _file(formats.load_m4_rows, f"Hourly-{s}.csv") for s in ("train", "test")}, "Panel",
                         folder="m4"),
}

# Class names of the built-in data whose labels are codes.
BUILTIN_LABEL_NAMES = {"sentiment": {"0": "negative", "1": "positive"},
                       "documents": {"neg": "negative", "pos": "positive"}}


def label_names(dataset, labels):
    """Readable names of `labels` (as the dataset's files write them)."""
    names = DATASETS[dataset].label_names if dataset in DATASETS else BUILTIN_LABEL_NAMES.get(dataset)
    return [(names or {}).get(label, label) for label in labels]


def dataset_folder(name, root=None):
    """Where `name` lives: `root/name`, else `$RNNZOO_DATA/name`, else the
    download cache (only a complete download counts there)."""
    folder = DATASETS[name].folder or name if name in DATASETS else name
    for base in (root, os.environ.get("RNNZOO_DATA")):
        if base and os.path.isdir(os.path.join(base, folder)):
            return os.path.join(base, folder)
    cached = os.path.join(cache_dir(), name)
    return cached if name in SOURCES and is_complete(name, cached) else None


def searched_places(name, root=None):
    """Where `dataset_folder` looks for `name`, for error messages."""
    folder = DATASETS[name].folder or name if name in DATASETS else name
    places = [os.path.join(base, folder) for base in (root, os.environ.get("RNNZOO_DATA")) if base]
    return ", ".join(places + [os.path.join(cache_dir(), name)])


def load_dataset(name, split, root=None, download=False, **options):
    """Examples of one split of a named dataset (see `DATASETS`)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}.")
    if split not in DATASETS[name].splits:
        raise ValueError(f"{name} has splits {sorted(DATASETS[name].splits)}, not {split!r}.")
    folder = dataset_folder(name, root)
    if folder is None:
        if not download:
            hint = ", or pass --download (download=True) to fetch it" if name in SOURCES else ""
            raise FileNotFoundError(f"dataset {name!r} not found (looked in {searched_places(name, root)}); "
                                    f"point --data-root (root=) at the folder holding {name}/{hint}.")
        folder = fetch(name)
    return DATASETS[name].splits[split](folder, **options)
