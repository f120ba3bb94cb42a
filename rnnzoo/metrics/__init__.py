"""Metrics: training-time Keras metrics and evaluation functions."""

from rnnzoo.metrics.accuracy import MaskedAccuracy

__all__ = ["MaskedAccuracy"]
