"""What needs TensorFlow whichever Keras backend runs.

rnnzoo's models, cells, training, decoding and `.keras` files run on the
TensorFlow, JAX and torch backends. SavedModel and TFLite export (and the
recipes, which end by exporting) trace TensorFlow graphs of the model, so
they need the TensorFlow backend; `require_tensorflow` says so, once, in the
same words everywhere.
"""

import keras


def require_tensorflow(what):
    """Raises `ValueError` naming `what` unless Keras runs on TensorFlow."""
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(f"{what} needs the TensorFlow backend (KERAS_BACKEND=tensorflow); this process runs "
                         f"Keras on {backend}. A .keras file saved here loads there unchanged.")
