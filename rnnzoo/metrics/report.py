"""`metrics.json`: one file per evaluation holding what a reader needs to
trust and reproduce a number (what was measured, on what, by which model,
with which library versions)."""

import datetime
import platform
import time

from rnnzoo.utils.files import to_jsonable, write_json

REPORT_FORMAT_VERSION = 1


def library_versions():
    """Versions of the libraries that shape the numbers."""
    import importlib.metadata

    import keras

    versions = {"python": platform.python_version(), "keras_backend": keras.backend.backend()}
    for dist in ("rnnzoo", "keras", "tensorflow", "tensorflow-text", "jax", "numpy",
                 "scikit-learn", "nltk", "sacrebleu"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def model_summary(model):
    """Class, registered name and constructor config of a Keras model."""
    import keras

    summary = {
        "class_name": type(model).__name__,
        "registered_name": keras.saving.get_registered_name(type(model)),
        "num_parameters": int(model.count_params()) if model.built else None,
    }
    try:
        summary["config"] = model.get_config()
    except NotImplementedError:
        summary["config"] = None
    return summary


def evaluation_report(metrics, *, dataset, split, num_examples, model=None, config=None,
                      training_time=None, extra=None):
    """The report as a dict.

    Args:
        metrics: metric name -> value (floats, or nested dicts / lists such
            as a per-class report or a confusion matrix).
        dataset, split: where the examples came from ("sst2", "test").
        num_examples: how many examples were scored.
        model: the Keras model (its class and config are recorded).
        config: run settings (command-line options, seed, epochs, ...).
        training_time: seconds spent training, if this run trained.
        extra: anything else worth keeping (a dict).
    """
    if not isinstance(metrics, dict) or not metrics:
        raise ValueError("metrics must be a non-empty dict of metric name -> value.")
    if int(num_examples) < 0:
        raise ValueError(f"num_examples must be >= 0, got {num_examples}.")
    report = {
        "format_version": REPORT_FORMAT_VERSION,
        "metrics": to_jsonable(metrics),
        "dataset": str(dataset),
        "split": str(split),
        "num_examples": int(num_examples),
        "model": model_summary(model) if model is not None else None,
        "config": to_jsonable(config or {}),
        "training_time_seconds": None if training_time is None else round(float(training_time), 3),
        "versions": library_versions(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if extra:
        report["extra"] = to_jsonable(extra)
    return report


def is_report(path):
    """Whether the file at `path` is a report rnnzoo wrote (so replacing it
    loses nothing of the user's)."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            found = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and "format_version" in found and "metrics" in found


def write_report(path, metrics, **kwargs):
    """Write `evaluation_report(metrics, **kwargs)` to `path` (atomically) and
    return the report dict."""
    report = evaluation_report(metrics, **kwargs)
    write_json(path, report)
    return report


class Stopwatch:
    """`with Stopwatch() as watch: model.fit(...)`, then `watch.seconds`."""

    def __enter__(self):
        self._start = time.perf_counter()
        self.seconds = None
        return self

    def __exit__(self, *exc_info):
        self.seconds = time.perf_counter() - self._start
        return False
