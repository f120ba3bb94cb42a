"""Serving signatures for any rnnzoo model: one named input per model input,
a dict of named outputs. Sequence lengths are dynamic for SavedModel and
fixed for TFLite (a fixed length keeps LSTM/GRU loops free of Flex ops)."""

import tensorflow as tf


def input_specs(model, batch_size=None, sequence_length=None, target_length=None, word_length=None):
    """`tf.TensorSpec`s named like the model's inputs. Unknown time dims take
    `sequence_length` (`target_length` for `decoder_tokens`); the steps of
    each segment of a nested input (the characters per word of `characters`,
    the words per sentence of a hierarchical model's `tokens`) take
    `word_length`."""
    specs = []
    for tensor in model.inputs:
        shape = list(tensor.shape)
        shape[0] = batch_size
        if len(shape) >= 2 and shape[1] is None:
            shape[1] = target_length or sequence_length if tensor.name == "decoder_tokens" else sequence_length
        if is_nested(tensor) and shape[2] is None:
            shape[2] = word_length
        specs.append(tf.TensorSpec(shape, tf.as_dtype(tensor.dtype), name=tensor.name))
    return specs


def is_nested(tensor):
    """A sequence of segments of steps: `(batch, segments, steps[, features])`
    (a tagger's `characters`, a hierarchical model's input). An image
    `(batch, height, width, channels)` is not one: its sizes are fixed, while
    a nested input's segments and steps are not."""
    shape = tuple(tensor.shape)
    return tensor.name == "characters" or (len(shape) == 4 and shape[1] is None and shape[2] is None) or (
        len(shape) == 3 and "int" in str(tensor.dtype))


def output_names(model):
    names = list(getattr(model, "output_names", None) or [])
    return names if len(names) == len(model.outputs) else [f"output_{i}" for i in range(len(model.outputs))]


def serving_function(model, specs, names=None):
    """A function of positional tensors (in `specs` order) returning
    {output name: tensor} (`names`, default the model's output names); the
    model runs in inference mode."""
    input_names = [spec.name for spec in specs]
    names = names or output_names(model)

    def serve(*tensors):
        inputs = dict(zip(input_names, tensors)) if len(tensors) > 1 else tensors[0]
        outputs = model(inputs, training=False)
        if isinstance(outputs, dict):
            return dict(outputs)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return dict(zip(names, outputs))

    return serve
