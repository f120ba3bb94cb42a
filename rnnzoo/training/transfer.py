"""Fine-tuning a pretrained language model the ULMFiT way (Howard & Ruder
2018, "Universal Language Model Fine-tuning for Text Classification"):

- `SlantedTriangular`: the learning rate rises linearly for the first
  `cut_fraction` of the steps, then falls linearly to `1 / ratio` of the
  peak;
- `DiscriminativeAdam`: Adam with a learning rate per layer group, the top
  group's the given one, each group below it `decay` (2.6) times smaller;
  groups above the `unfrozen` ones learn nothing (a zero learning rate, so
  their weights stay exactly as they are);
- `GradualUnfreezing`: unfreezes one more group, from the top, at the start
  of each epoch (the head alone in the first).

`layer_groups(model)` gives the groups of rnnzoo's encoders: the embedding,
each recurrent layer in turn, and the rest (pooling and head) on top.
"""

import math

import keras
from keras import ops

ULMFIT_DECAY = 2.6


def slanted_triangular(step, *, peak, total_steps, cut_fraction=0.1, ratio=32.0):
    """ULMFiT's formula (their equation 3) in plain Python: the rate at
    0-based `step` of `total_steps`; after the last step it stays at
    `peak / ratio`."""
    cut = max(math.floor(total_steps * cut_fraction), 1)
    if step < cut:
        p = step / cut
    else:
        p = max(1.0 - (step - cut) / (cut * (1.0 / cut_fraction - 1.0)), 0.0)
    return peak * (1.0 + p * (ratio - 1.0)) / ratio


@keras.saving.register_keras_serializable(package="rnnzoo")
class SlantedTriangular(keras.optimizers.schedules.LearningRateSchedule):
    """`slanted_triangular` as a Keras schedule of the optimizer's step."""

    def __init__(self, peak, total_steps, cut_fraction=0.1, ratio=32.0):
        if not total_steps >= 1:
            raise ValueError(f"SlantedTriangular: `total_steps` must be >= 1, got {total_steps!r}.")
        if not 0 < cut_fraction < 1:
            raise ValueError(f"SlantedTriangular: `cut_fraction` must be in (0, 1), got {cut_fraction!r}.")
        if not ratio >= 1:
            raise ValueError(f"SlantedTriangular: `ratio` must be >= 1, got {ratio!r}.")
        self.peak, self.total_steps = float(peak), int(total_steps)
        self.cut_fraction, self.ratio = float(cut_fraction), float(ratio)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        cut = float(max(math.floor(self.total_steps * self.cut_fraction), 1))
        rising = step / cut
        falling = ops.maximum(1.0 - (step - cut) / (cut * (1.0 / self.cut_fraction - 1.0)), 0.0)
        p = ops.where(step < cut, rising, falling)
        return self.peak * (1.0 + p * (self.ratio - 1.0)) / self.ratio

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "cut_fraction": self.cut_fraction,
                "ratio": self.ratio}


def layer_groups(model):
    """ULMFiT's layer groups of an rnnzoo encoder model, bottom to top: the
    embedding, each `encoder_rnn_{i}`, then every other layer with weights
    (pooling, head)."""
    names = [layer.name for layer in model.layers if layer.weights]
    recurrent = sorted((n for n in names if n.startswith("encoder_rnn_")), key=lambda n: int(n.rsplit("_", 1)[1]))
    bottom = [[n] for n in ("embedding",) if n in names] + [[n] for n in recurrent]
    top = [n for n in names if [n] not in bottom]
    return bottom + ([top] if top else [])


def group_factors(groups, unfrozen, decay):
    """Each group's learning-rate multiplier: `decay ** -(levels below the
    top)` for the `unfrozen` top groups, 0 for the rest."""
    index = ops.arange(groups, dtype="float32")
    scale = ops.power(float(decay), index - float(groups - 1))
    return ops.where(index >= ops.cast(groups - unfrozen, "float32"), scale, ops.zeros_like(scale))


@keras.saving.register_keras_serializable(package="rnnzoo")
class DiscriminativeAdam(keras.optimizers.Adam):
    """Adam with discriminative learning rates over `layer_groups` (lists of
    layer names, bottom to top; variables of other layers belong to the top
    group) and an `unfrozen` count of top groups that learn (all of them by
    default; `GradualUnfreezing` raises it epoch by epoch). A variable is
    matched to its layer by the first part of its path."""

    def __init__(self, learning_rate=1e-3, layer_groups=((),), decay=ULMFIT_DECAY, unfrozen=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.layer_groups = [list(group) for group in layer_groups]
        if not self.layer_groups:
            raise ValueError("DiscriminativeAdam: give at least one layer group.")
        self.decay = float(decay)
        count = len(self.layer_groups)
        start = count if unfrozen is None else int(unfrozen)
        if not 1 <= start <= count:
            raise ValueError(f"DiscriminativeAdam: `unfrozen` must be 1..{count}, got {unfrozen!r}.")
        self._group_of = {name: i for i, group in enumerate(self.layer_groups) for name in group}
        with keras.name_scope(self.name, caller=self):
            self.unfrozen = self.add_variable(shape=(), dtype="int32", initializer=keras.initializers.Constant(start),
                                              name="unfrozen")

    def group_index(self, variable):
        return self._group_of.get(variable.path.split("/")[0], len(self.layer_groups) - 1)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        grouped = {}
        for grad, variable in zip(grads, trainable_variables):
            grouped.setdefault(self.group_index(variable), []).append((grad, variable))
        factors = group_factors(len(self.layer_groups), self.unfrozen, self.decay)
        for index, pairs in sorted(grouped.items()):
            super()._backend_update_step([g for g, _ in pairs], [v for _, v in pairs],
                                         ops.cast(learning_rate, "float32") * factors[index])

    def get_config(self):
        return {**super().get_config(), "layer_groups": self.layer_groups, "decay": self.decay}


class GradualUnfreezing(keras.callbacks.Callback):
    """At the start of epoch `e` (0-based), lets the top `e + 1` layer
    groups of a `DiscriminativeAdam` learn: the head alone first, then one
    group more each epoch, until all do."""

    def __init__(self, log=print):
        super().__init__()
        self.log = log

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        groups = optimizer.layer_groups
        count = min(epoch + 1, len(groups))
        optimizer.unfrozen.assign(count)
        if self.log and epoch < len(groups):
            learning = [name for group in groups[len(groups) - count:] for name in group]
            self.log(f"epoch {epoch + 1}: training {', '.join(learning)}"
                     + ("" if count < len(groups) else " (every layer)"))
