import numpy as np

SPLITS = ("train", "validation", "test")


def split_rng(split, seed=0):
    """A generator per (split, seed): splits never share a random stream."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    return np.random.default_rng([seed, SPLITS.index(split), 20261122])


def default_size(split, train, held_out):
    return train if split == "train" else held_out
