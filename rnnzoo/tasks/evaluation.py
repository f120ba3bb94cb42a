"""`rnnzoo evaluate RUN_DIR --data PATH_OR_NAME`: score a finished run on
any file in its task's formats (or a named dataset's split), through the
run's SavedModel, so what is scored is what serves raw input.

```python
path, metrics = evaluate_run_folder("saved_models/sentiment/RUN", "reviews.tsv")
```
The report goes to `RUN_DIR/evaluations/<data>-<split>/metrics.json` (or
`output`); nothing else in the run folder is written. Text classification,
tagging, translation, captioning and speech runs are scored through their
SavedModel (what serves raw input); a language model by its perplexity; a
forecaster on every window of the split (the recipe's chronological split of
`builtin` or a named dataset, or every window of a CSV file).
"""

import hashlib
import os
import re

from rnnzoo.data.reading import DataFormatError, read_json
from rnnzoo.data.sources import load_split
from rnnzoo.exporting.graph_check import check_saved_model
from rnnzoo.metrics import write_report
from rnnzoo.metrics.report import is_report
from rnnzoo.tasks import (captioning, document_classification, forecasting, global_forecasting, language_model, speech,
                          tagging, text_classification, translation)
from rnnzoo.training.runs import RunFolder

# Every task's `Evaluation` (see `rnnzoo.tasks.Evaluation`).
TASKS = tuple(module.EVALUATION for module in (tagging, text_classification, translation, captioning, speech,
                                                 language_model, forecasting, document_classification,
                                                 global_forecasting))


def task_of(run_dir):
    """The `Evaluation` of a run folder's task: the recipe its `run.json`
    names, or (folders made before) the one whose files it holds."""
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"{run_dir}: no such run folder.")
    recipe = RunFolder(run_dir).recipe
    found = [task for task in TASKS
             if (task.recipe == recipe if recipe else task.is_run is not None and task.is_run(run_dir))]
    if not found and recipe:
        raise ValueError(f"{run_dir}: rnnzoo evaluate does not score {recipe} runs yet (it scores "
                         f"{', '.join(t.recipe for t in TASKS)}); the run's metrics.json holds its test scores.")
    if not found:
        raise ValueError(f"{run_dir}: not a run folder of {', '.join(t.recipe for t in TASKS)}.")
    if not os.path.exists(os.path.join(run_dir, "model.keras")):
        raise FileNotFoundError(f"{run_dir}: no model.keras here; the run has not finished.")
    return found[0]


def evaluate_run_folder(run_dir, data, *, split="test", root=None, download=False, encoding="utf-8",
                        images=None, output=None, trust=False, backtest=None):
    """Read `data` (a path, a dataset name or "builtin"; a named dataset's
    `split`), score the run on it and write the report. Returns
    `(report path, metrics)`. The run's SavedModel graph is checked before
    it is loaded (`exporting.graph_check`) unless `trust`."""
    task = task_of(run_dir)
    if backtest is not None and not task.backtests:
        raise ValueError(f"--backtest: rolling-origin cut-offs are for panels of series (global_forecasting runs), "
                         f"not {task.recipe} runs.")
    if output is not None and os.path.exists(output) and not is_report(output):
        raise ValueError(f"--output {output}: the file exists and is not an rnnzoo report; it is left as it is: "
                         "pick a new path.")
    if os.path.isdir(os.path.join(run_dir, "saved_model")):
        check_saved_model(os.path.join(run_dir, "saved_model"), trust=trust)
    config = read_json(os.path.join(run_dir, "config.json")) if os.path.exists(
        os.path.join(run_dir, "config.json")) else {}
    file_options = task.file_options(config)
    if images is not None:
        if task is not captioning.EVALUATION:
            raise ValueError("--images is for captioning runs (the folder a captions file's images are in).")
        file_options["images"] = images
    if task.load_split is not None:
        examples = task.load_split(run_dir, data, split, config, root=root, download=download, encoding=encoding)
    else:
        examples = load_split(data, split, builtin=task.builtin(config),
                              load_path=lambda path: task.load_path(path, encoding=encoding, **file_options),
                              names=task.datasets, root=root, download=download, seed=config.get("seed", 0),
                              **task.dataset_options(data, config))
    if not examples:
        raise ValueError(f"--data {data}: holds no examples.")
    try:
        metrics = task.evaluate(run_dir, examples, config, **({"backtest_cutoffs": backtest} if task.backtests else {}))
    except DataFormatError:
        raise
    except ValueError as error:  # what the examples hold that the run cannot score (unknown labels): name the data
        raise ValueError(f"--data {data}: {error}") from None
    name = report_name(data, split) + (f"-backtest{backtest}" if backtest else "")
    path = output or os.path.join(run_dir, "evaluations", name, "metrics.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    scored = "serving.keras" if task is language_model.EVALUATION else "saved_model (raw input)"
    write_report(path, metrics, dataset=str(data), split=split, num_examples=len(examples), config=config,
                 extra={"run": os.path.abspath(run_dir), "scored": scored})
    return path, metrics


def report_name(data, split):
    """`<data>-<split>`: a dataset name as it is; a file or folder by its
    base name and 8 hex digits of its absolute path, so `a/test.tsv` and
    `b/test.tsv` get reports of their own."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(os.path.normpath(str(data)))).lstrip(".") or "data"
    if os.path.exists(str(data)):
        name += "-" + hashlib.sha256(os.path.abspath(str(data)).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{name}-{split}"
