"""Recurrent cells: the registry and the cells that ship with rnnzoo.

A new cell goes in its own module here and registers itself with
`@register_cell`; import that module below so it is registered on import.
"""

from rnnzoo.cells import standard  # noqa: F401  (registers simple, lstm, gru)
from rnnzoo.cells import indrnn, layer_norm_lstm, min_rnn, qrnn, sru  # noqa: F401  (the efficient cells)
from rnnzoo.cells import delta_rule, linear_recurrent, state_space, xlstm  # noqa: F401  (the modern families)
from rnnzoo.cells.projected import ProjectedCell, ProjectedRNN
from rnnzoo.cells.registry import CellSpec, get_cell, list_cells, register_cell

__all__ = ["CellSpec", "ProjectedCell", "ProjectedRNN", "get_cell", "list_cells", "register_cell"]
