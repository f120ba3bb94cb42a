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
from rnnzoo.utils.files import write_json

# Options that do not change what is trained.
# The distribution is one of them: the same global batch trains the same model
# on one device or several, and a run may resume on other hardware.
# The encoding is one of them: it only says how to read the same data (and runs made before it existed resume).
# So is the time limit: it says when this command stops training, as killing it would (a run stopped by it is
# finished; --restart trains it again).
NOT_TRAINING_OPTIONS = ("output", "run", "restart", "verbose", "debug", "download", "data_root", "export_quantize",
                        "distribute", "cpu_devices", "deterministic", "encoding", "time_limit")
CONFIG_FILE = "config.json"
RUN_FILE = "run.json"  # which recipe made the folder (outside the options, so names and resuming are unchanged)
STATE_FILE = "state.json"
STATE_KEYS = {"epoch": int, "best": (float, type(None)), "best_epoch": (int, type(None)),
              "wait": int, "history": dict, "finished": bool, "stopped_early": bool,
              "seconds": (int, float)}


def training_options(options):
    # Without cell options the key is left out, so runs made before `--cell-option` keep their names.
    return {k: v for k, v in sorted(options.items())
            if k not in NOT_TRAINING_OPTIONS and not (k == "cell_options" and v is None)}


def default_run_name(options):
    """`<data>-<cell>[-bi]-<8 hex digits of the training options>`."""
    digest = hashlib.sha256(json.dumps(training_options(options), sort_keys=True, default=str).encode())
    data = re.sub(r"[^A-Za-z0-9_.]+", "_", os.path.basename(os.path.normpath(str(options.get("data", "data")))))
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
    def create(cls, recipe, options):
        """The run folder for these options (made if new). A folder of the
        same name made with other training options is refused, not mixed."""
        name = options.get("run") or default_run_name(options)
        run = cls(os.path.join(options.get("output") or "saved_models", recipe, name))
        if options.get("restart") and os.path.isdir(run.path):
            shutil.rmtree(run.path)
        os.makedirs(run.path, exist_ok=True)
        wanted = json.loads(json.dumps(training_options(options), default=str))
        if os.path.exists(run.file(CONFIG_FILE)):
            found = run.read_json(CONFIG_FILE)
            changed = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
            if changed:
                details = ", ".join(f"{k}: {found.get(k)!r} -> {wanted.get(k)!r}" for k in changed)
                raise ValueError(f"run folder {run.path} was made with other options ({details}); "
                                 "pass --run NAME for a new run or --restart to replace it.")
        else:
            write_json(run.file(CONFIG_FILE), wanted)
        if not os.path.exists(run.file(RUN_FILE)):
            write_json(run.file(RUN_FILE), {"recipe": recipe})
        return run

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
        if state["epoch"] and not any(os.path.exists(path) for path in
                                      (self.checkpoint_path, self.file("checkpoints", "last.keras"))):
            raise DataFormatError(self.file(STATE_FILE), None,
                                  f"says {state['epoch']} epochs are done but {self.checkpoint_path} is missing.")
        return state

    def save_state(self, state):
        write_json(self.file(STATE_FILE), state)

    def __repr__(self):
        return f"RunFolder({self.path!r})"
