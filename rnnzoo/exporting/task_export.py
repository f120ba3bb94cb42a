"""One entry point that takes a task (`rnnzoo.tasks.Task`, or anything with
its `serving()` and `export_check()`): the raw-input SavedModel, written
atomically, then served back on raw examples and compared with the task's
own `predict`. This floor never imports `tasks/`: the task hands over its
serving function and its check.

```python
check = export_task(tagger, "out/saved_model", ["The cat sat .", "Dogs bark ."])
```
"""

from rnnzoo.utils.backends import require_tensorflow
from rnnzoo.utils.examples import count_examples


def export_task(task, folder, x=None):
    """Write `task`'s SavedModel (`serving_default` takes raw input) to
    `folder`; with raw examples `x`, serve them and return the task's check
    (agreement with `predict`), else `{}`."""
    require_tensorflow(f"exporting a {type(task).__name__} (a SavedModel serving raw input)")
    from rnnzoo.exporting.text_serving import export_text_model, load_signature

    serve, input_signature, tracked = task.serving()
    folder = export_text_model(folder, serve, track=tracked, input_signature=input_signature)
    if x is None or not count_examples(x):
        return {}
    return {"examples": count_examples(x), **task.export_check(load_signature(folder), x)}
