import os
import sys

import keras
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tests/helpers.py, tests/reference_cells.py


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()
