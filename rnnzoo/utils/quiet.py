"""TensorFlow's start-up lines (oneDNN, CUDA drivers, CPU features), printed
by its C++ runtime to stderr while it is imported, before its logging can
be configured: `TF_CPP_MIN_LOG_LEVEL` does not reach them (TF 2.21 prints
them twice). rnnzoo imports TensorFlow with stderr pointed at /dev/null for
that moment, unless the user chose a level themselves (`TF_CPP_MIN_LOG_LEVEL`
set in the environment), or TensorFlow is already imported. Python errors
and warnings are not affected: only what the C++ runtime writes while
TensorFlow loads. Importing this module does it (rnnzoo's `__init__` imports
it first)."""

import os
import sys


def import_tensorflow_quietly():
    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return  # JAX or torch users: TensorFlow loads later, if at all
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # later C++ lines too (on a CPU: "failed call to cuInit")
    try:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no stderr to redirect (a closed descriptor): import as it comes
        return
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    except ImportError:
        pass  # another backend without TensorFlow installed: nothing to silence
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


import_tensorflow_quietly()
