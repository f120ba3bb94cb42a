"""Pretrained word vectors in the text format of GloVe (`word v1 v2 ...`)
and word2vec (the same, after a `count dim` header line)."""

import numpy as np

from rnnzoo.data.reading import DataFormatError, read_lines


def load_word_vectors(path, vocabulary, lowercase=False, encoding="utf-8", seed=0):
    """An embedding matrix `(len(vocabulary), dim)` for a `Vocabulary`: rows
    of words found in the file take their vectors (the first occurrence, or
    the lowercased word's when `lowercase`), the others small random values
    (the padding row stays zero).

    Returns `(matrix, found)`: `found` is how many vocabulary words the file
    covered. Only lines of vocabulary words are parsed as numbers; every line
    must have the same number of values.
    """
    dim, matrix, found = None, None, set()
    for number, line in read_lines(path, encoding):
        fields = line.rstrip().split(" ")
        if number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
            continue  # word2vec header: count dim
        if not line.strip():
            continue
        if len(fields) < 2:
            raise DataFormatError(path, number, "expected a word followed by its vector values.")
        if dim is None:
            dim = len(fields) - 1
            matrix = np.random.default_rng(seed).normal(0.0, 0.1, (len(vocabulary), dim)).astype("float32")
        elif len(fields) - 1 != dim:
            raise DataFormatError(path, number, f"has {len(fields) - 1} values; earlier lines have {dim}.")
        word = fields[0].lower() if lowercase else fields[0]
        index = vocabulary.index.get(word)
        if index is None or index in found or index < len(vocabulary.reserved):
            continue
        try:
            matrix[index] = np.asarray(fields[1:], dtype="float32")
        except ValueError:
            raise DataFormatError(path, number, f"the vector of {fields[0]!r} holds a value that is not a number.")
        found.add(index)
    if dim is None:
        raise DataFormatError(path, None, "holds no vectors.")
    matrix[0] = 0.0
    return matrix, len(found)
