"""Run folders: `saved_models/<recipe>/<run>/` holds everything one training
run makes. The default run name is derived from the options that shape
training, so running the same command again finds the same folder and
resumes it (see `loop.fit`), while a different command gets its own."""

import hashlib
import json
import os
import re
import shutil

from rnnzoo.data.reading import DataFormatError, read_json
from rnnzoo.utils.files import is_temporary, remove_stale_temporaries, write_json

# Options that do not change what is trained.
# The distribution is one of them: the same global batch trains the same model
# on one device or several, and a run may resume on other hardware.
# The encoding is one of them: it only says how to read the same data (and runs made before it existed resume).
# So is the time limit: it says when this command stops training, as killing it would (a run stopped by it is
# finished; --restart trains it again). So is the backend: the same model, trained by another kernel, in the same
# run folder (TensorFlow evaluates and exports a run that jax or torch trained).
NOT_TRAINING_OPTIONS = ("output", "run", "restart", "verbose", "debug", "download", "data_root", "export_quantize",
                        "distribute", "cpu_devices", "deterministic", "encoding", "time_limit", "backend")
CONFIG_FILE = "config.json"
RUN_FILE = "run.json"  # which recipe made the folder (outside the options, so names and resuming are unchanged);
# it is also the marker that says rnnzoo made the folder: only such a folder is ever written into or removed
LOCK_FILE = ".lock"  # held (flock) by the one process that works in the run folder
RUN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
STATE_FILE = "state.json"
STATE_KEYS = {"epoch": int, "best": (float, type(None)), "best_epoch": (int, type(None)),
              "wait": int, "history": dict, "finished": bool, "stopped_early": bool,
              "seconds": (int, float)}


# Options added after runs were named, left out at their default so that those runs keep their names.
LATER_OPTIONS = {"cell_options": None, "series_embedding": 0, "quantiles": None, "distribution": "point",
                 "calendar": False, "init_from": None, "layer_decay": 2.6, "gradual_unfreezing": True,
                 "schedule": "auto", "weight_drop": 0.0, "embedding_dropout": 0.0, "locked_dropout": False,
                 "tie_embeddings": False, "activation_regularization": 0.0,
                 "temporal_activation_regularization": 0.0, "backward": False,
                 "string_embeddings": None, "fine_tune_string_embeddings": False}


def training_options(options):
    return {k: v for k, v in sorted(options.items())
            if k not in NOT_TRAINING_OPTIONS and not (k in LATER_OPTIONS and v == LATER_OPTIONS[k])}


def default_run_name(options):
    """`<data>-<cell>[-bi]-<8 hex digits of the training options>`."""
    digest = hashlib.sha256(json.dumps(training_options(options), sort_keys=True, default=str).encode())
    data = re.sub(r"[^A-Za-z0-9_.]+", "_", os.path.basename(os.path.normpath(str(options.get("data", "data")))))
    data = data.lstrip(".") or "data"  # a run name never starts with '.' (`--data .`)
    direction = "-bi" if options.get("bidirectional") else ""
    return f"{data}-{options.get('cell', 'model')}{direction}-{digest.hexdigest()[:8]}"


