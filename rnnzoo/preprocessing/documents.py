"""Documents as sentences of words, the same way in Python (training) and in
a TensorFlow graph (serving): `split_sentences` and `DocumentEncoder`.

A document's sentences are its non-blank lines; a document with no line
break is split after `.`, `!` or `?` (and any closing quotes or brackets)
followed by white space, as simple sentence splitters do (Punkt would also
learn abbreviations, which needs its trained model: not offline, not in a
graph). Each sentence is then tokenized by the `TextEncoder` as a text.
"""

import numpy as np
import tensorflow as tf

from rnnzoo.data.special_tokens import UNK_ID

SENTENCE_END = r"""([.!?]+["')\]]*)\s+"""


def split_sentences(texts):
    """`(batch,)` strings -> a `(batch, [sentences])` RaggedTensor of
    stripped, non-empty sentences, in graph ops."""
    texts = tf.convert_to_tensor(texts, tf.string)
    has_lines = tf.strings.regex_full_match(texts, r"(?s).*\S\s*\n\s*\S.*")
    texts = tf.where(has_lines, texts, tf.strings.regex_replace(texts, SENTENCE_END, "\\1\n"))
    sentences = tf.strings.strip(tf.strings.split(texts, "\n"))
    return tf.ragged.boolean_mask(sentences, tf.strings.length(sentences) > 0)


def document_sentences(texts):
    """Python strings -> each one's sentences as Python strings."""
    return [[s.decode("utf-8") for s in row] for row in split_sentences(list(texts)).to_list()]


class DocumentEncoder:
    """Raw documents -> ids `(batch, sentences, words)`: the first
    `max_sentences` sentences, each cut at `max_words` tokens of the
    `TextEncoder` (None: no limit). A document with no token reads as one
    sentence of one <unk>; a sentence with no token is padding."""

    def __init__(self, text_encoder, max_sentences=None, max_words=None):
        self.text_encoder, self.max_sentences, self.max_words = text_encoder, max_sentences, max_words

    @property
    def vocab_size(self):
        return self.text_encoder.vocab_size

    def sentences(self, texts):
        """The sentences read from each document (after the cut): what a
        model's sentence weights refer to."""
        return [row[: self.max_sentences] for row in document_sentences(texts)]

    def encode(self, texts):
        """`(batch, [sentences], [words])` int32 ids, ragged, in graph ops."""
        sentences = split_sentences(texts)[:, : self.max_sentences]
        ids = self.text_encoder.encode(sentences.flat_values)[:, : self.max_words]
        return tf.RaggedTensor.from_row_splits(ids, sentences.row_splits)

    def model_inputs(self, texts):
        """Right-padded ids `(batch, sentences >= 1, words >= 1)` in graph
        ops; as `model_rows` writes them."""
        ids = self.encode(texts).to_tensor()
        ids = tf.pad(ids, [[0, 0], [0, 1], [0, 1]])  # one padding row and column keep each size >= 1
        empty = tf.logical_not(tf.reduce_any(tf.not_equal(ids, 0), axis=[1, 2]))
        first = tf.where(empty, UNK_ID, ids[:, 0, 0])
        return tf.concat([tf.concat([first[:, None, None], ids[:, :1, 1:]], axis=2), ids[:, 1:]], axis=1)

    def model_rows(self, texts, chunk=256):
        """Documents -> one `(sentences, words)` int32 array each (padded
        within the document); a document with no token reads as `[[<unk>]]`."""
        texts = list(texts)
        rows = []
        for start in range(0, len(texts), chunk):
            for document in self.encode(texts[start:start + chunk]).to_list():
                document = document or [[]]
                width = max([1] + [len(sentence) for sentence in document])
                array = np.zeros((len(document), width), np.int32)
                for index, sentence in enumerate(document):
                    array[index, : len(sentence)] = sentence
                if not array.any():
                    array[0, 0] = UNK_ID
                rows.append(array)
        return rows

    def flat_rows(self, texts):
        """The same tokens as one sequence per document (a flat model reads
        what the hierarchical one reads)."""
        return [row[row != 0] for row in self.model_rows(texts)]

    def flat_model_inputs(self, texts):
        """`flat_rows` in graph ops: right-padded `(batch, tokens >= 1)`."""
        ids = self.model_inputs(texts)
        packed = tf.ragged.boolean_mask(ids, tf.not_equal(ids, 0)).merge_dims(1, 2).to_tensor()
        return tf.pad(packed, [[0, 0], [0, 1]])[:, : tf.maximum(tf.shape(packed)[1], 1)]
