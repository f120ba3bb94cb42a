"""From examples to batches: shuffle, bucket by length, pad on the right,
prefetch. Right padding (real tokens first, PAD_ID after) is what Keras masks
and the cuDNN kernels expect."""

import numpy as np
import tensorflow as tf

from rnnzoo.data.special_tokens import PAD_ID


def ragged_dataset(*columns):
    """`tf.data.Dataset` from Python columns: lists of id lists become
    variable-length int32 tensors, scalars stay scalars.

    `ragged_dataset(token_ids, labels)` -> elements `(ids, label)`; a
    column of id lists per word (characters) gives `(words, chars)` tensors."""
    tensors = []
    for column in columns:
        column = list(column)
        if not column:
            raise ValueError("ragged_dataset got an empty column.")
        if isinstance(column[0], (list, tuple, np.ndarray)):
            tensors.append(_ragged(column))
        else:
            tensors.append(tf.constant(column))
    dataset = tf.data.Dataset.from_tensor_slices(tuple(tensors) if len(tensors) > 1 else tensors[0])
    # Slicing a RaggedTensor yields RaggedTensor rows; make them dense 1-D.
    return dataset.map(_densify_element)


def _ragged(rows):
    """Rows of ids (or rows of rows of ids, e.g. characters per word) ->
    an int32 RaggedTensor, built from flat values (fast for large sets)."""
    rows = [r.tolist() if isinstance(r, np.ndarray) else list(r) for r in rows]
    nested = any(isinstance(x, (list, tuple, np.ndarray)) for r in rows for x in r[:1])
    if not nested:
        values = np.fromiter((x for r in rows for x in r), dtype=np.int32)
        return tf.RaggedTensor.from_row_lengths(values, [len(r) for r in rows])
    inner = [list(x) for r in rows for x in r]
    values = np.fromiter((x for r in inner for x in r), dtype=np.int32)
    return tf.RaggedTensor.from_nested_row_lengths(values, [[len(r) for r in rows], [len(x) for x in inner]])


def _densify_element(*element):
    dense = tuple(e.to_tensor() if isinstance(e, tf.RaggedTensor) else e for e in element)
    return dense if len(dense) > 1 else dense[0]


def _first_tensor(element):
    return tf.nest.flatten(element)[0]


def sequence_length(*element):
    """Length of an element's first tensor (the tokens, or the inputs dict's
    first entry). tf.data passes tuple elements unpacked."""
    return tf.shape(_first_tensor(element))[0]


def bucket_boundaries(lengths, growth=1.1):
    """Length boundaries that grow geometrically by `growth` from the
    shortest to the longest length, so a bucket's lengths differ by at most
    ~10% (and so does its padding), whatever the length distribution."""
    lengths = np.asarray(list(lengths))
    if lengths.size == 0:
        raise ValueError("bucket_boundaries needs at least one length.")
    if growth <= 1.0:
        raise ValueError(f"growth must be > 1, got {growth}.")
    boundaries, edge = [], max(1, int(lengths.min())) + 1
    while edge <= lengths.max():
        boundaries.append(edge)
        edge = max(edge + 1, int(np.ceil(edge * growth)))
    return boundaries


def batch_dataset(dataset, batch_size, boundaries="auto", shuffle_buffer=None, seed=None,
                  drop_remainder=False, length_fn=sequence_length, prefetch=True, reshuffle=True):
    """Batches of right-padded sequences (padding value 0 = PAD_ID).

    Args:
        dataset: elements of variable-length tensors (tokens, or `(inputs,
            labels)` tuples; inputs and labels may be dicts).
        boundaries: `"auto"` (`bucket_boundaries` of the lengths, read once
            from the dataset), a list of length boundaries, or None for no
            bucketing (pad each batch to its longest element).
        shuffle_buffer: shuffle examples first (None: no shuffling).
        seed: shuffle seed.
        reshuffle: a new order each time the dataset is iterated (False:
            the same order every time, for callers that make one dataset
            per epoch and need its order not to depend on how often the
            dataset was read, e.g. by `tf.distribute`).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    if shuffle_buffer:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=reshuffle)
    if boundaries == "auto":
        lengths = [int(n) for n in dataset.map(length_fn).as_numpy_iterator()]
        boundaries = bucket_boundaries(lengths)
    if boundaries:
        dataset = dataset.bucket_by_sequence_length(
            length_fn, bucket_boundaries=list(boundaries),
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            drop_remainder=drop_remainder,
        )
    else:
        dataset = dataset.padded_batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE) if prefetch else dataset


def pad_rows(rows, length=None, inner=None, dtype=None, value=PAD_ID):
    """Rows of any lengths (lists or arrays shaped `(steps, ...)`) -> one
    array `(rows, length, ...)`, right-padded with `value`. `length`
    defaults to the longest row (at least 1), `inner` (sizes of the trailing
    axes, None for the largest) likewise; rows are cut where they are
    longer. Integer rows become int32. The one place rows are padded for a
    model."""
    rows = [np.asarray(row) for row in rows]
    if not rows:
        raise ValueError("pad_rows needs at least one row.")
    width = length or max([1] + [len(row) for row in rows])
    inner = inner or (None,) * (rows[0].ndim - 1)
    inner = tuple(size or max(row.shape[k + 1] for row in rows) for k, size in enumerate(inner))
    if dtype is None:  # ids (any integer type, or no values at all) become int32, as models take them
        dtype = next((row.dtype for row in rows if row.size), np.dtype("int32"))
        dtype = np.dtype("int32") if np.issubdtype(dtype, np.integer) else dtype
    out = np.full((len(rows), width) + inner, value, dtype)
    for index, row in enumerate(rows):
        row = row[tuple(slice(0, size) for size in (width,) + inner)]
        out[(index, *[slice(0, size) for size in row.shape])] = row
    return out


def in_length_order(function, rows, batch_size):
    """`function(padded_batch)` over `rows` taken shortest first in batches
    of `batch_size` (so a batch wastes little on padding); returns one
    output per row, in the input order. `function` returns a sequence with
    one entry per batch row (ids, labels, strings)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    order = np.argsort([len(row) for row in rows], kind="stable")
    results = [None] * len(rows)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        for index, output in zip(chunk, function(pad_rows([rows[i] for i in chunk]))):
            results[index] = output
    return results


def padded_fraction(batches, pad_id=PAD_ID):
    """Fraction of token positions that are padding, over one pass of a
    batched dataset (read from each element's first tensor)."""
    padded = total = 0
    for element in batches:
        tokens = _first_tensor(element).numpy()
        padded += int((tokens == pad_id).sum())
        total += tokens.size
    if total == 0:
        raise ValueError("padded_fraction: the dataset is empty.")
    return padded / total
