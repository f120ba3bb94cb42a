import keras
from keras import ops

from rnnzoo.cells import get_cell


@keras.saving.register_keras_serializable(package="rnnzoo")
class CharacterEncoder(keras.layers.Layer):
    """Each word's characters -> one vector (Lample et al. 2016): character
    embeddings read by a bidirectional recurrent layer, whose final forward
    and backward states are concatenated.

    Input `(batch, words, characters)` int ids (0 is padding, on the right);
    output `(batch, words, 2 * units)`, masked at padding words (which
    give zeros).
    """

    def __init__(self, vocab_size, embedding_dim=25, units=25, cell="lstm", unroll=False, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.unroll = unroll  # for export with a fixed word length (int8 TFLite)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")
        self.rnn = keras.layers.Bidirectional(
            get_cell(cell).build(units, return_sequences=False, return_state=False, name="rnn_layer",
                                  **({"unroll": True} if unroll else {})), name="rnn")

    def build(self, input_shape):
        self.embedding.build((None, input_shape[-1]))
        self.rnn.build((None, input_shape[-1], self.embedding_dim))

    def call(self, inputs):
        shape = ops.shape(inputs)
        flat = ops.reshape(inputs, (-1, shape[-1]))
        encoded = self.rnn(self.embedding(flat), mask=ops.not_equal(flat, 0))
        has_characters = ops.any(ops.not_equal(flat, 0), axis=-1, keepdims=True)
        encoded = ops.where(has_characters, encoded, ops.zeros_like(encoded))
        return ops.reshape(encoded, (shape[0], shape[1], 2 * self.units))

    def compute_mask(self, inputs, mask=None):
        # Padding words (no characters) stay masked when this output is
        # concatenated with the word embeddings (Concatenate ORs the masks).
        return ops.any(ops.not_equal(inputs, 0), axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], 2 * self.units)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "units": self.units, "cell": self.cell, "unroll": self.unroll}
