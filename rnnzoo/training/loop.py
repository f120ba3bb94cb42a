"""The training loop every recipe uses: one Keras `fit(epochs=N)` with
Keras' own callbacks, and a state file that lets the same command resume
after a crash.

- `BackupAndRestore` keeps the last finished epoch (weights and optimizer,
  `checkpoints/latest.weights.h5`, which records its epoch; the backup
  before it stays as `previous.weights.h5` until `state.json` names the new
  epoch, so a kill between the two resumes from the epoch the state names);
- `ModelCheckpoint(save_best_only=True)` keeps the best model by the
  validation score (`model.keras`);
- `EarlyStopping` stops after `patience` epochs without improvement (it
  does not restore weights: the best model is `model.keras`, loaded at the
  end, which a resumed run still has, where `restore_best_weights` keeps
  them in memory only);
- `ReduceLROnPlateau` is `--lr-decay`;
- `TerminateOnNaN` stops at a non-finite loss;
- `CSVLogger` writes `history.csv`.

Ours are only what those lack: `ValidationScores` adds a score that needs
decoding (span F1, BLEU) to the epoch's logs; `EpochSeeds` reseeds every
random generator at the start of each epoch; `TimeLimit` is `--time-limit`;
`RunState` writes `state.json`
(history, best score, patience used) and restores the callbacks' counters
when a run resumes.

Each epoch has its own batches, `train_data(epoch)` (shuffled with a seed
that includes the epoch), and its own seeds, so a resumed run sees the same
batches and dropout masks as one that never stopped. A crash in the middle
of an epoch loses only that epoch's steps: the run resumes after the last
finished epoch and trains the epoch again, the same way, so it ends where an
uninterrupted run ends.
"""

import functools
import math
import os
import signal
import time
import warnings

import keras
import numpy as np

from rnnzoo.cells.kernels import kernel_report
from rnnzoo.utils.files import atomic_write, write_json
from rnnzoo.utils.saving import DamagedModelError, load_model, save_model, save_weights, weights_attributes

# Fault injection for tests: SIGKILL this process in the middle of an epoch,
# after training step S of epoch E ("E:S"). (While saving a file:
# `utils.files.KILL_IN_SAVE`.)
KILL_AT_STEP = "RNNZOO_KILL_AT_STEP"
# The epoch a backup holds, written in its file with the weights (so the pair cannot disagree).
EPOCH_ATTRIBUTE = "rnnzoo_epoch"


class TrainingError(RuntimeError):
    pass


def reseed(model, seed):
    """Set the state of every random generator inside `model` (dropout
    masks) from `seed`, so a resumed run draws the masks of the one that
    never stopped."""
    generators = [v for v in model.variables if v.name == "seed_generator_state"]
    for index, variable in enumerate(generators):
        variable.assign(np.array([(seed * 7919 + index) % 2**31, 0], dtype=variable.dtype))


def new_state():
    return {"epoch": 0, "best": None, "best_epoch": None, "wait": 0, "history": {},
            "finished": False, "stopped_early": False, "seconds": 0.0}


def _finite_loss(logs):
    return math.isfinite(float((logs or {}).get("loss", 0.0)))


class EpochSeeds(keras.callbacks.Callback):
    """Seeds Keras, NumPy and Python with `seed + epoch`, and each layer's
    generator with `seed * 1000 + epoch`, when an epoch starts."""

    def __init__(self, seed):
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        keras.utils.set_random_seed(self.seed + epoch)
        reseed(self.model, self.seed * 1000 + epoch)


class ValidationScores(keras.callbacks.Callback):
    """Adds `validate(model) -> {name: value}` to each epoch's logs (before
    the callbacks that read them), for scores that `compile` metrics cannot
    give: a span F1 or a BLEU that needs decoding."""

    def __init__(self, validate):
        super().__init__()
        self.validate = validate

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and _finite_loss(logs):
            logs.update({name: float(value) for name, value in self.validate(self.model).items()})


