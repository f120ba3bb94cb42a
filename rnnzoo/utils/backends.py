"""What needs TensorFlow whichever Keras backend runs.

rnnzoo's models, cells, training, decoding and `.keras` files run on the
TensorFlow, JAX and torch backends. SavedModel and TFLite export (and the
recipes, which end by exporting) trace TensorFlow graphs of the model, so
they need the TensorFlow backend; `require_tensorflow` says so, once, in the
same words everywhere.
"""

import importlib.util
import os

BACKENDS = ("tensorflow", "jax", "torch")  # the Keras backends rnnzoo runs on
# The package each Keras backend needs, and the install that brings it.
BACKEND_PACKAGES = {"torch": ("torch", 'pip install -e ".[torch]"'), "jax": ("jax", 'pip install -e ".[test]"')}


def missing_backend_package(environ=os.environ, find_spec=importlib.util.find_spec):
    """What to say when `KERAS_BACKEND` names a backend whose package is not
    installed (Keras would fail later with a bare `No module named ...`), else None."""
    backend = environ.get("KERAS_BACKEND", "")
    package, install = BACKEND_PACKAGES.get(backend, (None, None))
    if package is None or find_spec(package) is not None:
        return None
    return f"KERAS_BACKEND={backend} needs {package}, which is not installed: {install}"


def require_tensorflow(what):
    """Raises `ValueError` naming `what` unless Keras runs on TensorFlow."""
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(f"{what} needs the TensorFlow backend (KERAS_BACKEND=tensorflow); this process runs "
                         f"Keras on {backend}. A .keras file saved here loads there unchanged.")
