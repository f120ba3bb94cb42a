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
import tempfile

import keras
import tensorflow as tf

from rnnzoo.utils.files import replace_folder

SIGNATURE = "serving_default"
TEXT_SPEC = tf.TensorSpec([None], tf.string, name="text")


def export_text_model(folder, serve, track=(), input_signature=(TEXT_SPEC,)):
    """Write a SavedModel whose `serving_default` signature is `serve` (a
    function of string tensors returning a dict of tensors). `track` lists
    the models and lookup tables `serve` uses. Written to a temporary folder
    and renamed into place."""
    folder = os.path.abspath(os.fspath(folder))
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    archive = keras.export.ExportArchive()
    for resource in track:
        archive.track(resource)
    archive.add_endpoint("serve", serve, input_signature=list(input_signature))
    with tempfile.TemporaryDirectory(prefix=f".{os.path.basename(folder)}.", dir=parent) as scratch:
        written = os.path.join(scratch, "saved_model")
        archive.write_out(written, verbose=False)
        replace_folder(written, folder)
    return folder


def ids_to_text(encoder, ids, postprocess=None):
    """`(batch, steps)` generated ids -> strings with `encoder` (a
    `TextEncoder`), in graph ops: each row stops at its first end or padding
    id, the tokens are joined by the tokenizer's `detokenize`, then
    `postprocess(strings)` if given."""
    from rnnzoo.data import END_ID, PAD_ID

    ids = tf.convert_to_tensor(ids, tf.int32)
    stop = tf.logical_or(tf.equal(ids, END_ID), tf.equal(ids, PAD_ID))
    stop = tf.concat([stop, tf.ones_like(stop[:, :1])], axis=1)  # a row with no end stops at its last id
    lengths = tf.argmax(tf.cast(stop, tf.int32), axis=1, output_type=tf.int32)
    tokens = encoder.vocabulary.tf_to_tokens(tf.RaggedTensor.from_tensor(ids, lengths=lengths))
    text = encoder.tokenizer.detokenize(tokens)
    return text if postprocess is None else postprocess(text)


def rows_to_text(encoder, rows, postprocess=None):
    """Generated id rows of any lengths (NumPy or lists) -> Python strings,
    through the same graph ops as `ids_to_text` (so they match a SavedModel)."""
    from rnnzoo.data.batching import pad_rows

    ids = pad_rows(rows, dtype="int32")
    return [t.decode("utf-8") for t in ids_to_text(encoder, ids, postprocess).numpy()]


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
