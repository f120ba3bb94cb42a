"""A tokenizer and its vocabulary as one object: strings -> ids inside
`tf.data` (or a serving graph), ids -> strings, saved as a folder next to a
model (`tokenizer.json` + `vocabulary.txt`)."""

import os

import tensorflow as tf

from rnnzoo.data.reading import DataFormatError, read_json
from rnnzoo.data.special_tokens import END_ID, PAD_ID, UNK_ID
from rnnzoo.data.tokenizers import get_tokenizer, tokenizer_from_config
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.utils.files import write_json

TOKENIZER_FILE = "tokenizer.json"
VOCABULARY_FILE = "vocabulary.txt"


class TextEncoder:
    """```python
    encoder = TextEncoder.adapt(train_texts, tokenizer="word", min_frequency=2)
    dataset = tf.data.Dataset.from_tensor_slices(texts).map(encoder.encode)
    encoder.save("saved_models/run/source")
    ```
    """

    def __init__(self, tokenizer, vocabulary):
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary

    @classmethod
    def adapt(cls, texts, tokenizer="word", min_frequency=1, max_size=None, **tokenizer_options):
        """Learn a vocabulary (and WordPiece pieces) from training texts."""
        if isinstance(tokenizer, str):
            tokenizer = get_tokenizer(tokenizer, **tokenizer_options)
        texts = list(texts)
        if not texts:
            raise ValueError("adapt() needs at least one training text.")
        tokenizer.train(texts)
        token_lists = []
        for start in range(0, len(texts), 4096):
            tokens = tokenizer.tokenize(texts[start:start + 4096]).to_list()
            token_lists.extend([t.decode("utf-8") for t in row] for row in tokens)
        return cls(tokenizer, Vocabulary.build(token_lists, min_frequency, max_size))

    @classmethod
    def resume_or_adapt(cls, folder, texts, **options):
        """The encoder saved in `folder` (a resumed run keeps its ids), else
        one adapted on `texts` (`adapt(texts, **options)`) and saved there."""
        if os.path.isdir(folder):
            return cls.load(folder)
        encoder = cls.adapt(texts, **options)
        encoder.save(folder)
        return encoder

    @property
    def vocab_size(self):
        return len(self.vocabulary)

    def encode(self, texts):
        """String(s) -> int32 ids: a 1-D tensor for a scalar string, a
        RaggedTensor for a batch. Works in `tf.data.Dataset.map`."""
        return self.vocabulary.tf_lookup(self.tokenizer.tokenize(texts))

    __call__ = encode

    def encode_to_lists(self, texts):
        return [row for row in self.encode(list(texts)).to_list()]

    def model_inputs(self, texts):
        """A batch of strings -> right-padded ids `(batch, width >= 1)` for a
        model, in graph ops: a text with no tokens reads as one <unk> (as
        `model_rows` writes it in Python)."""
        ragged = self.encode(texts)
        ids = tf.pad(ragged.to_tensor(), [[0, 0], [0, 1]])  # one padding column keeps the width >= 1
        first = tf.where(tf.equal(ragged.row_lengths(), 0), UNK_ID, ids[:, 0])
        return tf.concat([first[:, None], ids[:, 1:]], axis=1)

    def model_rows(self, texts):
        """Strings -> id lists for a model; a text with no tokens reads as one <unk>."""
        return [row or [UNK_ID] for row in self.encode_to_lists(texts)]

    def ids_to_text(self, ids):
        """`(batch, steps)` ids -> strings, in graph ops (a SavedModel uses
        it): each row stops at its first end or padding id, the one stop
        rule of generated text, and its tokens are joined by the tokenizer's
        `detokenize`."""
        ids = tf.convert_to_tensor(ids, tf.int32)
        stop = tf.logical_or(tf.equal(ids, END_ID), tf.equal(ids, PAD_ID))
        stop = tf.concat([stop, tf.ones_like(stop[:, :1])], axis=1)  # a row with no end stops at its last id
        lengths = tf.argmax(tf.cast(stop, tf.int32), axis=1, output_type=tf.int32)
        tokens = self.vocabulary.tf_to_tokens(tf.RaggedTensor.from_tensor(ids, lengths=lengths))
        return self.tokenizer.detokenize(tokens)

    def decode(self, rows):
        """Id rows of any lengths (NumPy or lists) -> Python strings, by
        `ids_to_text` (so they match a SavedModel's output)."""
        from rnnzoo.data.batching import pad_rows

        return [text.decode("utf-8") for text in self.ids_to_text(pad_rows(rows, dtype="int32")).numpy()]

    def save(self, folder):
        os.makedirs(folder, exist_ok=True)
        write_json(os.path.join(folder, TOKENIZER_FILE), self.tokenizer.get_config())
        self.vocabulary.save(os.path.join(folder, VOCABULARY_FILE))
        return folder

    @classmethod
    def load(cls, folder):
        config_path = os.path.join(folder, TOKENIZER_FILE)
        config = read_json(config_path)
        if not isinstance(config, dict):
            raise DataFormatError(config_path, None, "expected a JSON object of tokenizer options.")
        try:
            tokenizer = tokenizer_from_config(config)
        except ValueError as error:
            raise DataFormatError(config_path, None, str(error)) from None
        return cls(tokenizer, Vocabulary.load(os.path.join(folder, VOCABULARY_FILE)))

    def __repr__(self):
        return f"TextEncoder({self.tokenizer!r}, {self.vocabulary!r})"
