"""Lazy package attributes (PEP 562): names whose modules import TensorFlow
or tensorflow-text load on first use, so `import rnnzoo` stays light (under
the JAX backend TensorFlow is not imported until data or export is used)."""

import importlib


def lazy_attributes(package, names_by_module):
    """Return (`__getattr__`, `__dir__`) for `package` that import
    `module` the first time one of its `names` is read."""
    module_of = {name: module for module, names in names_by_module.items() for name in names}

    def __getattr__(name):
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_of[name]), name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value  # later reads skip __getattr__
        return value

    def __dir__():
        return sorted(set(importlib.import_module(package).__dict__) | set(module_of))

    return __getattr__, __dir__
