import keras
from keras import ops

from rnnzoo.cells import get_cell
from rnnzoo.layers.attention_pooling import AttentionPooling
from rnnzoo.layers.bidirectional import bidirectional as wrap_bidirectional
from rnnzoo.layers.sequence_pooling import SequencePooling

POOLING = ("last", "attention", "max", "mean")


@keras.saving.register_keras_serializable(package="rnnzoo")
class SegmentEncoder(keras.layers.Layer):
    """Encodes every segment of a sequence of segments into one vector: the
    words of each sentence of a document, the characters of each word of a
    sentence, the hours of each day of a series. The one implementation of
    "encode each segment" (the lower level of a hierarchical model; the
    tagger's `CharacterEncoder` is one).

    Input: int ids `(batch, segments, steps)` with `vocab_size` (0 is
    padding), or floats `(batch, segments, steps, input_dim)` with
    `input_dim` (all-zero steps are padding, unless `mask_zero=False`: a
    series); steps padded on the right.
    Output `(batch, segments, width)`, `width = units` (x2 when
    bidirectional), masked at segments with no real step (which give zeros).

    Each segment is embedded, read by `num_layers` recurrent layers of any
    registered `cell`, and pooled: `"last"` (the final state of each
    direction), `"attention"` (`AttentionPooling`), or `"max"` / `"mean"`
    over the real steps. `call(..., return_weights=True)` also returns the
    attention weights `(batch, segments, steps)`.
    """

    def __init__(self, vocab_size=None, input_dim=None, embedding_dim=25, units=25, cell="lstm", num_layers=1,
                 bidirectional=True, pooling="last", attention_units=None, dropout=0.0, cell_options=None,
                 unroll=False, mask_zero=True, **kwargs):
        super().__init__(**kwargs)
        if (vocab_size is None) == (input_dim is None):
            raise ValueError(f"SegmentEncoder: give exactly one of `vocab_size` (ids) or `input_dim` (features); got "
                             f"vocab_size={vocab_size!r}, input_dim={input_dim!r}.")
        if pooling not in POOLING:
            raise ValueError(f"SegmentEncoder: `pooling` must be one of {POOLING}, got {pooling!r}.")
        for name, value in (("units", units), ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SegmentEncoder: `{name}` must be a positive integer, got {value!r}.")
        self.vocab_size, self.input_dim, self.embedding_dim = vocab_size, input_dim, embedding_dim
        self.units, self.cell, self.num_layers, self.bidirectional = units, cell, num_layers, bidirectional
        self.pooling, self.attention_units, self.dropout = pooling, attention_units, dropout
        self.cell_options, self.unroll = dict(cell_options or {}), unroll  # unroll: a fixed length (int8 TFLite)
        if vocab_size is not None and not mask_zero:
            raise ValueError("SegmentEncoder: id 0 is always padding; `mask_zero=False` is for features only.")
        self.mask_zero = mask_zero
        self.embedding = (keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")
                          if vocab_size is not None else None)
        spec = get_cell(cell)
        layers = []
        for index in range(num_layers):
            name = "rnn" if index == 0 else f"rnn_{index}"
            layer = spec.build(units, return_sequences=pooling != "last" or index < num_layers - 1,
                               return_state=False, dropout=dropout, name=f"{name}_layer",
                               **{**self.cell_options, **({"unroll": True} if unroll else {})})
            layers.append(wrap_bidirectional(layer, name=name) if bidirectional else layer)
        # Attribute names are the saved weights' paths: `rnn` (and `embedding`) as the character encoder
        # always wrote them, so its files load; further layers after it.
        self.rnn, self.stacked_rnn = layers[0], layers[1:]
        self.attention = AttentionPooling(attention_units, name="attention") if pooling == "attention" else None
        self.step_pooling = SequencePooling(pooling, name="pooling") if pooling in ("max", "mean") else None
        self.supports_masking = True

    @property
    def width(self):
        return self.units * (2 if self.bidirectional else 1)

    def build(self, input_shape):
        steps = input_shape[2]
        features = self.embedding_dim if self.embedding is not None else self.input_dim
        if self.embedding is not None:
            self.embedding.build((None, steps))
        for layer in [self.rnn, *self.stacked_rnn]:
            layer.build((None, steps, features))
            features = self.width
        if self.attention is not None:
            self.attention.build((None, steps, self.width))

    def _flat(self, inputs):
        """`(segments of every row, steps[, features])` and the real steps."""
        shape = ops.shape(inputs)
        if self.embedding is not None:
            flat = ops.reshape(inputs, (-1, shape[2]))
            return self.embedding(flat), ops.not_equal(flat, 0)
        flat = ops.reshape(inputs, (-1, shape[2], self.input_dim))
        if not self.mask_zero:  # every step is real (a series, where zero is a value)
            return flat, ops.ones(ops.shape(flat)[:2], dtype="bool")
        return flat, ops.any(ops.not_equal(flat, 0), axis=-1)

    def call(self, inputs, training=None, return_weights=False):
        if return_weights and self.attention is None:
            raise ValueError(f"SegmentEncoder: attention weights need pooling='attention', not {self.pooling!r}.")
        shape = ops.shape(inputs)
        sequence, real = self._flat(inputs)
        for layer in [self.rnn, *self.stacked_rnn]:
            sequence = layer(sequence, mask=real, training=training)
        weights = None
        if self.attention is not None:
            encoded, weights = self.attention(sequence, mask=real, return_weights=True)
        elif self.step_pooling is not None:
            encoded = self.step_pooling(sequence, mask=real)
        else:
            encoded = sequence
        has_steps = ops.any(real, axis=-1, keepdims=True)
        encoded = ops.where(has_steps, encoded, ops.zeros_like(encoded))
        encoded = ops.reshape(encoded, (shape[0], shape[1], self.width))
        if return_weights:
            return encoded, ops.reshape(weights, (shape[0], shape[1], shape[2]))
        return encoded

    def compute_mask(self, inputs, mask=None):
        # Padding segments (no real step) stay masked for the next level (and through Concatenate, which ORs).
        if not self.mask_zero:
            return None
        real = ops.not_equal(inputs, 0)
        return ops.any(real if self.embedding is not None else ops.any(real, axis=-1), axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.width)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "input_dim": self.input_dim,
                "embedding_dim": self.embedding_dim, "units": self.units, "cell": self.cell,
                "num_layers": self.num_layers, "bidirectional": self.bidirectional, "pooling": self.pooling,
                "attention_units": self.attention_units, "dropout": self.dropout,
                "cell_options": self.cell_options or None, "unroll": self.unroll, "mask_zero": self.mask_zero}
