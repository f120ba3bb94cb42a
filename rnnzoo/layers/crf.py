"""A linear-chain conditional random field written with `keras.ops`, so it
trains and decodes on every backend.

The layer holds the transition scores and passes its input (the per-step
emission scores) through unchanged; the model that owns it computes the
loss with `negative_log_likelihood` (forward algorithm) and decodes with
`viterbi_decode`. `marginals` gives each step's tag probabilities
(forward-backward). Masks are `(batch, time)` booleans, padding on the right.

With `constraints="bio"` the transitions that BIO tagging forbids
(`O -> I-X`, `B-X -> I-Y`, starting with `I-X`, and any move to or from the
padding tag) get a large negative score when decoding (Viterbi and
marginals), so Viterbi never emits an invalid sequence. Training scores
stay unconstrained (as in AllenNLP), so a gold sequence that breaks BIO
(real corpora have a few) costs an ordinary loss, not a huge one.
"""

import keras
import numpy as np
from keras import ops

CONSTRAINTS = (None, "bio")
FORBIDDEN = -1e4  # added to a forbidden transition's score


def _split_bio(tag, where):
    if tag == "O":
        return "O", None
    prefix, sep, kind = tag.partition("-")
    if not sep or prefix not in ("B", "I") or not kind:
        raise ValueError(f"{where}: tag {tag!r} is not a BIO tag (expected 'O', 'B-TYPE' or 'I-TYPE').")
    return prefix, kind


def bio_allowed(tag_names, padding_tags=("<pad>",)):
    """Boolean `(start (K,), transitions (K, K), end (K,))`: which moves a
    BIO sequence may make between the named tags."""
    size = len(tag_names)
    start, end = np.ones(size, bool), np.ones(size, bool)
    allowed = np.ones((size, size), bool)
    parsed = [None if t in padding_tags else _split_bio(t, f"tag_names[{i}]") for i, t in enumerate(tag_names)]
    for j, tag in enumerate(parsed):
        if tag is None:
            start[j] = end[j] = False
            allowed[:, j] = allowed[j, :] = False
            continue
        if tag[0] == "I":
            start[j] = False
            for i, previous in enumerate(parsed):
                allowed[i, j] = previous is not None and previous[0] in ("B", "I") and previous[1] == tag[1]
    return start, allowed, end


