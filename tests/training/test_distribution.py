"""`--distribute`: a recipe trained by a 2-worker `MultiWorkerMirroredStrategy`
cluster of local processes gives the single-device losses for the same global
batch; mirrored training over 2 logical CPU devices (TensorFlow) and JAX
`DataParallel` over 2 host devices give a tagger's single-device losses (the
recipe reaches either strategy through the same `get_distribution`). Every
case runs in its own process, since devices are fixed when TensorFlow or JAX
start."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from rnnzoo.training.distribution import get_distribution

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = ["-m", "recipes.sentiment", "--smoke", "--epochs", "2", "--units", "8", "--dropout", "0",
          "--batch-size", "16", "--verbose", "0", "--export-quantize"]
TOLERANCE = 1e-5


def _env(**changes):
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CONFIG", "KERAS_BACKEND")}
    return {**env, "PYTHONPATH": ROOT, **changes}


def _history(output):
    (run,) = os.listdir(os.path.join(output, "sentiment"))
    with open(os.path.join(output, "sentiment", run, "state.json")) as f:
        return json.load(f)["history"]


def _check(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="module")
def single_device(tmp_path_factory):
    output = str(tmp_path_factory.mktemp("none"))
    _check(subprocess.run([sys.executable, *RECIPE, "--output", output], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=600))
    return _history(output)


def _assert_same_history(found, expected):
    assert set(found) == set(expected)
    for name in expected:
        np.testing.assert_allclose(found[name], expected[name], rtol=TOLERANCE, err_msg=name)


def test_two_local_workers_match_one_device_and_only_the_chief_writes(tmp_path, single_device):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = [
        subprocess.Popen([sys.executable, *RECIPE, "--output", str(tmp_path), "--distribute", "multiworker"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=_env(TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})))
        for i in range(2)
    ]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    assert "2 replicas" in outputs[0][0]
    assert len(os.listdir(tmp_path / "sentiment")) == 1  # worker 1 wrote to a scratch folder
    _assert_same_history(_history(str(tmp_path)), single_device)


# Softmax and CRF taggers, trained with SGD (whose steps scale with the
# gradient, unlike Adam's) on sentences of unequal lengths, so that a loss
# averaged per replica instead of over the global batch would show.
PARITY_SCRIPT = r"""
import contextlib, json
import keras, numpy as np, rnnzoo
from rnnzoo.training.distribution import get_distribution

def losses(output_layer, distribution=None):
    keras.utils.set_random_seed(0)
    with distribution.scope() if distribution else contextlib.nullcontext():
        model = rnnzoo.build_model("many_to_many", vocab_size=30, num_classes=5, units=8, embedding_dim=8,
                                   dropout=0.0, output_layer=output_layer, compile=False)
        model.compile(optimizer=keras.optimizers.SGD(0.5))
    if distribution:
        distribution.prepare(model)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=(32, 9)).astype("int32")
    x[:12, 3:] = 0
    y = (x % 4 + 1) * (x > 0)
    return model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history["loss"]

layers = ("softmax", "crf")
if keras.backend.backend() == "jax":
    # DataParallel is global on JAX: train on one device first (the host
    # devices come from XLA_FLAGS, set by the test).
    one = {layer: losses(layer) for layer in layers}
    distribution = get_distribution("mirrored")
else:
    distribution = get_distribution("mirrored", cpu_devices=2)  # before TensorFlow starts
    one = {layer: losses(layer) for layer in layers}
found = {"replicas": distribution.num_replicas}
for layer in layers:
    found[layer + "_one"], found[layer + "_all"] = one[layer], losses(layer, distribution)
print(json.dumps(found))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_tagger_losses_under_data_parallel_match_one_device(backend):
    env = _env(KERAS_BACKEND=backend, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    result = _check(subprocess.run([sys.executable, "-c", PARITY_SCRIPT], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=600))
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["replicas"] == 2
    for layer in ("softmax", "crf"):
        # Keras' own masked losses under tf.distribute average each
        # replica's token mean (the CRF loss divides by the global token
        # count, so it is exact): close, not equal, for unequal lengths.
        tolerance = 1e-3 if backend == "tensorflow" and layer == "softmax" else TOLERANCE
        np.testing.assert_allclose(found[f"{layer}_all"], found[f"{layer}_one"], rtol=tolerance, err_msg=layer)
        assert found[f"{layer}_one"][-1] < found[f"{layer}_one"][0]


def test_bad_distribution_options_are_clear(monkeypatch):
    with pytest.raises(ValueError, match="distribute='ring': expected one of none, mirrored, multiworker"):
        get_distribution("ring")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="reads the cluster from the TF_CONFIG environment variable"):
        get_distribution("multiworker")
    with pytest.raises(ValueError, match="cpu_devices must be >= 1"):
        get_distribution("none", cpu_devices=0)
