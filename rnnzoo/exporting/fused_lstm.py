"""Keras LSTMs as TFLite's fused `UNIDIRECTIONAL_SEQUENCE_LSTM` kernel.

Keras 3's LSTM converts to a `WHILE` loop. TensorFlow's converter still
fuses a function that carries Keras 2's marking (TensorFlow's "TensorFlow RNN
conversion to TensorFlow Lite" guide; `ConvertKerasLSTMLayer` in its MLIR
passes): a `tf.function` with the attribute `api_implements="lstm_<id>"`,
the arguments `(inputs, init_h, init_c, kernel, recurrent_kernel, bias)`
and five results `(last_output, outputs, h, c, runtime)`, of which only the
first two may be used. The converter replaces its body by the fused op, so
the body only has to compute the same thing for TensorFlow itself.

Within `fused_lstms()`, every Keras `LSTM` that the fused kernel computes
exactly runs as such a function. The kernel has no mask input; right-padded
masks are handled around it, so padded steps change no real output:
- forward: real outputs come first and never see the padding after them;
  the last real output is gathered at `length - 1`, and padded positions get
  what Keras gives them (zeros or the last real output);
- `go_backwards` (the backward half of a `Bidirectional`): each sequence's
  real steps are reversed in place, run forward, and laid out as Keras lays
  them (the padding first, with zero outputs). Both moves are `GATHER`s
  (TFLite's `REVERSE_SEQUENCE` has no int8 kernel).
Masks must be right-padded, as for Keras' cuDNN path; the exporter's parity
check compares every output with Keras'.

The fused op keeps its states in TFLite variable tensors, which outlive an
invocation: the next call starts from the last call's final states unless the
interpreter resets them (`interpreter.reset_all_variables()`, Java
`resetVariableTensors()`); `tflite.signature_runner` does after every call.

Quantized: "dynamic" (int8 weights) and "float16" keep the fused kernel and
the model's accuracy. Full-integer "int8" calibrates, but TF 2.21's integer
LSTM kernel is unreliable: an EWT tagger kept its accuracy through it (-0.1
points; -5.6 unrolled) while an SST-2 classifier lost it (0.81 -> 0.50; no
loss unrolled). So `export(quantize="int8")` calibrates both forms where it
can and keeps the one closer to the Keras model.

Not fused (the loop stays): LSTMs that return their states or get initial
states (the converter refuses to expose the cell state), stateful or
unrolled ones, and those with other activations or without a bias.
"""

import contextlib
import uuid

import keras
import tensorflow as tf

FUSED_OP = "UNIDIRECTIONAL_SEQUENCE_LSTM"


def why_not_fused(layer, initial_state=None):
    """Why `layer` (a Keras `LSTM`) cannot take the fused kernel, or None."""
    cell = layer.cell
    reasons = {
        "it returns its states": layer.return_state,
        "it is given initial states": initial_state is not None,
        "it is stateful": layer.stateful,
        "it is unrolled": layer.unroll,
        "it has no bias": not cell.use_bias,
        "its activations are not tanh/sigmoid": (cell.activation is not keras.activations.tanh
                                                 or cell.recurrent_activation is not keras.activations.sigmoid),
    }
    return next((reason for reason, applies in reasons.items() if applies), None)


def _lstm_body(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
    """Keras' LSTM (gates i, f, c, o) over whole sequences, no mask: what
    TensorFlow runs; the converter swaps it for the fused kernel."""
    def step(carry, x):
        h, c = carry
        z = tf.matmul(x, kernel) + tf.matmul(h, recurrent_kernel) + bias
        i, f, g, o = tf.split(z, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    hs, cs = tf.scan(step, tf.transpose(inputs, [1, 0, 2]), initializer=(init_h, init_c))
    outputs = tf.transpose(hs, [1, 0, 2])
    return outputs[:, -1], outputs, hs[-1], cs[-1], tf.constant(1.0)  # runtime: 1.0 = the generic kernel


def _annotated_lstm():
    # One function per layer call, named as Keras 2 named its own (the id
    # keeps two LSTMs with different shapes from sharing one signature).
    return tf.function(_lstm_body, autograph=False, experimental_attributes={
        "api_implements": f"lstm_{uuid.uuid4()}", "api_preferred_device": "CPU",
        "time_major": False, "go_backwards": False})


def fused_call(layer, sequences, mask=None):
    """`layer(sequences, mask=mask)` (inference) through the annotated function."""
    cell = layer.cell
    weights = [tf.convert_to_tensor(w) for w in (cell.kernel, cell.recurrent_kernel, cell.bias)]
    batch = tf.shape(sequences)[0]
    zeros = tf.zeros(tf.stack([batch, cell.units]), sequences.dtype)
    if mask is None:
        if layer.go_backwards:
            sequences = tf.reverse(sequences, [1])
        last, outputs, _, _, _ = _annotated_lstm()(sequences, zeros, zeros, *weights)
        return outputs if layer.return_sequences else last
    steps = tf.shape(sequences)[1]
    lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    positions = tf.range(steps)[None, :]
    if layer.go_backwards:  # each sequence's real steps reversed in place (padding stays after them)
        reversed_positions = tf.math.floormod(lengths[:, None] - 1 - positions, steps)
        sequences = tf.gather(sequences, reversed_positions, axis=1, batch_dims=1)
    _, outputs, _, _, _ = _annotated_lstm()(sequences, zeros, zeros, *weights)
    # The output after the last real step (zeros for an empty sequence).
    has_steps = tf.cast(lengths > 0, outputs.dtype)[:, None]
    last = tf.gather(outputs, tf.maximum(lengths - 1, 0), axis=1, batch_dims=1) * has_steps
    if not layer.return_sequences:
        return last
    # Blends by 0/1 factors rather than `tf.where`, whose TFLite SELECT is
    # missing from TFLite Micro (exact for finite outputs).
    real = tf.cast(positions < lengths[:, None], outputs.dtype)[:, :, None]
    if layer.go_backwards:
        # Keras reads the padded sequence backwards: its padding comes first
        # (outputs zero, the state still initial), then the real steps.
        source = positions - (steps - lengths[:, None])
        return tf.gather(outputs, tf.maximum(source, 0), axis=1, batch_dims=1) * tf.cast(
            source >= 0, outputs.dtype)[:, :, None]
    if layer.zero_output_for_mask:
        return outputs * real
    return outputs * real + last[:, None] * (1.0 - real)


@contextlib.contextmanager
def fused_lstms():
    """Within it, every Keras `LSTM` that `why_not_fused` accepts runs, in
    inference, as the function TFLite's converter fuses (for tracing the
    SavedModel a TFLite model is converted from)."""
    original = keras.layers.LSTM.call

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if training or why_not_fused(self, initial_state) or keras.backend.backend() != "tensorflow":
            return original(self, sequences, initial_state=initial_state, mask=mask, training=training)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        return fused_call(self, sequences, mask)

    keras.layers.LSTM.call = call
    try:
        yield
    finally:
        keras.layers.LSTM.call = original
