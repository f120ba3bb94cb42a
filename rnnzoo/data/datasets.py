"""Named public datasets: which loader reads which file of each split, in
the layout that `download(name)` writes and `../shared/data` holds.

```python
train = load_dataset("ud_english_ewt", "train", root="../shared/data")
```
`root` defaults to `$RNNZOO_DATA`, then the download cache; with
`download=True` a missing set is fetched (see `downloads.py`).
"""

import os

from rnnzoo.data import formats
from rnnzoo.data.downloads import SOURCES, cache_dir
from rnnzoo.data.downloads import download as fetch


def _parallel(prefix, source_language="en", target_language="de"):
    def load(folder, source_language=source_language, target_language=target_language):
        return formats.load_parallel(os.path.join(folder, f"{prefix}.{source_language}"),
                                     os.path.join(folder, f"{prefix}.{target_language}"))
    return load


def _file(loader, name, **options):
    return lambda folder, **kw: loader(os.path.join(folder, name), **{**options, **kw})


def _imdb(split):
    def load(folder):
        return formats.load_class_folders(os.path.join(folder, "aclImdb", split), classes=("neg", "pos"))
    return load


def _fsdd(split):
    def load(folder):
        train, test = formats.split_fsdd(formats.list_audio_clips(os.path.join(folder, "recordings")))
        return train if split == "train" else test
    return load


DATASETS = {
    "ud_english_ewt": {s: _file(formats.load_conllu, f"en_ewt-ud-{s}.conllu") for s in ("train", "dev", "test")},
    "wnut17": {
        "train": _file(formats.load_bio, "wnut17train.conll"),
        "dev": _file(formats.load_bio, "emerging.dev.conll"),
        "test": _file(formats.load_bio, "emerging.test.annotated"),
    },
    "sst2": {s: _file(formats.load_labeled_lines, f"stsa.binary.{s}") for s in ("train", "dev", "test")},
    "multi30k": {"train": _parallel("train"), "val": _parallel("val"),
                 "test_2016_flickr": _parallel("test_2016_flickr")},
    # No official split: recipes hold out a seeded 5% (`random_split`).
    "tatoeba_eng_fra": {"all": _file(formats.load_tsv_pairs, "fra.txt")},
    # Usual split: first 90% of the characters train, last 10% validate.
    "tinyshakespeare": {"all": _file(formats.load_text, "input.txt")},
    "fsdd": {"train": _fsdd("train"), "test": _fsdd("test")},
    "imdb": {s: _imdb(s) for s in ("train", "test")},
}


# Class names for the datasets whose files hold codes (the built-in
# sentiment data is named `sentiment`).
LABEL_NAMES = {
    "sst2": {"0": "negative", "1": "positive"},
    "sentiment": {"0": "negative", "1": "positive"},
    "imdb": {"neg": "negative", "pos": "positive"},
}


def label_names(dataset, labels):
    """Readable names of `labels` (as the dataset's files write them)."""
    return [LABEL_NAMES.get(dataset, {}).get(label, label) for label in labels]


def dataset_folder(name, root=None):
    """Where `name` lives: `root/name`, else `$RNNZOO_DATA/name`, else the
    download cache."""
    for base in (root, os.environ.get("RNNZOO_DATA"), cache_dir()):
        if base and os.path.isdir(os.path.join(base, name)):
            return os.path.join(base, name)
    return None


def load_dataset(name, split, root=None, download=False, **options):
    """Examples of one split of a named dataset (see `DATASETS`)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}.")
    if split not in DATASETS[name]:
        raise ValueError(f"{name} has splits {sorted(DATASETS[name])}, not {split!r}.")
    folder = dataset_folder(name, root)
    if folder is None:
        if not download:
            hint = " or pass download=True" if name in SOURCES else ""
            raise FileNotFoundError(f"dataset {name!r} not found under root={root!r}, $RNNZOO_DATA or "
                                    f"{cache_dir()}; point root at the folder holding {name}/{hint}.")
        folder = fetch(name)
    return DATASETS[name][split](folder, **options)
