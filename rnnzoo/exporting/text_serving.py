"""SavedModels that serve raw text: the signature takes a batch of strings
(`text`) and does tokenization, vocabulary lookup, the model and decoding
inside one TensorFlow graph (tensorflow-text ops), so the artifact serves
with `tf.saved_model.load` alone, without rnnzoo.

```python
export_text_model("run/saved_model", serve, track=[model, vocabulary.tf_table()])
outputs = load_signature("run/saved_model")(text=tf.constant(["a fine film"]))
```
"""

import os

import keras
import tensorflow as tf

from rnnzoo.utils.backends import require_tensorflow
from rnnzoo.utils.files import replace_folder, scratch_folder

SIGNATURE = "serving_default"
TEXT_SPEC = tf.TensorSpec([None], tf.string, name="text")


def export_text_model(folder, serve, track=(), input_signature=(TEXT_SPEC,)):
    """Write a SavedModel whose `serving_default` signature is `serve` (a
    function of string tensors returning a dict of tensors). `track` lists
    the models and lookup tables `serve` uses. Written to a temporary folder
    and renamed into place."""
    require_tensorflow("a SavedModel that serves raw text")
    folder = os.path.abspath(os.fspath(folder))
    archive = keras.export.ExportArchive()
    for resource in track:
        archive.track(resource)
    archive.add_endpoint("serve", serve, input_signature=list(input_signature))
    with scratch_folder(folder) as scratch:
        written = os.path.join(scratch, "saved_model")
        archive.write_out(written, verbose=False)
        replace_folder(written, folder)
    return folder


def load_signature(folder):
    """The `serving_default` signature of a SavedModel folder."""
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops the graphs use)

    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: no SavedModel folder here.")
    return tf.saved_model.load(folder).signatures[SIGNATURE]


def serve_in_batches(signature, texts, batch_size=256):
    """Run a text signature over a list of strings; returns a list of
    per-batch output dicts of NumPy arrays."""
    results = []
    for start in range(0, len(texts), batch_size):
        outputs = signature(text=tf.constant(list(texts[start:start + batch_size])))
        results.append({name: value.numpy() for name, value in outputs.items()})
    return results
