"""Tasks: what a user holds after training. A task reads its data files,
scores predictions with its field's metric, and serves a finished run folder
(`saved_models/<recipe>/<run>/`): `rnnzoo predict`, `rnnzoo evaluate` and
`rnnzoo export` work here. This floor sits above `training/` and
`exporting/` (which never import each other) and is what recipes build on:
`recipe.py` holds the steps every recipe takes, in order.

Each task is a class on keras-hub's contract (`base.Task`: a preprocessor,
a backbone with its head, and `fit` / `predict` / `evaluate` /
`save_to_preset` / `from_preset` / `export` on raw input):

```python
from rnnzoo.tasks import TextClassifier
classifier = TextClassifier.from_examples(texts, labels, units=64)
classifier.fit(texts, labels, epochs=3)
classifier.predict(["A gripping, funny film."])   # [("1", 0.93)]
rnnzoo.load("saved_models/tagging/RUN").predict(["The cat sat ."])   # any preset or run folder
```
"""

import dataclasses
import typing

from rnnzoo.utils.lazy import lazy_attributes


def _no_options(*args):
    return {}


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """How `rnnzoo evaluate` reads a task's data and scores a finished run
    of it; each task module declares one (`EVALUATION`)."""

    recipe: str  # the recipe whose runs these are
    datasets: tuple  # named datasets that fit
    builtin: typing.Callable  # run config (dict) -> the built-in dataset's name
    load_path: typing.Callable  # (path, encoding=, **file_options) -> examples
    evaluate: typing.Callable  # (run_dir, examples, run config) -> metrics
    file_options: typing.Callable = _no_options  # run config -> options for load_path
    dataset_options: typing.Callable = _no_options  # (dataset name, run config) -> options for load_dataset
    is_run: typing.Callable = None  # run_dir -> bool, for folders made before run.json named their recipe
    # (run_dir, data, split, run config, root=, download=, encoding=) -> examples, for a task whose data is not
    # a list of examples per split (a series is split in time); replaces `load_path` and `builtin`.
    load_split: typing.Callable = None
    backtests: bool = False  # `evaluate` takes `backtest_cutoffs` (rolling-origin cut-offs, `--backtest K`)

# The task modules, each with its `Task` subclass (registered by name when imported).
TASK_MODULES = {"TextClassifier": "text_classification", "DocumentClassifier": "document_classification",
                "SequenceTagger": "tagging", "Translator": "translation",
                "LanguageModel": "language_model", "Captioner": "captioning", "SpeechRecognizer": "speech",
                "Forecaster": "forecasting", "GlobalForecaster": "global_forecasting"}


def load_task_modules():
    """Import every task module, so each `Task` subclass is registered."""
    import importlib

    for module in TASK_MODULES.values():
        importlib.import_module(f"rnnzoo.tasks.{module}")


# Each task module imports TensorFlow: load it on first use.
__getattr__, __dir__ = lazy_attributes(__name__, {
    "rnnzoo.tasks.base": ["Task", "load"],
    **{f"rnnzoo.tasks.{module}": [name] for name, module in TASK_MODULES.items()}})

__all__ = ["Evaluation", "Task", "load", "load_task_modules", *TASK_MODULES]
