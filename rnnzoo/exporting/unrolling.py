"""A copy of a model with every recurrent loop unrolled, for full-integer
TFLite: TF 2.21's calibrator crashes (segmentation fault) on the WHILE loop
of a recurrent layer (tensorflow/tensorflow#41305), and an unrolled copy has
no loop. Unrolling needs every time dimension fixed."""

import keras


def _has_unroll(config):
    if isinstance(config, dict):
        return "unroll" in config or any(_has_unroll(v) for v in config.values())
    return isinstance(config, list) and any(_has_unroll(v) for v in config)


def _unroll_config(config):
    """Set every `unroll` option in a (nested) layer config to True."""
    if isinstance(config, dict):
        for key, value in config.items():
            if key == "unroll":
                config[key] = True
            else:
                _unroll_config(value)
    elif isinstance(config, list):
        for value in config:
            _unroll_config(value)
    return config


def _config(layer):
    """The layer's config, or None for one without (like the cell steps of
    a streaming model, which run no loop)."""
    try:
        return layer.get_config()
    except NotImplementedError:
        return None


def _unrolled_layer(layer):
    """A new layer when it (or a layer inside) can unroll; else the layer
    itself, shared with the copy."""
    config = _config(layer)
    return layer.__class__.from_config(_unroll_config(config)) if _has_unroll(config) else layer


def needs_unrolling(model):
    """Whether a layer of `model` has an `unroll` option (a recurrent loop)."""
    return any(_has_unroll(_config(layer)) for layer in model.layers)


def unrolled_copy(model, specs):
    """A functional copy of `model` on inputs of the fixed shapes `specs`
    (`tf.TensorSpec`s named like its inputs), with the same weights and
    every recurrent layer unrolled (outputs equal the model's)."""
    loose = [spec.name for spec in specs if None in spec.shape]
    if loose:
        raise ValueError(f"unrolling needs fixed input shapes; {loose} still have a dynamic dimension "
                         "(pass sequence_length, target_length or word_length).")
    inputs = {spec.name: keras.Input(batch_shape=tuple(spec.shape), dtype=spec.dtype.name, name=spec.name)
              for spec in specs}
    if not isinstance(model.input, dict):
        (inputs,) = inputs.values()
    copy = keras.models.clone_model(model, input_tensors=inputs, clone_function=_unrolled_layer)
    copy.set_weights(model.get_weights())
    return copy
