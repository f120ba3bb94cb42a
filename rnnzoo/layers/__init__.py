"""Custom Keras layers used by the topologies (all registered serializables)."""

from rnnzoo.layers.padding_mask import PaddingMask

__all__ = ["PaddingMask"]
