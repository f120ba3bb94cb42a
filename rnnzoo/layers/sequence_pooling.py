import keras
from keras import ops

MODES = ("max", "mean", "last")


@keras.saving.register_keras_serializable(package="rnnzoo")
class SequencePooling(keras.layers.Layer):
    """Max or mean over the real steps of a masked sequence, or its last
    real step (`"last"`; right padding): `(batch, time, features)` ->
    `(batch, features)`.

    Keras' `GlobalMaxPooling1D` ignores the mask, so padded steps (zeros, or
    a repeated last output) would take part in the max; here they never do.
    A sequence with no real step gives zeros.
    """

    def __init__(self, mode="max", **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"SequencePooling: `mode` must be one of {MODES}, got {mode!r}.")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        real = ops.cast(mask, "bool")[:, :, None]
        any_real = ops.any(real, axis=1)
        if self.mode == "last":
            lengths = ops.sum(ops.cast(real[:, :, 0], "int32"), axis=1)
            index = ops.maximum(lengths - 1, 0)[:, None, None]
            pooled = ops.take_along_axis(inputs, ops.broadcast_to(index, (ops.shape(inputs)[0], 1,
                                                                          ops.shape(inputs)[2])), axis=1)[:, 0]
        elif self.mode == "max":
            pooled = ops.max(ops.where(real, inputs, ops.full_like(inputs, -3.0e38)), axis=1)
        else:
            weights = ops.cast(real, inputs.dtype)
            pooled = ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        return ops.where(any_real, pooled, ops.zeros_like(pooled))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
