"""The epoch loop every recipe trains with: Keras `fit` one epoch at a time,
then in plain Python: an optional extra validation score, a checkpoint of the
last epoch (model and optimizer), the best model so far, early stopping, and
a state file that lets the same command resume after a crash.

Each epoch reseeds Keras' random generators and asks for its own shuffled
dataset with `seed + epoch`, so a resumed run sees the same batches and
dropout masks as one that never stopped.
"""

import contextlib
import math
import os
import signal
import time
import warnings

import keras

from rnnzoo.utils.files import atomic_write

# Fault injection for tests: SIGKILL this process after saving epoch N.
KILL_AFTER_EPOCH = "RNNZOO_KILL_AFTER_EPOCH"


class TrainingError(RuntimeError):
    pass


def save_model(model, path):
    """Save atomically: a crash mid-save leaves the previous file intact."""
    with atomic_write(path) as tmp:
        model.save(tmp)


def new_state():
    return {"epoch": 0, "best": None, "best_epoch": None, "wait": 0, "history": {},
            "finished": False, "stopped_early": False, "seconds": 0.0}


def _improved(value, best, mode):
    return best is None or (value > best if mode == "max" else value < best)


def fit(model, train_data, validation_data, run, *, epochs, patience, monitor="val_loss", mode="min",
        seed=0, steps_per_epoch=None, validation_steps=None, validate=None, verbose=1, log=print,
        distribution=None):
    """Train `model` in `run` (a `RunFolder`); returns `(best_model, state)`.

    Args:
        train_data: `epoch -> tf.data.Dataset` of that epoch's batches.
        validation_data: a dataset passed to `fit`.
        monitor, mode: the log entry that picks the best model ("max" for
            accuracies and F1, "min" for losses).
        validate: optional `model -> {name: value}`, scores added to the
            epoch's logs (e.g. a span F1 that needs decoding).
        patience: epochs without improvement before stopping.
        distribution: the `training.distribution.Distribution` the model
            was built in; a resumed checkpoint is loaded in its scope. The
            best model returned is loaded outside it, on one device.
    """
    state = run.load_state()
    if state is not None and state["finished"]:
        log(f"{run.path}: training already finished ({state['epoch']} epochs, best {monitor} "
            f"{state['best']:.4f} at epoch {state['best_epoch']}); evaluating the saved model. "
            "Pass --restart to train again.")
        return keras.saving.load_model(run.model_path), state
    if state is not None and state["epoch"] > 0:
        log(f"{run.path}: resuming after epoch {state['epoch']} from {run.checkpoint_path}")
        with distribution.scope() if distribution is not None else contextlib.nullcontext():
            model = keras.saving.load_model(run.checkpoint_path)
    else:
        state = new_state()
    if distribution is not None:
        model = distribution.prepare(model)

    for epoch in range(state["epoch"], epochs):
        keras.utils.set_random_seed(seed + epoch)
        started = time.perf_counter()
        with warnings.catch_warnings():
            # Bucketed datasets have no known length; Keras warns at their end.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            history = model.fit(
                train_data(epoch), validation_data=validation_data, epochs=epoch + 1, initial_epoch=epoch,
                steps_per_epoch=steps_per_epoch, validation_steps=validation_steps, shuffle=False,
                verbose=verbose,
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
        save_model(model, run.checkpoint_path)
        state["epoch"] = epoch + 1
        run.save_state(state)  # last, so the state never points at a missing checkpoint
        if os.environ.get(KILL_AFTER_EPOCH) == str(epoch + 1):
            os.kill(os.getpid(), signal.SIGKILL)
        if state["wait"] >= patience:
            log(f"early stopping: no better {monitor} for {patience} epochs (best {state['best']:.4f} "
                f"at epoch {state['best_epoch']})")
            state["stopped_early"] = True
            break
    state["finished"] = True
    run.save_state(state)
    return keras.saving.load_model(run.model_path), state
