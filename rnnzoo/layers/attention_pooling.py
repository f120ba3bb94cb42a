import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnzoo")
class AttentionPooling(keras.layers.Layer):
    """Context-vector attention over the real steps of a masked sequence
    (Yang et al. 2016, Hierarchical Attention Networks): `u_t = tanh(W h_t +
    b)`, `a_t = softmax_t(u_t . c)` over the unmasked steps only, output
    `sum_t a_t h_t`. `(batch, time, features)` -> `(batch, features)`.

    `call(..., return_weights=True)` also returns the weights `(batch,
    time)`: they sum to 1 over a row's real steps and are 0 at padding; a
    row with no real step gives zero weights and a zero vector.

    Args:
        units: size of `u_t` (default: the input's feature size).
    """

    def __init__(self, units=None, **kwargs):
        super().__init__(**kwargs)
        if units is not None and (isinstance(units, bool) or not isinstance(units, int) or units < 1):
            raise ValueError(f"AttentionPooling: `units` must be a positive integer or None, got {units!r}.")
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        features = int(input_shape[-1])
        units = self.units or features
        self.projection = self.add_weight(name="projection", shape=(features, units), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(units,), initializer="zeros")
        self.context = self.add_weight(name="context", shape=(units,), initializer="glorot_uniform")

    def attention_weights(self, inputs, mask=None):
        """`(batch, time)` weights: softmax over the real steps, 0 elsewhere."""
        projection, bias = ops.cast(self.projection, inputs.dtype), ops.cast(self.bias, inputs.dtype)
        hidden = ops.tanh(ops.matmul(inputs, projection) + bias)
        scores = ops.matmul(hidden, ops.cast(self.context, inputs.dtype))
        if mask is None:
            return ops.softmax(scores, axis=-1)
        real = ops.cast(mask, "bool")
        scores = ops.where(real, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores - ops.max(scores, axis=-1, keepdims=True), axis=-1)
        return ops.where(real, weights, ops.zeros_like(weights))

    def call(self, inputs, mask=None, return_weights=False):
        weights = self.attention_weights(inputs, mask)
        pooled = ops.sum(inputs * weights[:, :, None], axis=1)
        return (pooled, weights) if return_weights else pooled

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "units": self.units}
