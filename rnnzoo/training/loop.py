"""The epoch loop every recipe trains with: Keras `fit` one epoch at a time,
then in plain Python: an optional extra validation score, a checkpoint of the
last epoch (model and optimizer), the best model so far, early stopping, and
a state file that lets the same command resume after a crash.

Each epoch reseeds Keras' random generators (the global one and each
layer's) and asks for its own shuffled dataset with `seed + epoch`, so a
resumed run sees the same batches and dropout masks as one that never
stopped. A crash in the middle of an epoch
loses only that epoch's steps: the run resumes from the last checkpoint and
trains the epoch again, the same way, so it ends where an uninterrupted run
ends.
"""

import contextlib
import math
import os
import signal
import time
import warnings

import keras
import numpy as np

from rnnzoo.utils.saving import DamagedModelError, load_model, save_model

# Fault injection for tests: SIGKILL this process after saving epoch N, or
# in the middle of an epoch, after training step S of epoch E ("E:S").
KILL_AFTER_EPOCH = "RNNZOO_KILL_AFTER_EPOCH"
KILL_AT_STEP = "RNNZOO_KILL_AT_STEP"


def _kill_at_step(epoch):
    """A callback that SIGKILLs the process after the step `KILL_AT_STEP`
    names, if it falls in this (0-based) epoch."""
    target = os.environ.get(KILL_AT_STEP, "")
    if not target.startswith(f"{epoch + 1}:"):
        return []
    step = int(target.split(":")[1])

    def kill(batch, logs=None):
        if batch + 1 == step:
            os.kill(os.getpid(), signal.SIGKILL)

    return [keras.callbacks.LambdaCallback(on_train_batch_end=kill)]


class TrainingError(RuntimeError):
    pass


def reseed(model, seed):
    """Set the state of every random generator inside `model` (dropout
    masks) from `seed`. `.keras` files do not keep these states, so a model
    loaded from a checkpoint would otherwise draw other masks than the one
    that never stopped."""
    generators = [v for v in model.variables if v.name == "seed_generator_state"]
    for index, variable in enumerate(generators):
        variable.assign(np.array([(seed * 7919 + index) % 2**31, 0], dtype=variable.dtype))


def decay_learning_rate(model, factor, log=print):
    """Multiply `model.optimizer`'s learning rate (a float variable) by `factor`."""
    rate = model.optimizer.learning_rate
    new_rate = float(keras.ops.convert_to_numpy(rate)) * factor
    rate.assign(new_rate)
    log(f"learning rate -> {new_rate:.3g}")


def new_state():
    return {"epoch": 0, "best": None, "best_epoch": None, "wait": 0, "history": {},
            "finished": False, "stopped_early": False, "seconds": 0.0}


def _improved(value, best, mode):
    return best is None or (value > best if mode == "max" else value < best)


def fit(model, train_data, validation_data, run, *, epochs, patience, monitor="val_loss", mode="min",
        seed=0, steps_per_epoch=None, validation_steps=None, validate=None, verbose=1, log=print,
        distribution=None, callbacks=(), lr_decay=1.0):
    """Train `model` in `run` (a `RunFolder`); returns `(best_model, state)`.

    Args:
        train_data: `epoch -> tf.data.Dataset` of that epoch's batches.
        validation_data: a dataset passed to `fit`.
        monitor, mode: the log entry that picks the best model ("max" for
            accuracies and F1, "min" for losses).
        validate: optional `model -> {name: value}`, scores added to the
            epoch's logs (e.g. a span F1 that needs decoding).
        patience: epochs without improvement before stopping.
        lr_decay: multiply the optimizer's learning rate by this after each
            epoch without improvement (1.0: never). The rate is an optimizer
            variable, so the checkpoint keeps it and a resumed run goes on
            with the decayed rate.
        callbacks: more Keras callbacks for every epoch's `fit` (e.g. a
            stateful model's state resets).
        distribution: the `training.distribution.Distribution` the model
            was built in; a resumed checkpoint is loaded in its scope. The
            best model returned is loaded outside it, on one device.
    """
    state = run.load_state()
    if state is not None and state["finished"]:
        log(f"{run.path}: training already finished ({state['epoch']} epochs, best {monitor} "
            f"{state['best']:.4f} at epoch {state['best_epoch']}); evaluating the saved model. "
            "Pass --restart to train again.")
        return load_model(run.model_path), state
    if state is not None and state["epoch"] > 0:
        log(f"{run.path}: resuming after epoch {state['epoch']} from {run.checkpoint_path}")
        with distribution.scope() if distribution is not None else contextlib.nullcontext():
            try:
                model = load_model(run.checkpoint_path)
            except DamagedModelError as error:
                raise TrainingError(f"cannot resume: {error} Pass --restart to train from scratch (the best "
                                    f"model so far, {run.model_path}, is kept until then).") from None
    else:
        state = new_state()
    if distribution is not None:
        model = distribution.prepare(model)

    for epoch in range(state["epoch"], epochs):
        keras.utils.set_random_seed(seed + epoch)
        reseed(model, seed * 1000 + epoch)
        started = time.perf_counter()
        with warnings.catch_warnings():
            # Bucketed datasets have no known length; Keras warns at their end.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            history = model.fit(
                train_data(epoch), validation_data=validation_data, epochs=epoch + 1, initial_epoch=epoch,
                steps_per_epoch=steps_per_epoch, validation_steps=validation_steps, shuffle=False,
                verbose=verbose, callbacks=_kill_at_step(epoch) + list(callbacks),
            )
        logs = {name: float(values[-1]) for name, values in history.history.items()}
        if validate is not None:
            scores = {name: float(value) for name, value in validate(model).items()}
            log(f"epoch {epoch + 1}: " + " - ".join(f"{name}: {value:.4f}" for name, value in scores.items()))
            logs.update(scores)
        if not math.isfinite(logs.get("loss", 0.0)):
            raise TrainingError(
                f"epoch {epoch + 1}: the training loss is {logs['loss']}; stopped. The last good "
                f"checkpoint (epoch {state['epoch']}) is kept in {run.path}; try a lower --learning-rate.")
        if monitor not in logs:
            raise ValueError(f"monitor={monitor!r} is not among this epoch's logs {sorted(logs)}.")
        state["seconds"] += time.perf_counter() - started
        for name, value in logs.items():
            state["history"].setdefault(name, []).append(value)
        if _improved(logs[monitor], state["best"], mode):
            save_model(model, run.model_path)
            state.update(best=logs[monitor], best_epoch=epoch + 1, wait=0)
        else:
            state["wait"] += 1
            if lr_decay < 1.0 and state["wait"] < patience:
                decay_learning_rate(model, lr_decay, log)
        save_model(model, run.checkpoint_path)
        state["epoch"] = epoch + 1
        run.save_state(state)  # last, so the state never points at a missing checkpoint
        if os.environ.get(KILL_AFTER_EPOCH) == str(epoch + 1):
            os.kill(os.getpid(), signal.SIGKILL)
        if state["wait"] >= patience and epoch + 1 < epochs:  # after the last epoch, nothing is stopped early
            log(f"early stopping: no better {monitor} for {patience} epochs (best {state['best']:.4f} "
                f"at epoch {state['best_epoch']})")
            state["stopped_early"] = True
            break
    state["finished"] = True
    run.save_state(state)
    return load_model(run.model_path), state
