import keras
from keras import ops

from rnnzoo.data import PAD_ID


@keras.saving.register_keras_serializable(package="rnnzoo")
class ScheduledSampling(keras.layers.Layer):
    """Scheduled sampling (Bengio et al. 2015) for a teacher-forced decoder,
    in its parallel form (Duckworth et al. 2019; Mihaylova and Martins 2019):
    a first decoder pass reads the true previous tokens; this layer replaces
    each decoder input token, with probability `probability`, by the first
    pass's prediction for that position (the arg max of the previous step's
    logits); a second pass over the mixed tokens gives the trained logits.
    The first token (the start id) and padding are never replaced.

    Inputs `[decoder_tokens (batch, time), logits (batch, time, vocab)]`;
    output: the mixed tokens while training, `decoder_tokens` otherwise.
    `probability` is a non-trainable weight (0 at first) that a schedule
    sets between epochs (`rnnzoo.training.ScheduledSamplingSchedule`).
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.supports_masking = True  # the logits' mask is dropped; the embedding masks the mixed tokens again
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.probability = self.add_weight(shape=(), initializer="zeros", trainable=False, name="probability")

    def call(self, inputs, training=None):
        tokens, logits = inputs
        if not training:
            return tokens
        vocab = ops.shape(logits)[-1]
        logits = ops.where(ops.arange(vocab) == PAD_ID, ops.cast(-1e9, logits.dtype), logits)
        predicted = ops.cast(ops.argmax(logits[:, :-1], axis=-1), tokens.dtype)
        shifted = ops.concatenate([tokens[:, :1], predicted], axis=1)  # the prediction for position t feeds t
        draw = keras.random.uniform(ops.shape(tokens), seed=self.seed_generator) < self.probability
        first = ops.arange(ops.shape(tokens)[1]) == 0
        replace = ops.logical_and(ops.logical_and(draw, ops.not_equal(tokens, PAD_ID)), ops.logical_not(first))
        return ops.where(replace, shifted, tokens)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def compute_output_spec(self, inputs, training=None):
        return keras.KerasTensor(inputs[0].shape, dtype=inputs[0].dtype)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
