"""metrics.json reports, PNG plots, and atomic writes."""

import json
import os

import numpy as np
import pytest

from rnnzoo import metrics
from rnnzoo.utils import atomic_write, write_json
from helpers import build_tiny

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_report_records_what_a_reader_needs(tmp_path):
    model = build_tiny("many_to_one", cell="lstm")
    path = tmp_path / "run" / "metrics.json"
    scores = {"accuracy": np.float32(0.75), "confusion_matrix": np.array([[3, 1], [0, 4]])}
    metrics.write_report(path, scores, dataset="sst2", split="test", num_examples=8,
                         model=model, config={"epochs": 2}, training_time=12.3456)
    report = json.loads(path.read_text())
    assert report["metrics"] == {"accuracy": 0.75, "confusion_matrix": [[3, 1], [0, 4]]}
    assert (report["dataset"], report["split"], report["num_examples"]) == ("sst2", "test", 8)
    assert report["model"]["class_name"] == "ManyToOne"
    assert report["model"]["config"]["cell"] == "lstm"
    assert report["model"]["num_parameters"] == model.count_params()
    assert report["config"] == {"epochs": 2}
    assert report["training_time_seconds"] == pytest.approx(12.346)
    for name in ("python", "keras", "tensorflow", "numpy", "keras_backend"):
        assert report["versions"][name]


def test_report_rejects_empty_metrics(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        metrics.write_report(tmp_path / "m.json", {}, dataset="x", split="test", num_examples=0)
    assert not (tmp_path / "m.json").exists()


def test_non_finite_values_become_json_null(tmp_path):
    write_json(tmp_path / "a.json", {"perplexity": float("inf"), "loss": np.float64("nan")})
    assert json.loads((tmp_path / "a.json").read_text()) == {"perplexity": None, "loss": None}


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("old, good")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as tmp:
            assert tmp.endswith(".keras")  # Keras picks the format from it
            with open(tmp, "w") as f:
                f.write("half-writ")
            raise RuntimeError("crash mid-save")
    assert path.read_text() == "old, good"
    assert os.listdir(tmp_path) == ["model.keras"]  # no temporary left behind


# --- Plots --------------------------------------------------------------------

def _assert_png_not_blank(path):
    import matplotlib.image

    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    assert pixels[..., :3].std() > 0.01  # something was drawn


def _draw_all(tmp_path):
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
               "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.7]}
    report = metrics.classification_report([0, 1, 2, 2, 1], [0, 2, 2, 2, 1],
                                           label_names=["neg", "neu", "pos"])
    return [
        metrics.plot_training_curves(history, tmp_path / "curves.png"),
        metrics.plot_confusion_matrix(report["confusion_matrix"], report["labels"],
                                      tmp_path / "confusion.png"),
        metrics.plot_attention(np.random.default_rng(0).dirichlet(np.ones(4), size=3),
                               ["a", "b", "c", "<end>"], ["x", "y", "<end>"],
                               tmp_path / "attention.png"),
        metrics.plot_per_class_f1(report["per_class"], tmp_path / "f1.png"),
    ]


def test_plots_are_valid_non_blank_pngs(tmp_path):
    paths = _draw_all(tmp_path)
    assert len(paths) == 4
    for path in paths:
        _assert_png_not_blank(path)


def test_plots_without_matplotlib_print_one_line_and_return_none(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    assert _draw_all(tmp_path) == [None] * 4
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and all("matplotlib is not installed" in line for line in lines)
    assert list(tmp_path.iterdir()) == []


def test_plot_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="do not match"):
        metrics.plot_attention(np.ones((2, 3)), ["a", "b"], ["x", "y"], tmp_path / "a.png")
    with pytest.raises(ValueError, match="does not match"):
        metrics.plot_confusion_matrix(np.ones((2, 2)), ["a", "b", "c"], tmp_path / "c.png")
    with pytest.raises(ValueError, match="not in history"):
        metrics.plot_training_curves({"loss": [1.0]}, tmp_path / "t.png", metric="bleu")
