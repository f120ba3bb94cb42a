"""What every recipe shares: command-line options, run folders that resume
after a crash, the epoch loop with checkpoints and early stopping, and where
`--data` points."""

from rnnzoo.training.loop import TrainingError, fit
from rnnzoo.training.options import config_options, parse_config, recipe_parser
from rnnzoo.training.runs import RunFolder

__all__ = ["RunFolder", "TrainingError", "config_options", "fit", "parse_config", "recipe_parser"]
