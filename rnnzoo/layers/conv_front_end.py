import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnzoo")
class ConvFrontEnd(keras.layers.Layer):
    """A stack of 1-D convolutions over time (`padding="same"`, stride 1,
    ReLU, batch normalization) in front of a recurrent encoder, e.g. over
    spectrogram frames. It keeps the time axis and the padding mask: padded
    steps are zeroed after each convolution and the mask passes through.

    Input `(batch, time, features)` -> `(batch, time, filters[-1])`.
    """

    def __init__(self, filters=(64, 64), kernel_size=5, **kwargs):
        super().__init__(**kwargs)
        self.filters = [int(f) for f in filters]
        self.kernel_size = int(kernel_size)
        self.supports_masking = True
        self.convolutions = [keras.layers.Conv1D(f, self.kernel_size, padding="same", name=f"conv_{i}")
                             for i, f in enumerate(self.filters)]
        self.norms = [keras.layers.BatchNormalization(name=f"norm_{i}") for i in range(len(self.filters))]
        for convolution in self.convolutions:
            convolution.supports_masking = True  # `call` zeroes the padded steps after each one

    def build(self, input_shape):
        shape = tuple(input_shape)
        for convolution, norm in zip(self.convolutions, self.norms):
            convolution.build(shape)
            shape = convolution.compute_output_shape(shape)
            norm.build(shape)

    def call(self, inputs, mask=None, training=None):
        outputs = inputs
        keep = None if mask is None else ops.cast(mask, inputs.dtype)[..., None]
        for convolution, norm in zip(self.convolutions, self.norms):
            outputs = ops.relu(norm(convolution(outputs), training=training, mask=mask))
            if keep is not None:
                outputs = outputs * keep
        return outputs

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters[-1])

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}
