"""Saving and loading `.keras` files the safe way: saves are atomic (the
previous file stays loadable until the new one is complete) and loads use
`safe_mode=True`, so a file that carries code (a `Lambda` layer) is refused
with a message that names it. Nothing in rnnzoo loads with
`safe_mode=False`; a user who trusts a file can do that with Keras."""

import os
import warnings
import zipfile

import keras

from rnnzoo.utils.files import atomic_write


class UnsafeModelError(ValueError):
    """A `.keras` file holds arbitrary Python code and was not loaded."""


class DamagedModelError(ValueError):
    """A `.keras` file is there but is not a complete archive (cut short by a
    crash or a full disk)."""


def save_model(model, path):
    """`model.save(path)`, atomically."""
    with atomic_write(path) as tmp:
        model.save(tmp)


def save_weights(model, path, attributes=None):
    """`model.save_weights(path)` (a `.weights.h5` file, optimizer state
    included), atomically, with `attributes` (name -> number or string) in
    the file, written with the weights (`weights_attributes` reads them
    back). The HDF5 file is built in memory and written with plain file
    I/O: HDF5 writing straight to a full disk crashed the process (h5py
    freeing its objects after the failed write: a segfault), where a full
    disk must be one error line."""
    import io

    from keras.src.saving import saving_lib

    buffer = io.BytesIO()
    store = saving_lib.H5IOStore(buffer, mode="w")
    try:
        saving_lib._save_state(model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set())
        store.h5_file.attrs.update(attributes or {})
    finally:
        store.close()
    with atomic_write(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(buffer.getbuffer())


def weights_attributes(path):
    """The attributes `save_weights` wrote into a `.weights.h5` file (an
    empty dict for files written without)."""
    import h5py

    with h5py.File(path, "r") as f:
        return {name: value.item() if hasattr(value, "item") else value for name, value in f.attrs.items()}


NEVER_TRAINED_OPTIMIZER = r"Skipping variable loading for optimizer .* the saved optimizer has [0-2] variables"


def load_model(path):
    """`keras.saving.load_model(path)` with `safe_mode=True` and errors that
    name the file. (rnnzoo's layers and models are registered: importing
    this module ran the package's `__init__`, which imports them.)"""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such model file.")
    if not zipfile.is_zipfile(path):  # Keras would call it "not found"
        raise DamagedModelError(f"{path}: the file is damaged: not a complete .keras archive "
                                f"({os.path.getsize(path):,} bytes); it may have been cut short by a crash or a "
                                "full disk.")
    try:
        with warnings.catch_warnings():
            # A model saved before any training step (a serving copy) has no optimizer state to restore.
            warnings.filterwarnings("ignore", message=NEVER_TRAINED_OPTIMIZER)
            return keras.saving.load_model(path, safe_mode=True)
    except ValueError as error:
        if "Lambda" in str(error) or "safe_mode" in str(error):
            raise UnsafeModelError(
                f"{path}: refused to load: the model holds a Lambda layer (arbitrary Python code, run on "
                "load). rnnzoo only loads with safe_mode=True. If you trust where the file comes from, load "
                "it yourself with keras.saving.load_model(path, safe_mode=False).") from None
        raise ValueError(f"{path}: not a loadable .keras model ({error})") from error
