"""`bidirectional`: the wrapper is built right while Keras loads a model,
even when a freed layer's address comes back (which made loading a
character-tagger fail at random in CI)."""

import keras
from keras.src.backend.common import global_state
from keras.src.saving import serialization_lib

from rnnzoo import build_model
from rnnzoo.layers.bidirectional import bidirectional


class _EveryIdSeen(dict):
    """An object-sharing map that has "seen" every address: what Keras' map
    looks like to a new object allocated where a serialized one was freed."""

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return {}


def _reused_addresses():
    scope = serialization_lib.ObjectSharingScope()
    scope.__enter__()
    global_state.set_global_attribute("shared_objects/id_to_config_map", _EveryIdSeen())
    return scope


def test_directions_are_two_layers_even_when_addresses_are_reused():
    scope = _reused_addresses()
    try:
        maps = [global_state.get_global_attribute(f"shared_objects/{name}") for name in ("id_to_obj_map", "id_to_config_map")]
        wrapper = bidirectional(keras.layers.LSTM(3, name="inner"), name="both")
        assert wrapper.forward_layer is not wrapper.backward_layer
        assert (wrapper.forward_layer.go_backwards, wrapper.backward_layer.go_backwards) == (False, True)
        assert wrapper.name == "both"
        # The loading scope is handed back as it was.
        assert [global_state.get_global_attribute(f"shared_objects/{name}")
                for name in ("id_to_obj_map", "id_to_config_map")] == maps
        assert global_state.get_global_attribute("shared_objects/id_to_config_map") is maps[1]
    finally:
        scope.__exit__(None, None, None)


def test_a_bidirectional_tagger_with_characters_rebuilds_inside_the_loading_scope():
    model = build_model("many_to_many", cell="gru", vocab_size=20, units=4, num_classes=3, bidirectional=True,
                        char_vocab_size=12)
    scope = _reused_addresses()
    try:
        copy = model.__class__.from_config(model.get_config())
    finally:
        scope.__exit__(None, None, None)
    assert len(copy.weights) == len(model.weights)