@keras.saving.register_keras_serializable(package="rnnzoo")
class CRF(keras.layers.Layer):
    """`CRF(num_tags, tag_names=None, constraints=None)`.

    Input and output: emission scores `(batch, time, num_tags)`.
    """

    def __init__(self, num_tags, tag_names=None, constraints=None, **kwargs):
        super().__init__(**kwargs)
        if constraints not in CONSTRAINTS:
            raise ValueError(f"`constraints` must be None or 'bio', got {constraints!r}.")
        if tag_names is not None and len(tag_names) != num_tags:
            raise ValueError(f"`tag_names` has {len(tag_names)} names for num_tags={num_tags}.")
        if constraints == "bio" and tag_names is None:
            raise ValueError("constraints='bio' needs `tag_names` to know which tags are B-, I- and O.")
        self.num_tags = int(num_tags)
        self.tag_names = None if tag_names is None else list(tag_names)
        self.constraints = constraints
        self.supports_masking = True
        if constraints == "bio":
            start, allowed, end = bio_allowed(self.tag_names)
        else:
            start, allowed, end = (np.ones(self.num_tags, bool), np.ones((self.num_tags,) * 2, bool),
                                   np.ones(self.num_tags, bool))
        self._penalties = [np.where(a, 0.0, FORBIDDEN).astype("float32") for a in (start, allowed, end)]

    def build(self, input_shape):
        if input_shape[-1] != self.num_tags:
            raise ValueError(f"CRF got {input_shape[-1]} scores per step for num_tags={self.num_tags}.")
        k = self.num_tags
        self.transitions = self.add_weight(shape=(k, k), initializer="glorot_uniform", name="transitions")
        self.start_transitions = self.add_weight(shape=(k,), initializer="zeros", name="start_transitions")
        self.end_transitions = self.add_weight(shape=(k,), initializer="zeros", name="end_transitions")

    def call(self, inputs, mask=None):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags, "tag_names": self.tag_names,
                "constraints": self.constraints}

    # --- Scores ---------------------------------------------------------------

    def _scores(self, constrained=True):
        scores = [ops.cast(w, "float32") for w in (self.start_transitions, self.transitions, self.end_transitions)]
        if not constrained:
            return scores
        return [score + ops.convert_to_tensor(penalty) for score, penalty in zip(scores, self._penalties)]

    @staticmethod
    def _time_major(emissions, mask):
        """One `(time + 1, batch, K + 1)` tensor of emissions and mask, with
        one padded step appended. The scans run over `steps[1:]`: a single
        tensor (Keras' TensorFlow scan fails on several inputs whose length
        is only known at run time) that is never empty (its TensorArray
        cannot stack zero steps), even for sequences of length 1."""
        steps = ops.concatenate([emissions, ops.cast(mask, "float32")[:, :, None]], axis=-1)
        steps = ops.concatenate([steps, ops.zeros_like(steps[:, :1])], axis=1)
        return ops.transpose(steps, (1, 0, 2))

    @staticmethod
    def _unpack(step):
        return step[:, :-1], step[:, -1] > 0.5

    @staticmethod
    def _prepare(emissions, mask):
        emissions = ops.cast(emissions, "float32")
        if mask is None:
            mask = ops.ones(ops.shape(emissions)[:2], dtype="bool")
        return emissions, ops.cast(mask, "bool")

    def _forward(self, emissions, mask, constrained):
        """Log forward scores: alphas `(time, batch, K)`."""
        start, transitions, _ = self._scores(constrained)
        steps = self._time_major(emissions, mask)

        def step(alpha, inputs):
            emission, step_mask = self._unpack(inputs)
            new = ops.logsumexp(alpha[:, :, None] + transitions[None], axis=1) + emission
            alpha = ops.where(step_mask[:, None], new, alpha)
            return alpha, alpha

        alpha0 = start[None] + emissions[:, 0]
        _, alphas = ops.scan(step, alpha0, steps[1:])
        return ops.concatenate([alpha0[None], alphas[:-1]], axis=0)

    def log_partition(self, emissions, mask=None, constrained=False):
        emissions, mask = self._prepare(emissions, mask)
        _, _, end = self._scores(constrained)
        last_alpha = self._forward(emissions, mask, constrained)[-1]  # padded steps carry the last real alpha
        return ops.logsumexp(last_alpha + end[None], axis=-1)

    def sequence_score(self, emissions, tags, mask=None, constrained=False):
        """Score of the given tag sequences `(batch, time)` (ints)."""
        emissions, mask = self._prepare(emissions, mask)
        start, transitions, end = self._scores(constrained)
        tags = ops.cast(tags, "int32")
        weights = ops.cast(mask, "float32")
        emitted = ops.take_along_axis(emissions, tags[:, :, None], axis=-1)[:, :, 0]
        score = ops.sum(emitted * weights, axis=1) + ops.take(start, tags[:, 0])
        pairs = tags[:, :-1] * self.num_tags + tags[:, 1:]
        moved = ops.take(ops.reshape(transitions, (-1,)), pairs)
        score += ops.sum(moved * weights[:, 1:], axis=1)
        lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
        last = ops.take_along_axis(tags, ops.maximum(lengths - 1, 0)[:, None], axis=1)[:, 0]
        return score + ops.take(end, last)

    def negative_log_likelihood(self, emissions, tags, mask=None):
        """Per-sequence `log Z - score(tags)`, 0 for empty sequences."""
        emissions, mask = self._prepare(emissions, mask)
        nll = self.log_partition(emissions, mask) - self.sequence_score(emissions, tags, mask)
        return ops.where(ops.any(mask, axis=1), nll, ops.zeros_like(nll))

    def viterbi_decode(self, emissions, mask=None):
        """Best tag sequences `(batch, time)` int32, 0 at padded steps."""
        emissions, mask = self._prepare(emissions, mask)
        start, transitions, end = self._scores()
        steps = self._time_major(emissions, mask)
        stay = ops.arange(self.num_tags, dtype="int32")

        # TensorFlow's scan needs the outputs shaped like the carry: carry the pointers too.
        def step(carry, inputs):
            score, _ = carry
            emission, step_mask = self._unpack(inputs)
            candidates = score[:, :, None] + transitions[None]
            best_previous = ops.cast(ops.argmax(candidates, axis=1), "int32")
            new = ops.max(candidates, axis=1) + emission
            score = ops.where(step_mask[:, None], new, score)
            # A padded step points each tag at itself, so backtracking passes through it.
            pointers = ops.where(step_mask[:, None], best_previous, stay[None])
            return (score, pointers), (score, pointers)

        first = start[None] + emissions[:, 0]
        initial = (first, ops.zeros_like(ops.cast(first, "int32")) + stay[None])
        (score, _), (_, pointers) = ops.scan(step, initial, steps[1:])
        last = ops.cast(ops.argmax(score + end[None], axis=-1), "int32")

        def back(tag, step_pointers):
            previous = ops.take_along_axis(step_pointers, tag[:, None], axis=1)[:, 0]
            return previous, previous

        _, earlier = ops.scan(back, last, pointers, reverse=True)
        path = earlier  # position t for t < time; `last` sits on the appended step
        return ops.transpose(path, (1, 0)) * ops.cast(mask, "int32")

    def marginals(self, emissions, mask=None):
        """Per-step tag probabilities `(batch, time, K)` (forward-backward)."""
        emissions, mask = self._prepare(emissions, mask)
        _, transitions, end = self._scores()
        alphas = self._forward(emissions, mask, constrained=True)
        steps = self._time_major(emissions, mask)
        end_beta = ops.broadcast_to(end[None], ops.shape(emissions[:, 0]))

        def step(beta, inputs):
            next_emission, next_mask = self._unpack(inputs)
            new = ops.logsumexp(transitions[None] + (next_emission + beta)[:, None, :], axis=2)
            beta = ops.where(next_mask[:, None], new, end_beta)
            return beta, beta

        _, betas = ops.scan(step, end_beta, steps[1:], reverse=True)
        probabilities = ops.softmax(alphas + betas, axis=-1)
        return ops.transpose(probabilities, (1, 0, 2)) * ops.cast(mask, "float32")[:, :, None]
