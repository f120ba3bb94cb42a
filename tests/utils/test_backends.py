"""Models move between backends: saved under one, loaded under another,
with the same outputs (within 1e-5), and trained and saved there (torch)
and back.
Each side runs in a process of its own (tests/backend_roundtrip.py): a process
has one Keras backend. Also: triton (brought by PyTorch's wheels) loads beside
TensorFlow once rnnzoo is imported (rnnzoo/utils/triton_guard.py)."""

import importlib.util
import os
import subprocess
import sys

import pytest

ROUNDTRIP = os.path.join(os.path.dirname(os.path.dirname(__file__)), "backend_roundtrip.py")


def run(backend, *arguments):
    environment = dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="")
    result = subprocess.run([sys.executable, ROUNDTRIP, *arguments], env=environment, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"{backend} {arguments[0]}:\n{result.stdout}\n{result.stderr[-3000:]}"
    return result.stdout


def test_models_saved_on_tensorflow_load_on_torch_and_jax_and_back(tmp_path):
    pytest.importorskip("torch", reason="PyTorch is the [torch] extra: pip install -e '.[torch]'")
    pytest.importorskip("jax", reason="JAX is in the [test] extra")
    folders = {name: tmp_path / name for name in ("tensorflow", "torch")}
    for folder in folders.values():
        folder.mkdir()
    run("tensorflow", "save", str(folders["tensorflow"]))
    report = run("torch", "check", str(folders["tensorflow"]), "--train-and-save", str(folders["torch"]))
    # JAX loads them; models trained on JAX come back to TensorFlow in the recipe test
    # (tests/tasks/test_recipes.py, `--backend jax`), which TensorFlow then evaluates and exports.
    report += run("jax", "check", str(folders["tensorflow"]))
    report += run("tensorflow", "check", str(folders["torch"]))  # and back
    assert report.count("max |difference|") == 3 * 3, report


def test_triton_loads_beside_tensorflow_once_rnnzoo_is_imported():
    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton is not installed (it comes with PyTorch's CUDA wheels: pip install -e '.[torch]')")
    code = "import tensorflow, rnnzoo, triton; print(triton.__version__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"


def test_a_backend_without_its_package_is_named_with_the_install():
    from rnnzoo.utils.backends import missing_backend_package

    def absent(name):
        return None

    assert missing_backend_package({"KERAS_BACKEND": "torch"}, absent) == (
        'KERAS_BACKEND=torch needs torch, which is not installed: pip install -e ".[torch]"')
    assert "jax" in missing_backend_package({"KERAS_BACKEND": "jax"}, absent)
    assert missing_backend_package({"KERAS_BACKEND": "torch"}, lambda name: object()) is None
    assert missing_backend_package({"KERAS_BACKEND": "tensorflow"}, absent) is None
    assert missing_backend_package({}, absent) is None
