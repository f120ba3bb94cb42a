"""Output heads of a per-step model: what its logits mean. Each head owns
its loss, its decoding (logits -> label ids) and its probabilities, so a
topology builds the head its `output_layer` names and asks it, with no
branch per head:

- `SoftmaxHead`: independent per-step classes, cross-entropy that skips the
  padding label, arg max decoding that never predicts it.
- `CRFHead`: a linear-chain CRF (the model's `crf` layer): negative
  log-likelihood, Viterbi decoding, marginal probabilities.
- `CTCHead`: connectionist temporal classification over unaligned label
  sequences (blank 0): CTC loss, best-path or beam decoding.

Heads are plain objects rebuilt from the model's config, so `.keras` files
hold nothing new.
"""

import keras
import numpy as np
from keras import ops

from rnnzoo.data import PAD_ID
from rnnzoo.layers.crf import CRF
from rnnzoo.metrics import MaskedAccuracy


def default_loss(task, output_activation, ignore_class=None):
    """Mean squared error for regression; cross-entropy on logits (or on
    probabilities with an `output_activation`) that skips `ignore_class`."""
    if task == "regression":
        return keras.losses.MeanSquaredError()
    return keras.losses.SparseCategoricalCrossentropy(from_logits=output_activation is None,
                                                      ignore_class=ignore_class)


def default_metrics(task, ignore_class=None):
    if task == "regression":
        return [keras.metrics.MeanAbsoluteError(name="mae")]
    return [MaskedAccuracy(ignore_class=ignore_class, name="accuracy")]


def _replica_context():
    """The `tf.distribute` replica context when training on several replicas."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            return context
    return None


def token_mean(total, count):
    """`total / count` over the global batch. Under `tf.distribute` each
    replica holds a slice of the batch and gradients are summed over
    replicas, so each replica divides its sum by the token count of all
    replicas; the sum over replicas is then exactly the single-device mean."""
    context = _replica_context()
    if context is not None:
        count = context.all_reduce("sum", count)
    return total / ops.maximum(count, 1.0)


def replica_share(loss):
    """A loss every replica computes whole (e.g. weight penalties) counts once."""
    context = _replica_context()
    return loss if context is None else loss / context.num_replicas_in_sync


def _weighted(nll, sample_weight):
    if sample_weight is None:
        return nll
    return nll * ops.cast(ops.reshape(sample_weight, ops.shape(nll)), nll.dtype)


def ctc_decode_logits(logits, lengths, beam_width=None):
    """`(batch, time, classes)` CTC logits (blank 0) and the real lengths ->
    a list of label-id lists: best path when `beam_width` is None, else
    beam search (`keras.ops.ctc_decode`)."""
    strategy = "greedy" if beam_width is None else "beam_search"
    options = {} if beam_width is None else {"beam_width": int(beam_width)}
    decoded, _ = ops.ctc_decode(ops.convert_to_tensor(logits), ops.convert_to_tensor(lengths, "int32"),
                                strategy=strategy, mask_index=PAD_ID, **options)
    best = np.asarray(ops.convert_to_numpy(decoded))[0]
    return [[int(i) for i in row if i > 0] for row in best]  # -1 and the blank pad the rows


class SoftmaxHead:
    """Independent per-step classes: Keras' loss and metrics (compiled), arg
    max decoding over every label but `ignore_class`, softmax probabilities."""

    name = "softmax"

    def __init__(self, output_activation=None, ignore_class=PAD_ID):
        self.output_activation, self.ignore_class = output_activation, ignore_class

    @classmethod
    def from_options(cls, *, num_classes, output_activation=None, ignore_class=PAD_ID, tag_names=None,
                     crf_constraints=None):
        if crf_constraints is not None:
            raise ValueError("`crf_constraints` needs output_layer='crf'.")
        return cls(output_activation, ignore_class)

    def attach(self, logits):
        """The model's outputs from the per-step logits (this head adds no layer)."""
        return logits

    def default_loss(self):
        return default_loss("classification", self.output_activation, self.ignore_class)

    def default_metrics(self):
        return default_metrics("classification", self.ignore_class)

    def compute_loss(self, model, x, y, y_pred, sample_weight):
        return None  # the compiled loss (`default_loss`) applies

    def decode(self, logits, mask):
        if self.ignore_class is not None:  # padding is never a prediction
            logits = ops.where(ops.arange(ops.shape(logits)[-1]) == self.ignore_class, float("-inf"), logits)
        return ops.cast(ops.argmax(logits, axis=-1), "int32") * ops.cast(mask, "int32")

    def probabilities(self, logits, mask):
        probabilities = logits if self.output_activation else ops.softmax(logits, axis=-1)
        return probabilities * ops.cast(mask, probabilities.dtype)[..., None]


