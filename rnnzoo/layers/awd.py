"""The AWD-LSTM regularizers (Merity, Keskar & Socher 2018, "Regularizing and
Optimizing LSTM Language Models") that are not already Keras':

- `EmbeddingDropout`: drops whole words (rows of the embedding matrix) for
  a batch, the same words at every position (Gal & Ghahramani 2016);
- `locked_dropout`: one dropout mask per sequence, shared by every step
  ("variational" dropout): Keras' `Dropout` with `noise_shape=(None, 1,
  None)`. (Keras' `LSTM(dropout=...)` already applies it to each recurrent
  layer's inputs.)
- `ActivationRegularization`: AR, `alpha * mean(h_t ** 2)`, and TAR,
  `beta * mean((h_t - h_{t-1}) ** 2)`, over the real steps.

Weight-dropped recurrent kernels (DropConnect) are an option of the `lstm`
and `gru` cells (`weight_drop`, `rnnzoo.cells.standard`); tied input and
output embeddings are Keras' `ReversibleEmbedding` and an `OutputBias`. The
dropouts and penalties are identity at inference.
"""

import keras
from keras import ops


def locked_dropout(rate, name=None):
    """Dropout with one mask per sequence for all its steps: `(batch, time,
    features)` inputs, mask `(batch, 1, features)`."""
    return keras.layers.Dropout(rate, noise_shape=(None, 1, None), name=name)


@keras.saving.register_keras_serializable(package="rnnzoo")
class EmbeddingDropout(keras.layers.Layer):
    """Word-level dropout on embedded tokens: in training, each of the
    `vocab_size` words is dropped (its vectors zeroed) with probability
    `rate` for the whole batch, the kept ones scaled by `1 / (1 - rate)`,
    which equals dropping rows of the embedding matrix. Call it as
    `layer(embedded, ids=ids)`; the mask of `embedded` passes through."""

    def __init__(self, vocab_size, rate=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"EmbeddingDropout: `rate` must be a float in [0, 1), got {rate!r}.")
        self.vocab_size, self.rate, self.seed = int(vocab_size), float(rate), seed
        self.seed_generator = keras.random.SeedGenerator(seed) if rate else None
        self.supports_masking = True

    def call(self, embedded, ids, training=None):
        if not (training and self.rate):
            return embedded
        keep = keras.random.dropout(ops.ones((self.vocab_size, 1), embedded.dtype), self.rate,
                                    seed=self.seed_generator)
        return embedded * ops.take(keep, ops.cast(ids, "int32"), axis=0)

    def compute_mask(self, embedded, ids=None, mask=None):
        return mask

    def compute_output_shape(self, embedded_shape, ids_shape=None):
        return embedded_shape

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="rnnzoo")
class ActivationRegularization(keras.layers.Layer):
    """Identity that, in training, adds `alpha * mean(h ** 2)` (AR) and
    `beta * mean((h_t - h_{t-1}) ** 2)` (TAR) to the model's losses, the means
    over real steps (and pairs of consecutive real steps) and features."""

    def __init__(self, alpha=2.0, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("alpha", alpha), ("beta", beta)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"ActivationRegularization: `{name}` must be a number >= 0, got {value!r}.")
        self.alpha, self.beta = float(alpha), float(beta)
        self.supports_masking = True

    def call(self, inputs, mask=None, training=None):
        if training and (self.alpha or self.beta):
            self.add_loss(activation_penalty(inputs, mask, self.alpha, self.beta))
        return inputs

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package="rnnzoo")
class OutputBias(keras.layers.Layer):
    """A learned bias per output class added to logits (the bias of tied
    output embeddings, which `ReversibleEmbedding` lacks: without it the
    model learns the tokens' frequencies only through the embeddings, and
    slowly), then `activation`."""

    def __init__(self, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.activation = keras.activations.get(activation)
        self.supports_masking = True

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")

    def call(self, inputs):
        return self.activation(inputs + self.bias)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": keras.activations.serialize(self.activation)}


def activation_penalty(outputs, mask, alpha, beta):
    """AR + TAR of `(batch, time, features)` outputs over the real steps."""
    outputs = ops.cast(outputs, "float32")
    real = ops.ones(ops.shape(outputs)[:2]) if mask is None else ops.cast(mask, "float32")
    features = ops.cast(ops.shape(outputs)[-1], "float32")
    squares = ops.sum(ops.square(outputs), axis=-1)
    ar = ops.sum(squares * real) / (ops.maximum(ops.sum(real), 1.0) * features)
    pairs = real[:, 1:] * real[:, :-1]
    changes = ops.sum(ops.square(outputs[:, 1:] - outputs[:, :-1]), axis=-1)
    tar = ops.sum(changes * pairs) / (ops.maximum(ops.sum(pairs), 1.0) * features)
    return alpha * ar + beta * tar
