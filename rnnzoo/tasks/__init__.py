"""Tasks: what a user holds after training. A task reads its data files,
scores predictions with its field's metric, and serves a finished run folder
(`saved_models/<recipe>/<run>/`): `rnnzoo predict`, `rnnzoo evaluate` and
`rnnzoo export` work here. This floor sits above `training/` and
`exporting/` (which never import each other) and is what recipes build on:
`recipe.py` holds the steps every recipe takes, in order.

```python
from rnnzoo.tasks import TextClassifier
classifier = TextClassifier.from_examples(texts, labels, units=64)
classifier.fit(texts, labels, epochs=3)
classifier.predict(["A gripping, funny film."])   # [("1", 0.93)]
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

# Each task module imports TensorFlow: load it on first use.
__getattr__, __dir__ = lazy_attributes(__name__, {"rnnzoo.tasks.text_classification": ["TextClassifier"]})

__all__ = ["Evaluation", "TextClassifier"]
