"""The cell registry shared by every topology.

A cell is registered as a factory that returns a Keras recurrent *sequence*
layer (`keras.layers.LSTM`, or `keras.layers.RNN(SomeCell(...))` for cells Keras
lacks). Every topology builds its recurrent stacks through `get_cell(name)`,
so one registration makes a cell available everywhere.

The layer a factory returns must follow the Keras recurrent layer contract:
`return_sequences`, `return_state`, `go_backwards` (for `Bidirectional`),
`initial_state=` and masks, and it must serialize with `get_config`.
"""

import dataclasses
import difflib
import fnmatch
from typing import Callable

_CELLS = {}


@dataclasses.dataclass(frozen=True)
class CellSpec:
    """What the topologies need to know about a registered cell.

    Attributes:
        name: registry name, e.g. `"lstm"`.
        factory: `factory(units, *, return_sequences, return_state, dropout,
            recurrent_dropout, name, **cell_options)` -> a recurrent layer.
        num_states: how many state tensors the layer carries with its default
            options (LSTM: h and c); an option may add some (a paper block's
            convolution), so the topologies count a built layer's own.
        description: one line for `list_cells` listings.
    """

    name: str
    factory: Callable
    num_states: int
    description: str = ""

    def build(
        self,
        units,
        *,
        return_sequences,
        return_state,
        dropout=0.0,
        recurrent_dropout=0.0,
        name=None,
        **cell_options,
    ):
        return self.factory(
            units,
            return_sequences=return_sequences,
            return_state=return_state,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            name=name,
            **cell_options,
        )


def register_cell(name, *, num_states, description=""):
    """Decorator registering a cell factory under `name`.

    Example:
    ```python
    @rnnzoo.register_cell("my_lstm", num_states=2)
    def my_lstm(units, **options):
        return keras.layers.RNN(MyLSTMCell(units), **options)
    ```
    Raises `ValueError` when `name` is already registered.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"register_cell: `name` must be a non-empty string, got {name!r}.")
    if not isinstance(num_states, int) or num_states < 1:
        raise ValueError(
            f"register_cell({name!r}): `num_states` must be a positive integer, "
            f"got {num_states!r}."
        )

    def decorator(factory):
        if name in _CELLS:
            raise ValueError(
                f"A cell named {name!r} is already registered "
                f"(by {_CELLS[name].factory.__module__}); choose another name."
            )
        doc = description or (factory.__doc__ or "").strip().split("\n")[0]
        _CELLS[name] = CellSpec(name, factory, num_states, doc)
        return factory

    return decorator


def get_cell(name):
    """Returns the `CellSpec` registered under `name`, or raises `ValueError`."""
    if isinstance(name, CellSpec):
        return name
    if name not in _CELLS:
        raise ValueError(unknown_name_message("cell", name, _CELLS))
    return _CELLS[name]


def list_cells(pattern="*"):
    """Sorted names of the registered cells matching a shell-style `pattern`."""
    return sorted(n for n in _CELLS if fnmatch.fnmatchcase(n, pattern))


def unknown_name_message(kind, name, known):
    """The error text for an unknown registry name, with close matches."""
    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    plural = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
    return f"Unknown {kind} {name!r}.{hint} Registered {plural}: {', '.join(sorted(known))}."
