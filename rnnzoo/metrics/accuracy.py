import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnzoo")
class MaskedAccuracy(keras.metrics.Metric):
    """Token accuracy that skips padding labels, accumulated over batches.

    `correct / counted` over every label that is not `ignore_class` (the
    padding id, 0 by default). `y_pred` holds scores or logits over the last
    axis; `y_true` holds integer labels. Backend independent: it does not rely
    on Keras masks reaching the metric.
    """

    def __init__(self, ignore_class=0, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.ignore_class = ignore_class
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.counted = self.add_variable(shape=(), initializer="zeros", name="counted")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):  # labels with a trailing axis of 1
            y_true = ops.squeeze(y_true, axis=-1)
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        weights = ops.ones_like(y_true, dtype=self.dtype)
        if self.ignore_class is not None:
            weights = ops.cast(ops.not_equal(y_true, self.ignore_class), self.dtype)
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, self.dtype)
            while len(sample_weight.shape) < len(weights.shape):
                sample_weight = ops.expand_dims(sample_weight, -1)
            weights = weights * sample_weight
        matches = ops.cast(ops.equal(y_true, predicted), self.dtype)
        self.correct.assign_add(ops.sum(matches * weights))
        self.counted.assign_add(ops.sum(weights))

    def result(self):
        return ops.divide_no_nan(self.correct, self.counted)

    def reset_state(self):
        self.correct.assign(0.0)
        self.counted.assign(0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class}