class CRFHead:
    """A linear-chain CRF over the logits (the `crf` layer holds the
    transitions): negative log-likelihood per token, Viterbi, marginals."""

    name = "crf"

    def __init__(self, crf=None):
        self.crf = crf

    @classmethod
    def from_options(cls, *, num_classes, output_activation=None, ignore_class=PAD_ID, tag_names=None,
                     crf_constraints=None):
        if output_activation is not None:
            raise ValueError("output_layer='crf' reads logits: leave `output_activation` as None.")
        if ignore_class != PAD_ID:
            raise ValueError(f"output_layer='crf' masks padding labels {PAD_ID}; `ignore_class` must be "
                             f"{PAD_ID}, got {ignore_class!r}.")
        head = cls()
        head.options = (num_classes, tag_names, crf_constraints)
        return head

    def attach(self, logits):
        """The `crf` layer (the transitions) over the logits."""
        self.crf = CRF(*self.options, name="crf")
        return self.crf(logits)

    def default_loss(self):
        return None  # `compute_loss` adds the negative log-likelihood

    def default_metrics(self):
        return default_metrics("classification", PAD_ID)

    def compute_loss(self, model, x, y, y_pred, sample_weight):
        mask = ops.not_equal(y, PAD_ID)
        nll = _weighted(self.crf.negative_log_likelihood(y_pred, y, mask), sample_weight)
        return token_mean(ops.sum(nll), ops.sum(ops.cast(mask, nll.dtype)))

    def decode(self, logits, mask):
        return self.crf.viterbi_decode(logits, mask)

    def probabilities(self, logits, mask):
        return self.crf.marginals(logits, mask)


class CTCHead:
    """Connectionist temporal classification (Graves et al. 2006): labels
    are shorter unaligned sequences right-padded with 0, class 0 is the
    blank; the loss is the mean negative log-likelihood per sequence."""

    name = "ctc"

    @classmethod
    def from_options(cls, *, num_classes, output_activation=None, ignore_class=PAD_ID, tag_names=None,
                     crf_constraints=None):
        if output_activation is not None or ignore_class != PAD_ID:
            raise ValueError("output_layer='ctc' reads logits with blank 0: leave `output_activation` None and "
                             f"`ignore_class` {PAD_ID}.")
        if crf_constraints is not None:
            raise ValueError("`crf_constraints` needs output_layer='crf'.")
        return cls()

    def attach(self, logits):
        return logits

    def default_loss(self):
        return None  # `compute_loss` adds the CTC loss

    def default_metrics(self):
        return []  # per-step accuracy means nothing against unaligned labels

    def compute_loss(self, model, x, y, y_pred, sample_weight):
        label_lengths = ops.sum(ops.cast(ops.not_equal(y, PAD_ID), "int32"), axis=-1)
        nll = ops.ctc_loss(ops.cast(y, "int32"), y_pred, label_lengths, model.input_lengths(x), mask_index=PAD_ID)
        nll = _weighted(nll, sample_weight)
        return token_mean(ops.sum(nll), ops.cast(ops.shape(nll)[0], nll.dtype))  # over the global batch

    def decode_sequences(self, logits, lengths, beam_width=None):
        return ctc_decode_logits(logits, lengths, beam_width)

    def decode(self, logits, mask):
        raise ValueError("a CTC model's outputs are not aligned with its inputs: use ctc_decode(x).")

    def probabilities(self, logits, mask):
        return ops.softmax(logits, axis=-1) * ops.cast(mask, logits.dtype)[..., None]


# Per-step output heads by name (`many_to_many(output_layer=NAME)`). A head is
# made by `from_options` (which checks the options it needs), adds its layers
# with `attach(logits)`, and then gives the model its loss, metrics, decoding
# and probabilities: no topology branches on a head's name.
HEADS = {"softmax": SoftmaxHead, "crf": CRFHead, "ctc": CTCHead}


def get_head(name, **options):
    """The head called `name`, checked against `options` (num_classes,
    output_activation, ignore_class, tag_names, crf_constraints)."""
    if name not in HEADS:
        raise ValueError(f"`output_layer` must be one of {', '.join(map(repr, HEADS))}, got {name!r}.")
    return HEADS[name].from_options(**options)