class RunFolder:
    """```python
    run = RunFolder.create("sentiment", vars(args))
    run.file("metrics.json")
    ```
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    @classmethod
    def of(cls, recipe, options):
        """The run folder these options name (`OUTPUT/RECIPE/RUN`), made or not."""
        name = options.get("run") or default_run_name(options)
        check_run_name(name)
        return cls(os.path.join(options.get("output") or "saved_models", recipe, name))

    @classmethod
    def create(cls, recipe, options):
        """The run folder for these options (made if new), locked for this
        process. A folder of the same name made with other training options
        is refused, not mixed; so is a folder rnnzoo did not make (no
        `run.json`), which is never written into nor removed. `--restart`
        empties the folder, once it is locked and known to be a run."""
        run = cls.of(recipe, options)
        if os.path.exists(run.path) and not os.path.isdir(run.path):
            raise ValueError(f"{run.path} exists and is not a folder; pass another --run or --output.")
        if os.path.isdir(run.path) and run.entries() and not run.is_run():
            raise ValueError(f"{run.path} holds files that rnnzoo did not write (no {RUN_FILE}); it is left as "
                             "it is: pass another --run or --output.")
        os.makedirs(run.path, exist_ok=True)
        run.lock()
        if options.get("restart"):
            for entry in run.entries():
                path = run.file(entry)
                shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
        remove_stale_temporaries(run.path)  # what a killed run left half-written
        wanted = json.loads(json.dumps(training_options(options), default=str))
        if os.path.exists(run.file(CONFIG_FILE)):
            found = run.read_json(CONFIG_FILE)
            changed = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
            if changed:
                details = ", ".join(f"{k}: {found.get(k)!r} -> {wanted.get(k)!r}" for k in changed)
                raise ValueError(f"run folder {run.path} was made with other options ({details}); "
                                 "pass --run NAME for a new run or --restart to replace it.")
        if not os.path.exists(run.file(RUN_FILE)):
            write_json(run.file(RUN_FILE), {"recipe": recipe})
        if not os.path.exists(run.file(CONFIG_FILE)):
            write_json(run.file(CONFIG_FILE), wanted)
        return run

    def entries(self):
        """The folder's entries, less its lock and rnnzoo's temporaries."""
        return [name for name in os.listdir(self.path) if name != LOCK_FILE and not is_temporary(name)]

    def is_run(self):
        """Whether rnnzoo made this folder: it holds `run.json` (or, made
        before that file, both `config.json` and `state.json`)."""
        return os.path.isfile(self.file(RUN_FILE)) or (
            os.path.isfile(self.file(CONFIG_FILE)) and os.path.isfile(self.file(STATE_FILE)))

    def lock(self):
        """Hold the run folder's lock for the rest of this process (released
        by the system when it ends, however it ends). A second process on
        the same run is refused with the first one's process id."""
        lock_run_folder(self.path)
        return self

    def file(self, *parts):
        return os.path.join(self.path, *parts)

    @property
    def model_path(self):
        """The best model so far (by the validation score)."""
        return self.file("model.keras")

    @property
    def checkpoint_path(self):
        """The weights after the last finished epoch, optimizer included
        (Keras' `BackupAndRestore` file; runs begun before it kept
        `checkpoints/last.keras`)."""
        return self.file("checkpoints", "latest.weights.h5")

    @property
    def previous_checkpoint_path(self):
        """The backup before the latest, kept until the run state names the
        latest one's epoch (a process killed in between resumes from it)."""
        return self.file("checkpoints", "previous.weights.h5")

    def read_json(self, name):
        return read_json(self.file(name))

    @property
    def recipe(self):
        """The recipe that made this folder (None for folders made before `run.json`)."""
        if not os.path.exists(self.file(RUN_FILE)):
            return None
        found = self.read_json(RUN_FILE)
        return found.get("recipe") if isinstance(found, dict) else None

    def load_state(self):
        """The training state (epoch, best score, history, ...) or None."""
        if not os.path.exists(self.file(STATE_FILE)):
            return None
        state = self.read_json(STATE_FILE)
        for key, kind in STATE_KEYS.items():
            if not isinstance(state, dict) or not isinstance(state.get(key), kind):
                raise DataFormatError(self.file(STATE_FILE), None,
                                      f"{key!r} is missing or of the wrong type; delete the run folder "
                                      "or pass --restart.")
        if state["epoch"] and not any(os.path.exists(path) for path in (
                self.checkpoint_path, self.previous_checkpoint_path, self.file("checkpoints", "last.keras"))):
            raise DataFormatError(self.file(STATE_FILE), None,
                                  f"says {state['epoch']} epochs are done but {self.checkpoint_path} is missing.")
        return state

    def save_state(self, state):
        write_json(self.file(STATE_FILE), state)

    def __repr__(self):
        return f"RunFolder({self.path!r})"


def check_run_name(name):
    """`--run` is a folder name, not a path: no separators, no `..`, not hidden."""
    if not isinstance(name, str) or not RUN_NAME.match(name) or ".." in name:
        raise ValueError(f"--run {name!r}: a run name is one folder name (letters, digits, '_', '-' and '.', not "
                         "starting with '.', no '/' or '..').")
    return name


_HELD_LOCKS = {}  # real path -> the open lock file this process holds


def lock_run_folder(folder):
    """Take `folder/.lock` for this process (a no-op if it already holds it).
    Raises `RunLockedError` naming the process that holds it."""
    key = os.path.realpath(folder)
    if key in _HELD_LOCKS and not _HELD_LOCKS[key].closed:
        return
    try:
        import fcntl
    except ImportError:  # no flock (Windows): runs are not locked there
        return
    handle = open(os.path.join(folder, LOCK_FILE), "a+", encoding="ascii")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise RunLockedError(f"{folder} is in use by process {holder}; wait for it to end, or pass another --run "
                             "or --output.") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _HELD_LOCKS[key] = handle


def unlock_run_folder(folder):
    """Let go of `folder/.lock` if this process holds it (for another process
    to take: a run handed on)."""
    handle = _HELD_LOCKS.pop(os.path.realpath(folder), None)
    if handle is not None:
        handle.close()


class RunLockedError(OSError):
    """Another process works in this run folder."""
