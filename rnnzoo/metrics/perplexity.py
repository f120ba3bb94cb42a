import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="rnnzoo")
class Perplexity(keras.metrics.Metric):
    """exp(mean masked token cross-entropy), accumulated over batches.

    Labels equal to `ignore_class` (padding, 0 by default; None counts all)
    are left out of the mean. Use during `fit` on language models and
    decoders: `model.compile(metrics=[rnnzoo.metrics.Perplexity()])`.
    """

    def __init__(self, from_logits=True, ignore_class=0, name="perplexity", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.counted = self.add_variable(shape=(), initializer="zeros", name="counted")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):
            y_true = ops.squeeze(y_true, axis=-1)
        weights = ops.ones_like(y_true, dtype=self.dtype)
        if self.ignore_class is not None:
            weights = ops.cast(ops.not_equal(y_true, self.ignore_class), self.dtype)
            y_true = ops.where(ops.equal(y_true, self.ignore_class), 0, y_true)
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, self.dtype)
            while len(sample_weight.shape) < len(weights.shape):
                sample_weight = ops.expand_dims(sample_weight, -1)
            weights = weights * sample_weight
        cross_entropy = keras.losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=self.from_logits
        )
        self.total.assign_add(ops.sum(ops.cast(cross_entropy, self.dtype) * weights))
        self.counted.assign_add(ops.sum(weights))

    def result(self):
        return ops.exp(ops.divide_no_nan(self.total, self.counted))

    def reset_state(self):
        self.total.assign(0.0)
        self.counted.assign(0.0)

    def get_config(self):
        return {
            "name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
        }


def perplexity(y_true, y_pred, from_logits=True, ignore_class=0):
    """Perplexity of integer labels under scores over the last axis of
    `y_pred` (logits, or probabilities with `from_logits=False`)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred, dtype="float64")
    if from_logits:
        shifted = y_pred - y_pred.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        log_probs = np.log(np.clip(y_pred, 1e-12, 1.0))
    keep = np.ones(y_true.shape, bool) if ignore_class is None else y_true != ignore_class
    if not keep.any():
        raise ValueError("perplexity: every label is `ignore_class`; nothing to score.")
    picked = np.take_along_axis(log_probs, y_true[..., None].astype(int), axis=-1)[..., 0]
    return float(np.exp(-picked[keep].mean()))
