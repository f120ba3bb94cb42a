"""Keeps triton from crashing a process that also loads TensorFlow.

PyTorch's wheels on PyPI bring triton (the `[torch]` extra installs them).
TensorFlow loads its shared libraries with `RTLD_GLOBAL`, which puts the
LLVM it links into the process's global symbol scope. When triton's
`libtriton.so` (which links its own LLVM) is loaded after that, its static
initializers bind to TensorFlow's LLVM objects and the process dies with
SIGSEGV (seen with TF 2.21, torch 2.14.1, triton 3.8.0: `import tensorflow;
import triton` crashes in `_GLOBAL__sub_I_PassBuilder.cpp`; the other order
works). PyTorch imports triton lazily (`torch.compile`, its optimizers'
compiled paths), so the crash comes late, far from its cause.

The guard loads `libtriton.so` with `RTLD_DEEPBIND`, so that it resolves its
symbols in itself first, whichever of the two came first; Python's later
`import triton` finds the library already loaded. Importing rnnzoo runs it
when triton is installed and not yet imported (about 50 ms; Linux only,
where the crash happens).
"""

import glob
import importlib.util
import os
import sys


def load_triton_apart():
    """Loads triton's native library with its own symbols first; returns its
    path, or None when there is nothing to do."""
    if not sys.platform.startswith("linux") or not hasattr(os, "RTLD_DEEPBIND") or "triton" in sys.modules:
        return None
    try:
        spec = importlib.util.find_spec("triton")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    import ctypes

    libraries = sorted(glob.glob(os.path.join(os.path.dirname(spec.origin), "_C", "libtriton*.so")))
    for library in libraries:
        try:
            ctypes.CDLL(library, mode=os.RTLD_LOCAL | os.RTLD_NOW | os.RTLD_DEEPBIND)
        except OSError:
            return None  # a broken triton install: leave it to triton's own import to report
    return libraries[0] if libraries else None


load_triton_apart()
