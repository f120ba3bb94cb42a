"""Magnitude pruning of recurrent layers while fine-tuning (Zhu and Gupta 2017,
"To prune, or not to prune"), as a Keras callback: TensorFlow's
model-optimization toolkit does not support Keras 3.

Every `frequency` steps from `begin_step` to `end_step`, the smallest-magnitude
entries of each pruned kernel are set to zero, the sparsity rising along
Zhu and Gupta's cubic schedule

    s_t = s_f + (s_i - s_f) * (1 - (t - begin_step) / (end_step - begin_step)) ** 3

to `target_sparsity` (s_f), from `initial_sparsity` (s_i). Between updates,
and until training ends, pruned entries stay zero (the mask is applied after
every batch), so the optimizer cannot grow them back. Pruned kernels are the
input (`kernel`) and recurrent (`recurrent_kernel`) matrices of every
recurrent layer (Keras' RNN layers, inside `Bidirectional` too, and the
zoo's cells), each pruned on its own (layer-wise magnitude threshold).

```python
model.fit(data, epochs=3, callbacks=[MagnitudePruning(0.8, end_step=steps)])
sparsity(model)  # {weight path: fraction of zeros}
```

Zeros do not shrink a TFLite file by themselves; they make it compress
(`rnnzoo.utils.files.gzipped_size`), and int8 quantization keeps them.
"""

import keras
import numpy as np

PRUNED_WEIGHTS = ("kernel", "recurrent_kernel")


def prunable_weights(model):
    """The input and recurrent kernels of every recurrent layer in `model`."""
    found, seen = [], set()
    for layer in model._flatten_layers(include_self=False):
        if not isinstance(layer, keras.layers.RNN):
            continue
        for weight in layer.trainable_weights:
            name = weight.path.rsplit("/", 1)[-1]
            if name in PRUNED_WEIGHTS and len(weight.shape) == 2 and id(weight) not in seen:
                seen.add(id(weight))
                found.append(weight)
    return found


def polynomial_sparsity(step, target_sparsity, begin_step, end_step, initial_sparsity=0.0):
    """Zhu and Gupta's cubic schedule: the sparsity at training `step`."""
    if step < begin_step:
        return 0.0
    progress = min(1.0, (step - begin_step) / max(end_step - begin_step, 1))
    return target_sparsity + (initial_sparsity - target_sparsity) * (1.0 - progress) ** 3


def magnitude_mask(values, sparsity):
    """1 where `values` are kept, 0 for the `sparsity` fraction of smallest
    magnitudes (ties at the threshold are pruned too)."""
    count = int(round(sparsity * values.size))
    if count == 0:
        return np.ones_like(values)
    threshold = np.partition(np.abs(values).ravel(), count - 1)[count - 1]
    return (np.abs(values) > threshold).astype(values.dtype)


def sparsity(model):
    """{weight path: fraction of exact zeros} of the pruned weights."""
    return {w.path: float(np.mean(keras.ops.convert_to_numpy(w) == 0.0)) for w in prunable_weights(model)}


class MagnitudePruning(keras.callbacks.Callback):
    """Prune recurrent kernels to `target_sparsity` by `end_step` (see the
    module docstring).

    Args:
        target_sparsity: the final fraction of zeros in each kernel, in [0, 1).
        end_step: the training step (batches, counted over all epochs of
            this callback's fits) by which the target is reached.
        begin_step: the step of the first pruning update.
        frequency: steps between updates.
        initial_sparsity: the schedule's sparsity at `begin_step`.
    """

    def __init__(self, target_sparsity, end_step, begin_step=0, frequency=10, initial_sparsity=0.0):
        super().__init__()
        for name, value in (("target_sparsity", target_sparsity), ("initial_sparsity", initial_sparsity)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"MagnitudePruning: `{name}` must be in [0, 1), got {value!r}.")
        if int(frequency) != frequency or frequency < 1:
            raise ValueError(f"MagnitudePruning: `frequency` must be a positive integer, got {frequency!r}.")
        if not 0 <= begin_step <= end_step:
            raise ValueError(f"MagnitudePruning: need 0 <= begin_step <= end_step, got {begin_step} and {end_step}.")
        self.target_sparsity, self.initial_sparsity = float(target_sparsity), float(initial_sparsity)
        self.begin_step, self.end_step, self.frequency = int(begin_step), int(end_step), int(frequency)
        self.step = 0
        self.masks = {}

    def on_train_begin(self, logs=None):
        self.weights_to_prune = prunable_weights(self.model)
        if not self.weights_to_prune:
            raise ValueError("MagnitudePruning: the model has no recurrent layer with kernels to prune.")

    def _update_masks(self):
        target = polynomial_sparsity(self.step, self.target_sparsity, self.begin_step, self.end_step,
                                     self.initial_sparsity)
        for weight in self.weights_to_prune:  # on the host, every `frequency` steps
            mask = magnitude_mask(keras.ops.convert_to_numpy(weight), target)
            self.masks[weight.path] = keras.ops.convert_to_tensor(mask, dtype=weight.dtype)

    def _apply_masks(self):
        # After every batch: on the device, no copy of the weights to the host.
        for weight in self.weights_to_prune:
            mask = self.masks.get(weight.path)
            if mask is not None:
                weight.assign(weight * mask)

    def on_train_batch_begin(self, batch, logs=None):
        in_schedule = self.begin_step <= self.step <= self.end_step
        if in_schedule and ((self.step - self.begin_step) % self.frequency == 0 or self.step == self.end_step):
            self._update_masks()
            self._apply_masks()

    def on_train_batch_end(self, batch, logs=None):
        self._apply_masks()
        self.step += 1

