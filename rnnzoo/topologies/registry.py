"""The model registry behind `build_model` (timm style).

Two kinds of entries: a *topology* is a fully parameterized builder (a
model class or function); a *variant* is a small registered function that
returns defaults for one topology. `build_model(name, **kwargs)` merges a
variant's defaults with the user's keyword arguments (the user's win).
"""

import dataclasses
import difflib
import fnmatch
import inspect
from typing import Callable

from rnnzoo.cells.registry import unknown_name_message

_MODELS = {}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    topology: str
    builder: Callable  # the topology's builder
    defaults: Callable = None  # variants only: () -> dict of defaults
    description: str = ""

    @property
    def is_variant(self):
        return self.defaults is not None

    def default_arguments(self):
        return dict(self.defaults()) if self.defaults else {}


def _add(entry):
    if entry.name in _MODELS:
        raise ValueError(f"A model named {entry.name!r} is already registered.")
    _MODELS[entry.name] = entry


def _first_line(function):
    return (function.__doc__ or "").strip().split("\n")[0]


def register_topology(name, builder):
    """Registers a topology builder (a model class or function) under `name`."""
    _add(ModelEntry(name, name, builder, None, _first_line(builder)))
    return builder


def register_model(topology):
    """Decorator registering a variant of `topology`, named after the function.

    The function takes no arguments and returns the defaults it fixes:
    ```python
    @register_model("many_to_many")
    def bilstm_tagger():
        "BiLSTM tagger (Huang et al. 2015)."
        return dict(cell="lstm", bidirectional=True)
    ```
    """
    if topology not in _MODELS or _MODELS[topology].is_variant:
        raise ValueError(unknown_name_message("topology", topology, list_topologies()))

    def decorator(defaults_function):
        _add(ModelEntry(
            defaults_function.__name__, topology, _MODELS[topology].builder,
            defaults_function, _first_line(defaults_function),
        ))
        return defaults_function

    return decorator


def get_model_entry(name):
    if name not in _MODELS:
        raise ValueError(unknown_name_message("model", name, _MODELS))
    return _MODELS[name]


def list_topologies():
    return sorted(name for name, entry in _MODELS.items() if not entry.is_variant)


def list_models(pattern="*", topology=None):
    """Registered model names matching a shell-style `pattern`, optionally
    only those of one `topology`."""
    if topology is not None and topology not in list_topologies():
        raise ValueError(unknown_name_message("topology", topology, list_topologies()))
    return sorted(
        name
        for name, entry in _MODELS.items()
        if fnmatch.fnmatchcase(name, pattern)
        and (topology is None or entry.topology == topology)
    )


def _accepted_arguments(builder):
    """Names a builder accepts, following `**kwargs` into the topology
    classes a builder function may dispatch to."""
    target = builder.__init__ if inspect.isclass(builder) else builder
    names = set(inspect.signature(target).parameters) - {"self", "kwargs"}
    names |= {"name", "dtype", "trainable"}  # keras.Model arguments
    for candidate in getattr(builder, "dispatches_to", ()):
        names |= _accepted_arguments(candidate)
    return names


def build_model(name, **kwargs):
    """Builds a registered topology or variant; returns a compiled
    `keras.Model` (pass `compile=False` to skip compiling).

    Raises `ValueError` for an unknown name (with close matches), an unknown
    argument (with close matches) or an invalid argument combination.
    """
    entry = get_model_entry(name)
    accepted = _accepted_arguments(entry.builder)
    for argument in kwargs:
        if argument not in accepted:
            close = difflib.get_close_matches(argument, accepted, n=3, cutoff=0.6)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise ValueError(
                f"build_model({name!r}): unknown argument `{argument}`.{hint} "
                f"Accepted: {', '.join(sorted(accepted))}."
            )
    return entry.builder(**{**entry.default_arguments(), **kwargs})
