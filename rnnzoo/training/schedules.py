"""Schedules of the scheduled-sampling probability (Bengio et al. 2015),
set on a model's `ScheduledSampling` layer at the start of each epoch.

Bengio et al. decay the teacher-forcing probability `eps_i` with the epoch
`i`; the sampling probability is `maximum * (1 - eps_i)`:
- `linear`: `eps_i = max(0, 1 - i / (epochs - 1))`,
- `exponential`: `eps_i = k ** i` (`k = 0.8`),
- `inverse_sigmoid`: `eps_i = k / (k + exp(i / k))` (`k = 2`), normalized
  to start at 1.
"""

import math

import keras

SCHEDULES = ("linear", "exponential", "inverse_sigmoid")


def sampling_probability(schedule, epoch, epochs, maximum):
    """The probability of feeding the model's own prediction at (0-based) `epoch`."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose from {SCHEDULES}.")
    if not 0.0 <= maximum <= 1.0:
        raise ValueError(f"the largest sampling probability must be in [0, 1], got {maximum!r}.")
    if schedule == "linear":
        teacher = max(0.0, 1.0 - epoch / max(epochs - 1, 1))
    elif schedule == "exponential":
        teacher = 0.8 ** epoch
    else:
        k = 2.0
        teacher = (k / (k + math.exp(epoch / k))) / (k / (k + 1.0))
    return maximum * (1.0 - teacher)


class ScheduledSamplingSchedule(keras.callbacks.Callback):
    """Sets the `scheduled_sampling` layer's probability when an epoch starts."""

    def __init__(self, schedule, epochs, maximum=0.25, log=print):
        super().__init__()
        sampling_probability(schedule, 0, epochs, maximum)  # checks the arguments
        self.schedule, self.epochs, self.maximum, self.log = schedule, epochs, maximum, log

    def on_epoch_begin(self, epoch, logs=None):
        value = sampling_probability(self.schedule, epoch, self.epochs, self.maximum)
        self.model.get_layer("scheduled_sampling").probability.assign(value)
        if self.log:
            self.log(f"epoch {epoch + 1}: scheduled sampling probability {value:.3f} ({self.schedule})")
