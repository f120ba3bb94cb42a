import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnzoo")
class PaddingMask(keras.layers.Layer):
    """Turns the Keras mask carried by a sequence into a boolean tensor.

    Decoders attend over an encoder's outputs; the inference models pass the
    source padding mask between models explicitly, so it must be a tensor.
    Input `(batch, time, ...)` -> output `(batch, time)` bool, all True when
    the input carries no mask.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.ones(ops.shape(inputs)[:2], dtype="bool")
        return ops.cast(mask, "bool")

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:2])

    def compute_output_spec(self, inputs, mask=None):
        return keras.KerasTensor(inputs.shape[:2], dtype="bool")
