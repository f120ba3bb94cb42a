"""`rnnzoo evaluate RUN_DIR --data PATH_OR_NAME`: score a finished run on
any file in its task's formats (or a named dataset's split), through the
run's SavedModel, so what is scored is what serves raw input.

```python
path, metrics = evaluate_run_folder("saved_models/sentiment/RUN", "reviews.tsv")
```
The report goes to `RUN_DIR/evaluations/<data>-<split>/metrics.json` (or
`output`); nothing else in the run folder is written.
"""

import os
import re

from rnnzoo.data.reading import read_json
from rnnzoo.data.sources import load_split
from rnnzoo.metrics import write_report
from rnnzoo.tasks import tagging, text_classification, translation

# The tasks whose runs can be scored on a file, each a module with `RECIPE`,
# `DATASETS`, `is_run`, `builtin_name`, `load_path`, `file_options`,
# `dataset_options` and `evaluate_run`.
TASKS = (tagging, text_classification, translation)


def task_of(run_dir):
    """The task module of a run folder, recognised by the files it holds."""
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"{run_dir}: no such run folder.")
    for task in TASKS:
        if task.is_run(run_dir):
            if not os.path.isdir(os.path.join(run_dir, "saved_model")):
                raise FileNotFoundError(f"{run_dir}: no saved_model/ here; the run has not finished.")
            return task
    raise ValueError(f"{run_dir}: not a run folder of {', '.join(t.RECIPE for t in TASKS)} "
                     "(those are the runs that can be scored on a file).")


def evaluate_run_folder(run_dir, data, *, split="test", root=None, download=False, encoding="utf-8",
                        output=None):
    """Read `data` (a path, a dataset name or "builtin"; a named dataset's
    `split`), score the run on it and write the report. Returns
    `(report path, metrics)`."""
    task = task_of(run_dir)
    config = read_json(os.path.join(run_dir, "config.json")) if os.path.exists(
        os.path.join(run_dir, "config.json")) else {}
    examples = load_split(data, split, builtin=task.builtin_name(config),
                          load_path=lambda path: task.load_path(path, encoding=encoding, **task.file_options(config)),
                          names=task.DATASETS, root=root, download=download, seed=config.get("seed", 0),
                          **task.dataset_options(data, config))
    if not examples:
        raise ValueError(f"--data {data}: holds no examples.")
    metrics = task.evaluate_run(run_dir, examples, config)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(os.path.normpath(str(data))))
    path = output or os.path.join(run_dir, "evaluations", f"{name}-{split}", "metrics.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_report(path, metrics, dataset=str(data), split=split, num_examples=len(examples), config=config,
                 extra={"run": os.path.abspath(run_dir), "scored": "saved_model (raw input)"})
    return path, metrics
