import os
import sys

# The JAX run compiles hundreds of tiny models once each: XLA's backend
# optimizations cost more compile time than they save there (about a third
# of that run). The numbers are the same math; a user's own XLA_FLAGS win.
if os.environ.get("KERAS_BACKEND") == "jax":
    os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import keras  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))  # tests/helpers.py, tests/reference_cells.py


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(1234)
    yield
    # Without its full garbage collection, which walks the whole heap of a test session (TensorFlow, JAX, torch
    # and ONNX imported) after every test: 8% of a worker's time with `-n 2`, 29% of a one-process run.
    # Python's own collector still runs.
    keras.backend.clear_session(free_memory=False)
