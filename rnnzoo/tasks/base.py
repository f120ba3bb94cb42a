"""`Task`: what a user holds. keras-hub's contract, kept by name: a task is
a *preprocessor* (raw input to tensors and back: its vocabularies, encoders
and scaling, saved as files beside the model), a *backbone* with its *head*
(the Keras model `rnnzoo.build_model` makes, saved as `model.keras`), and
the methods `fit`, `predict`, `evaluate`, `save_to_preset`, `from_preset`
and `export`, each taking raw input (strings, sentences, waveforms, images,
windows of a series).

A preset is a folder:

    metadata.json   {"task": class name, "rnnzoo_version", "keras_version", "parameter_count", "date_saved"}
    task.json       the task's own options (decoding, label names, ...)
    model.keras     the backbone and head
    ...             the preprocessor's files (vocabularies, encoders, scaling)

A recipe's run folder is a preset plus the run's history (`run.json`,
checkpoints, metrics, plots, `saved_model/`), so `from_preset` and
`rnnzoo.load` read run folders too, including those made before presets
had a `metadata.json` (their recipe names the task).
"""

import datetime
import os

import keras
import numpy as np

from rnnzoo.data.reading import DataFormatError, read_json
from rnnzoo.utils.files import write_json

METADATA = "metadata.json"
TASK_CONFIG = "task.json"
MODEL = "model.keras"

TASKS = {}  # class name -> Task subclass: every task module's classes register here
RECIPES = {}  # recipe name -> Task subclass: which task a recipe's run folders hold


def _is_handle(preset):
    return "://" in str(preset)


