"""What every recipe shares: run folders that resume after a crash, the
epoch loop with checkpoints and early stopping, learning-rate and sampling
schedules, pruning and data-parallel distribution. The recipes' options are
written down in `rnnzoo.configs`; their command line is `rnnzoo.cli`."""

from rnnzoo.training.loop import TrainingError, fit
from rnnzoo.training.runs import RunFolder

__all__ = ["RunFolder", "TrainingError", "fit"]