class BestModel(keras.callbacks.ModelCheckpoint):
    """`ModelCheckpoint(save_best_only=True)` that writes the `.keras` file
    atomically: a crash while saving keeps the previous best model whole."""

    def __init__(self, path, monitor, mode, best):
        super().__init__(path, monitor=monitor, mode=mode, save_best_only=True, initial_value_threshold=best)

    def _save_model(self, epoch, batch, logs):
        path = self._get_file_path(epoch, batch, logs)
        if _finite_loss(logs) and self._should_save_model(epoch, batch, logs, path):
            save_model(self.model, path)


class Backup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` in the run's `checkpoints/` folder, kept after
    training (a finished run can be trained for more epochs), written
    atomically, never of an epoch whose loss went non-finite, and with a
    damaged file named as damaged."""

    def __init__(self, run, first_epoch, log):
        super().__init__(os.path.dirname(run.checkpoint_path), delete_checkpoint=False)
        self.run, self.first_epoch, self.log = run, first_epoch, log

    def _load_model(self):
        if not self.first_epoch:  # a new run (or one restarted): nothing to restore
            self.model._initial_epoch = 0
            return
        path = self._checkpoint_of(self.first_epoch)
        if path is None:
            self._load_legacy_checkpoint()
        else:
            if self.model.optimizer is not None and not self.model.optimizer.built:
                self.model.optimizer.build(self.model.trainable_variables)  # its variables are in the file
            try:
                self.model.load_weights(path)
            except (OSError, ValueError) as error:
                raise self._damaged(path, error) from None
            if path != self._weights_path:
                self.log(f"the last backup was made after the run state's epoch {self.first_epoch} (the process "
                         f"stopped in between): resuming after epoch {self.first_epoch} from {path}.")
        self.model._initial_epoch = self.first_epoch

    def _checkpoint_of(self, epoch):
        """The backup of `epoch` (the run state's): `latest.weights.h5`, or
        the one before it when the process stopped between writing the
        latest backup and the run state. Each file records its epoch
        (`EPOCH_ATTRIBUTE`); files written before it are taken as the
        latest. None: no backup (a run begun with `last.keras`)."""
        found = {}
        for path in (self._weights_path, self.run.previous_checkpoint_path):
            if os.path.exists(path):
                try:
                    found[path] = weights_attributes(path).get(EPOCH_ATTRIBUTE)
                except (OSError, ValueError) as error:
                    raise self._damaged(path, error) from None
        for path, saved in found.items():
            if saved == epoch or (saved is None and path == self._weights_path):
                return path
        if found:
            raise TrainingError(f"cannot resume: the run state says {epoch} epochs are done, but the backups in "
                                f"{self.backup_dir} are of epochs {sorted(found.values())}. Pass --restart to "
                                "train from scratch.")
        return None

    def _damaged(self, path, error):
        return TrainingError(
            f"cannot resume: {path}: the checkpoint is damaged ({str(error).splitlines()[0]}). "
            f"Pass --restart to train from scratch (the best model so far, {self.run.model_path}, is kept "
            "until then).")

    def _load_legacy_checkpoint(self):
        """Runs started before the backup was a weights file kept `checkpoints/last.keras`."""
        path = self.run.file("checkpoints", "last.keras")
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(path)
        except (OSError, ValueError) as error:
            raise TrainingError(f"cannot resume: {path}: the checkpoint is damaged ({error}). Pass --restart "
                                "to train from scratch.") from None

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if os.path.exists(self._weights_path):  # kept until the run state names the new backup's epoch
            os.replace(self._weights_path, self.run.previous_checkpoint_path)
        save_weights(self.model, self._weights_path, {EPOCH_ATTRIBUTE: self._current_epoch})
        write_json(self._training_metadata_path, {"epoch": self._current_epoch, "batch": self._last_batch_seen})

    def on_epoch_end(self, epoch, logs=None):
        if _finite_loss(logs):
            super().on_epoch_end(epoch, logs)


class RunState(keras.callbacks.Callback):
    """Writes `state.json` after each epoch's backup (so the state never
    points at a missing checkpoint) and gives a resumed run's
    `EarlyStopping` and `ReduceLROnPlateau` the best score and patience used
    so far, which they would otherwise forget."""

    def __init__(self, run, state, *, monitor, mode, early_stopping, reduce_lr=None):
        super().__init__()
        self.run, self.state, self.monitor, self.mode = run, state, monitor, mode
        self.early_stopping, self.reduce_lr = early_stopping, reduce_lr
        self.nan_loss = None

    def on_train_begin(self, logs=None):
        if self.state["best"] is not None:
            self.early_stopping.best = self.state["best"]
            self.early_stopping.wait = self.state["wait"]
            self.early_stopping.best_epoch = self.state["best_epoch"] - 1
            if self.reduce_lr is not None:
                self.reduce_lr.best = self.state["best"]

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if not _finite_loss(logs):
            self.nan_loss = (epoch, logs["loss"])
            return
        if self.monitor not in logs:
            raise ValueError(f"monitor={self.monitor!r} is not among this epoch's logs {sorted(logs)}.")
        state = self.state
        state["seconds"] += time.perf_counter() - self.started
        for name, value in logs.items():
            state["history"].setdefault(name, []).append(float(value))
        best = state["best"]
        if best is None or (logs[self.monitor] > best if self.mode == "max" else logs[self.monitor] < best):
            state.update(best=float(logs[self.monitor]), best_epoch=epoch + 1, wait=0)
        else:
            state["wait"] += 1
        state["epoch"] = epoch + 1
        self.run.save_state(state)


class TimeLimit(keras.callbacks.Callback):
    """Stops training once `minutes` of wall time have passed since `fit`
    began: the epoch under way ends after its current step and is
    validated and kept like any other."""

    def __init__(self, minutes):
        super().__init__()
        self.seconds, self.stopped_in = minutes * 60.0, None

    def on_train_begin(self, logs=None):
        self.start = time.time()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.stopped_in is None and time.time() - self.start >= self.seconds:
            self.model.stop_training, self.stopped_in = True, (self.epoch, batch + 1)


class KillAtStep(keras.callbacks.Callback):
    """SIGKILLs the process after the step that `KILL_AT_STEP` names (tests)."""

    def __init__(self, target):
        super().__init__()
        self.epoch, self.step = (int(part) for part in target.split(":"))

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch + 1 == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def count_batches(dataset):
    """The number of batches in `dataset`: its cardinality, or one pass
    over it when tf.data cannot tell (bucketed batches)."""
    count = int(dataset.cardinality())
    if count >= 0:
        return count
    return int(dataset.reduce(np.int64(0), lambda total, _: total + 1))


def _all_epochs(train_data, first, last, steps):
    """Epochs `first..last-1` of `train_data(epoch)`, one after the other,
    each exactly `steps` batches (an epoch of another size is an error, not
    a silent shift of the epochs' boundaries)."""
    import tensorflow as tf

    parts = [train_data(epoch).take(steps).apply(tf.data.experimental.assert_cardinality(steps))
             for epoch in range(first, last)]
    return functools.reduce(lambda a, b: a.concatenate(b), parts)


def fit(model, train_data, validation_data, run, *, epochs, patience, monitor="val_loss", mode="min",
        seed=0, steps_per_epoch=None, validation_steps=None, validate=None, verbose=1, log=print,
        distribution=None, callbacks=(), lr_decay=1.0, time_limit=None):
    """Train `model` in `run` (a `RunFolder`) with one `model.fit`; returns
    `(best_model, state)`.

    Args:
        model: a compiled model, built the same way as when the run began
            (a resumed run loads its weights and optimizer into it).
        train_data: `epoch -> tf.data.Dataset` of that epoch's batches.
        validation_data: a dataset passed to `fit`.
        monitor, mode: the log entry that picks the best model ("max" for
            accuracies and F1, "min" for losses).
        validate: optional `model -> {name: value}`, scores added to the
            epoch's logs (e.g. a span F1 that needs decoding).
        patience: epochs without improvement before stopping.
        steps_per_epoch: batches per epoch (default, and at most: all of
            `train_data(epoch)`).
        lr_decay: multiply the optimizer's learning rate by this after each
            epoch without improvement (1.0: never). The rate is an optimizer
            variable, so the checkpoint keeps it and a resumed run goes on
            with the decayed rate.
        callbacks: more Keras callbacks (e.g. a stateful model's state
            resets).
        time_limit: minutes of training, at most (None: no limit); the
            epoch under way when it runs out is cut short and kept.
        distribution: the `training.distribution.Distribution` the model
            was built in. The best model returned is loaded outside it, on
            one device.
    """
    state = run.load_state()
    if state is not None and state["finished"]:
        log(f"{run.path}: training already finished ({state['epoch']} epochs, best {monitor} "
            f"{state['best']:.4f} at epoch {state['best_epoch']}); evaluating the saved model. "
            "Pass --restart to train again.")
        return load_model(run.model_path), state
    state = state if state is not None else new_state()
    first = state["epoch"]
    if first:
        log(f"{run.path}: resuming after epoch {first} from {run.checkpoint_path}")
    if distribution is not None:
        model = distribution.prepare(model)
    history_csv = run.file("history.csv")
    _keep_rows(history_csv, first)

    early_stopping = keras.callbacks.EarlyStopping(monitor, min_delta=0, patience=patience, mode=mode)
    reduce_lr = None
    if lr_decay < 1.0:
        reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor, factor=lr_decay, patience=1, mode=mode, min_delta=0,
                                                      min_lr=0.0, verbose=1 if verbose else 0)
    run_state = RunState(run, state, monitor=monitor, mode=mode, early_stopping=early_stopping, reduce_lr=reduce_lr)
    kill = os.environ.get(KILL_AT_STEP)
    limit = TimeLimit(time_limit) if time_limit else None
    every_epoch = [
        EpochSeeds(seed), *([KillAtStep(kill)] if kill else []), *([limit] if limit else []), *callbacks,
        *([ValidationScores(validate)] if validate is not None else []),
        keras.callbacks.TerminateOnNaN(), *([reduce_lr] if reduce_lr is not None else []),
        BestModel(run.model_path, monitor, mode, state["best"]), early_stopping,
        keras.callbacks.CSVLogger(history_csv, append=True), Backup(run, first, log), run_state,
    ]
    if first < epochs:
        available = count_batches(train_data(first))
        steps = min(steps_per_epoch or available, available)  # a --smoke run on a one-batch set takes one step
        try:
            with warnings.catch_warnings():  # a --smoke run asks for more validation steps than a small set has
                warnings.filterwarnings("ignore", message="Your input ran out of data")
                model.fit(_all_epochs(train_data, first, epochs, steps), validation_data=validation_data,
                          epochs=epochs, initial_epoch=first, steps_per_epoch=steps,
                          validation_steps=validation_steps, shuffle=False, verbose=verbose, callbacks=every_epoch)
        finally:
            model._initial_epoch = None  # set by the backup; a later `fit` of this model starts where it says
        # What trained the model (the report of a run that another backend evaluates and exports).
        state["trained_on"] = {"backend": keras.backend.backend(), "kernels": kernel_report(model)}
    if run_state.nan_loss is not None:
        epoch, loss = run_state.nan_loss
        raise TrainingError(
            f"epoch {epoch + 1}: the training loss is {loss}; stopped. The last good checkpoint "
            f"(epoch {state['epoch']}) is kept in {run.path}; try a lower --learning-rate.")
    if limit is not None and limit.stopped_in is not None:
        epoch, steps = limit.stopped_in
        log(f"time limit: stopped after {time_limit:g} minutes, in epoch {epoch + 1} after {steps} steps")
    elif early_stopping.stopped_epoch and state["epoch"] < epochs:
        log(f"early stopping: no better {monitor} for {patience} epochs (best {state['best']:.4f} "
            f"at epoch {state['best_epoch']})")
        state["stopped_early"] = True
    state["finished"] = True
    run.save_state(state)
    try:
        return load_model(run.model_path), state
    except DamagedModelError as error:
        raise TrainingError(f"{error} Pass --restart to train again.") from None


def _keep_rows(path, epochs):
    """Cut `history.csv` to its header and first `epochs` rows: a run that
    stopped after logging an epoch but before its backup trains it again."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    if epochs == 0:
        os.remove(path)
    elif len(lines) > epochs + 1:
        with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.writelines(lines[: epochs + 1])
