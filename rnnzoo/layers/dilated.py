"""`DilatedRNN`: a recurrent layer that steps `dilation` steps at a time
(Chang et al. 2017, "Dilated Recurrent Neural Networks"; ES-RNN stacks them
with dilations such as (1, 2) and (4, 8) to reach a season back in a few
steps).

The sequence is split into `dilation` interleaved sub-sequences (steps
r, r + d, r + 2d, ...), the wrapped layer reads each one as its own
sequence (all at once, as a batch of `batch * dilation` rows), and the
outputs are put back in time order: the output at step t has seen steps
t, t - d, t - 2d, ... A sequence whose length is not a multiple of the
dilation is padded on the left with masked steps, which change nothing.
Any registered cell works; the wrapped layer must return sequences.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnzoo")
class DilatedRNN(keras.layers.Layer):
    """`(batch, steps, features)` -> `(batch, steps, units)`: `layer` read
    over every `dilation`-th step (see the module)."""

    def __init__(self, layer, dilation=1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dilation, int) or dilation < 1:
            raise ValueError(f"`dilation` must be an integer >= 1, got {dilation!r}.")
        if not getattr(layer, "return_sequences", False):
            raise ValueError("a dilated layer must return sequences (return_sequences=True).")
        self.layer, self.dilation = layer, dilation

    def build(self, input_shape):
        self.layer.build((None, None, input_shape[-1]))

    def call(self, inputs, training=None):
        dilation = self.dilation
        if dilation == 1:
            return self.layer(inputs, training=training)
        steps = inputs.shape[1]
        if steps is None:
            raise ValueError("a dilated layer needs a fixed number of steps (the window's lookback).")
        pad = -steps % dilation
        rows = (steps + pad) // dilation
        features = inputs.shape[-1]
        batch = ops.shape(inputs)[0]
        x = ops.pad(inputs, [[0, 0], [pad, 0], [0, 0]]) if pad else inputs
        # (batch, rows * d, f) -> (batch, rows, d, f) -> (batch, d, rows, f): sub-sequence r holds steps r, r + d, ...
        x = ops.reshape(ops.transpose(ops.reshape(x, (batch, rows, dilation, features)), (0, 2, 1, 3)),
                        (-1, rows, features))
        mask = None
        if pad:  # the padded steps open some sub-sequences: masked, they leave the initial state as it is
            real = ops.arange(rows * dilation) >= pad
            mask = ops.reshape(ops.transpose(ops.reshape(real, (rows, dilation)), (1, 0)), (1, dilation, rows))
            mask = ops.reshape(ops.broadcast_to(mask, (batch, dilation, rows)), (-1, rows))
        outputs = self.layer(x, mask=mask, training=training)
        units = outputs.shape[-1]
        outputs = ops.reshape(ops.transpose(ops.reshape(outputs, (batch, dilation, rows, units)), (0, 2, 1, 3)),
                              (batch, rows * dilation, units))
        return outputs[:, pad:] if pad else outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": keras.saving.serialize_keras_object(self.layer),
                "dilation": self.dilation}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)
