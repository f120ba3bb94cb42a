"""`bidirectional(layer)`: `keras.layers.Bidirectional` that builds right
while a model is being loaded.

`Bidirectional.__init__` makes its two directions by serializing `layer`
twice and deserializing each copy. Inside `keras.saving.load_model`, Keras'
object-sharing scope tags every serialized object with `id(obj)` and hands
back an object already seen under the same id. rnnzoo's models build their
layers in `__init__` (from the saved config), so the temporary `layer` of
one wrapper can be freed and a later one allocated at the same address: the
second wrapper is then given a stale or its own forward layer as the
backward one, and loading fails ("Forward layer and backward layer should
have different `go_backwards` value") or, worse, shares a layer. It struck at
random (it depends on memory reuse), so every wrapper rnnzoo builds is made
with the sharing scope set aside; the scope is put back untouched.
"""

import contextlib

import keras

_SHARING_MAPS = ("shared_objects/id_to_obj_map", "shared_objects/id_to_config_map")


@contextlib.contextmanager
def _outside_object_sharing():
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # a Keras without the private module: nothing to set aside
        yield
        return
    saved = {key: global_state.get_global_attribute(key) for key in _SHARING_MAPS}
    for key in _SHARING_MAPS:
        global_state.set_global_attribute(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            global_state.set_global_attribute(key, value)


def bidirectional(layer, **kwargs):
    """`keras.layers.Bidirectional(layer, **kwargs)`, safe to call while a
    model is loading (see the module docstring)."""
    with _outside_object_sharing():
        return keras.layers.Bidirectional(layer, **kwargs)
