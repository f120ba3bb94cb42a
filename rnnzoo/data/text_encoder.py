"""A tokenizer and its vocabulary as one object: strings -> ids inside
`tf.data` (or a serving graph), ids -> strings, saved as a folder next to a
model (`tokenizer.json` + `vocabulary.txt`)."""

import os

import numpy as np
import tensorflow as tf

from rnnzoo.data.reading import DataFormatError, read_json
from rnnzoo.data.special_tokens import END_ID, PAD_ID, START_ID
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

    def decode(self, ids):
        """Batch of id sequences (NumPy or lists) -> strings. Stops at the end
        id; padding and the start id are dropped."""
        texts = []
        for row in ids:
            row = [int(i) for i in np.asarray(row).tolist()]
            if END_ID in row:
                row = row[: row.index(END_ID)]
            row = [i for i in row if i not in (PAD_ID, START_ID)]
            tokens = tf.ragged.constant([self.vocabulary.to_tokens(row)], dtype=tf.string, ragged_rank=1) \
                if row else tf.ragged.constant([[]], dtype=tf.string)
            texts.append(self.tokenizer.detokenize(tokens)[0].numpy().decode("utf-8"))
        return texts

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