class Task:
    """Preprocessor + backbone + head, with raw input in and out.

    Subclasses say what is task-specific: `dataset(x, y)` (raw examples to
    batches of model inputs and targets), `predict(x)`, `evaluate(x, y)` (the
    field's metric, the same numbers the recipe reports), `save_assets` /
    `load_assets` (the preprocessor's files) and `serving()` (the TensorFlow
    function a SavedModel serves). Everything else is here, once.
    """

    recipe = None  # the recipe whose run folders hold this task
    serves = "raw input"  # what the SavedModel takes and returns, in words

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        TASKS[cls.__name__] = cls
        if cls.recipe:
            RECIPES[cls.recipe] = cls

    # What a subclass says ------------------------------------------------------------------------------------

    def dataset(self, x, y=None, *, batch_size=32, shuffle=False, seed=0):
        """Raw examples (and targets) -> a `tf.data.Dataset` of batches."""
        raise NotImplementedError

    def predict(self, x, batch_size=64):
        raise NotImplementedError

    def evaluate(self, x, y, batch_size=64):
        raise NotImplementedError

    def get_config(self):
        """The task's own options (`task.json`), passed back to `__init__`."""
        return {}

    def save_assets(self, folder):
        """Write the preprocessor's files into `folder`."""
        raise NotImplementedError

    @classmethod
    def load_assets(cls, folder):
        """`__init__` keyword arguments read from a preset or run folder,
        other than the model and `task.json`'s options."""
        raise NotImplementedError

    def serving(self):
        """`(function, input_signature, tracked)` for the SavedModel: the
        function maps raw input tensors to a dict of outputs; `tracked` holds
        what it uses (the model, lookup tables)."""
        raise NotImplementedError

    def export_check(self, signature, x):
        """Serve raw `x` through the exported `signature` and compare with
        `predict`: a dict of agreement figures."""
        raise NotImplementedError

    # Shared ---------------------------------------------------------------------------------------------------

    @property
    def backbone(self):
        """The Keras model (backbone and head) the task trains."""
        return self.model

    def fit(self, x, y=None, *, validation_data=None, epochs=1, batch_size=32, seed=0, **fit_options):
        """`model.fit` on raw examples and targets (shuffled with `seed`);
        `validation_data` is `(x, y)` raw as well. Returns the `History`."""
        validation = None if validation_data is None else self.dataset(*validation_data, batch_size=batch_size)
        fit_options.setdefault("shuffle", False)  # the dataset is shuffled, with `seed`
        return self.model.fit(self.dataset(x, y, batch_size=batch_size, shuffle=True, seed=seed),
                              validation_data=validation, epochs=epochs, **fit_options)

    def save_to_preset(self, preset_dir):
        """Write the task as a preset folder (see the module's docstring),
        each file atomically. A folder holding files rnnzoo did not write,
        or another task's preset, is refused and left as it is."""
        from rnnzoo.utils.saving import save_model

        self._check_folder(preset_dir)
        os.makedirs(preset_dir, exist_ok=True)
        save_model(self.model, os.path.join(preset_dir, MODEL))
        return self._write_preset_files(preset_dir)

    def save_preset_files(self, preset_dir):
        """Everything of a preset but `model.keras`: the preprocessor's
        files, `task.json` and `metadata.json` (a recipe's run folder gets
        these beside the model its training loop saved)."""
        self._check_folder(preset_dir)
        return self._write_preset_files(preset_dir)

    def _write_preset_files(self, preset_dir):
        from rnnzoo.version import __version__

        self.save_assets(preset_dir)
        write_json(os.path.join(preset_dir, TASK_CONFIG), {"task": type(self).__name__, "config": self.get_config()})
        write_json(os.path.join(preset_dir, METADATA), {
            "task": type(self).__name__, "rnnzoo_version": __version__, "keras_version": keras.__version__,
            "parameter_count": int(self.model.count_params()),
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
        return preset_dir

    def _check_folder(self, preset_dir):
        metadata_path = os.path.join(preset_dir, METADATA)
        if os.path.exists(metadata_path):
            found = read_json(metadata_path)
            if not isinstance(found, dict) or found.get("task") != type(self).__name__:
                raise ValueError(f"{preset_dir}: holds a preset of another task; it is left as it is: pick a new "
                                 "folder.")
        elif os.path.isdir(preset_dir) and os.listdir(preset_dir) and not os.path.exists(
                os.path.join(preset_dir, "run.json")):
            raise ValueError(f"{preset_dir}: holds files rnnzoo did not write; they are left as they are: pick a new "
                             "or empty folder.")

    @classmethod
    def from_preset(cls, preset, **options):
        """A task from a preset folder written by `save_to_preset`, or a
        recipe's run folder. On `Task` itself, the folder says which task;
        on a subclass, the folder must hold that task. `options` override
        `task.json`'s (say, `beam_size=1`)."""
        from rnnzoo.tasks import load_task_modules
        from rnnzoo.utils.saving import load_model

        load_task_modules()
        if _is_handle(preset):
            raise ValueError(f"{preset}: rnnzoo reads presets from local folders; download the handle first "
                             "(kagglehub.model_download, huggingface_hub.snapshot_download).")
        found = task_class(preset)
        if cls is not Task and not issubclass(found, cls):
            raise ValueError(f"{preset}: holds a {found.__name__}, not a {cls.__name__}.")
        config_path = os.path.join(preset, TASK_CONFIG)
        config = read_json(config_path).get("config", {}) if os.path.exists(config_path) else \
            found.run_options(preset)
        return found(model=load_model(found.model_path(preset)), **found.load_assets(preset), **{**config, **options})

    @classmethod
    def model_path(cls, preset):
        return os.path.join(preset, MODEL)

    @classmethod
    def run_options(cls, run_dir):
        """`task.json`'s options for a run folder made before presets had
        one, from its `config.json`."""
        return {}

    def export(self, folder, x=None, *, format="saved_model"):
        """`format="saved_model"`: a SavedModel serving raw input
        (`serving()`), written atomically; with raw examples `x`, served back
        and compared with `predict`. Returns the check (or `{}`). Needs the
        TensorFlow backend.

        `format="onnx"`: the task's network as `folder/model.onnx`, taking
        what the network takes (token ids, characters, features, windows:
        the preprocessing stays outside the graph, as for the TFLite files),
        checked with ONNX Runtime on right-padded inputs
        (`rnnzoo.exporting.onnx`). Returns the export report. Needs the
        torch backend."""
        if format == "onnx":
            from rnnzoo.exporting.onnx import export_onnx

            return export_onnx(self.model, folder)
        if format != "saved_model":
            raise ValueError(f"format={format!r}: a task exports 'saved_model' (raw input) or 'onnx' (its network).")
        from rnnzoo.exporting.task_export import export_task

        return export_task(self, folder, x)


def task_class(path):
    """The `Task` subclass a preset or run folder holds: its
    `metadata.json`, else the recipe of its `run.json`, else the files it
    holds (run folders made before run.json named their recipe)."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path}: no such preset or run folder.")
    metadata = os.path.join(path, METADATA)
    if os.path.exists(metadata):
        found = read_json(metadata)
        name = found.get("task") if isinstance(found, dict) else None
        if name not in TASKS:
            raise DataFormatError(metadata, None, f"'task' must be one of {sorted(TASKS)}, found {name!r}.")
        return TASKS[name]
    from rnnzoo.tasks.evaluation import task_of

    recipe = task_of(path).recipe
    if recipe not in RECIPES:
        raise ValueError(f"{path}: a {recipe} run has no task class.")
    return RECIPES[recipe]


def load(path, **options):
    """The task saved in a preset or run folder, as its class:
    `rnnzoo.load("saved_models/tagging/RUN").predict(["The cat sat ."])`."""
    return Task.from_preset(path, **options)


def max_abs_difference(a, b):
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    return float(np.max(np.abs(a - b))) if a.size else 0.0
