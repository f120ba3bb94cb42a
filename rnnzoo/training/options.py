"""Command-line options shared by every recipe (`python -m recipes.NAME
--help`). A recipe adds its own options to the parser this returns, and
`parse_config` turns the command line into the run's configuration: a
frozen dataclass with one field per option, which is all the library sees
(`dataclasses.replace(config, ...)` derives a changed one)."""

import argparse
import dataclasses

from rnnzoo.cells import list_cells
from rnnzoo.training.distribution import CHOICES as DISTRIBUTE_CHOICES


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _rate(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _decay(text):
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


# How recipes are being run: `rnnzoo run` sets "rnnzoo run" (usage lines then
# read `rnnzoo run sentiment`, not `python -m recipes.sentiment`).
INVOKED_AS = None


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, except where there is
    none to show (None, or an off switch)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def recipe_parser(prog, description, **defaults):
    """An `argparse.ArgumentParser` with the shared options; `defaults`
    override their default values (e.g. `units=256`)."""
    if INVOKED_AS:
        prog = f"{INVOKED_AS} {prog.rsplit('.', 1)[-1]}"
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=HelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--data", default="builtin",
                      help="'builtin' (generated, no download), a dataset name, or a path to files in a "
                           "standard format")
    data.add_argument("--data-root", default=None,
                      help="folder holding named datasets (unset: $RNNZOO_DATA, then the download cache)")
    data.add_argument("--download", action="store_true",
                      help="download a named dataset (checksummed, into the cache) when it is not found locally")
    data.add_argument("--max-examples", type=_positive_int, default=None,
                      help="use at most this many training examples")
    data.add_argument("--encoding", default="utf-8", help="text encoding of --data files (e.g. latin-1)")

    model = parser.add_argument_group("model")
    model.add_argument("--cell", default="lstm", choices=list_cells(), metavar="CELL",
                       help=f"recurrent cell: {', '.join(list_cells())}")
    model.add_argument("--units", type=_positive_int, default=128, help="units of each recurrent layer")
    model.add_argument("--layers", type=_positive_int, default=1, dest="num_layers",
                       help="stacked recurrent layers")
    model.add_argument("--embedding-dim", type=_positive_int, default=128, help="size of the token embeddings")
    model.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=True,
                       help="read the input both ways (encoders and taggers)")
    model.add_argument("--cell-option", type=_cell_option, action="append", default=None, dest="cell_options",
                       metavar="KEY=VALUE",
                       help="an option of the cell, repeatable (e.g. --cell-option block=true: the paper's "
                            "residual block around a modern cell; --cell-option heads=8)")
    model.add_argument("--dropout", type=_rate, default=0.3,
                       help="input dropout of each recurrent layer and before the output layer")

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=_positive_int, default=10, help="the most epochs to train")
    training.add_argument("--batch-size", type=_positive_int, default=32,
                          help="examples per batch (the global batch with --distribute)")
    training.add_argument("--learning-rate", type=_positive_float, default=1e-3, help="Adam's learning rate")
    training.add_argument("--time-limit", type=_positive_float, default=None, metavar="MINUTES",
                          help="stop training after this much wall time (the epoch under way is cut short, "
                               "validated and kept); for comparisons at an equal training time")
    training.add_argument("--clipnorm", type=_positive_float, default=1.0,
                          help="clip gradients to this global norm")
    training.add_argument("--patience", type=_positive_int, default=3,
                          help="stop after this many epochs without a better validation score")
    training.add_argument("--lr-decay", type=_decay, default=1.0,
                          help="multiply the learning rate by this after each epoch without a better validation "
                               "score (1: never)")
    training.add_argument("--seed", type=int, default=0,
                          help="seeds the data split, shuffling, initial weights and dropout")
    training.add_argument("--deterministic", action=argparse.BooleanOptionalAction, default=True,
                          help="TensorFlow op determinism: the same seed and data give the same metrics "
                               "(on GPU some kernels are slower; --no-deterministic trades that for speed)")
    training.add_argument("--smoke", action="store_true",
                          help="two training steps per epoch and small evaluations (for tests)")
    training.add_argument("--distribute", default="none", choices=DISTRIBUTE_CHOICES,
                          help="data-parallel training: 'mirrored' over this machine's GPUs (or --cpu-devices), "
                               "'multiworker' over the cluster in TF_CONFIG; --batch-size is the global batch")
    training.add_argument("--cpu-devices", type=_positive_int, default=None,
                          help="split the CPU into this many logical devices (to try --distribute without GPUs)")
    training.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                          help="Keras progress: 0 silent, 1 progress bar, 2 one line per epoch")
    training.add_argument("--debug", action="store_true", help="show the traceback of an error, not one line")

    output = parser.add_argument_group("output")
    output.add_argument("--output", default="saved_models", help="where run folders go")
    output.add_argument("--run", default=None,
                        help="run folder name, one folder under OUTPUT/RECIPE (no '/' or '..'; default: derived "
                             "from the options, so the same command finds and resumes the same run)")
    output.add_argument("--restart", action="store_true",
                        help="empty the run folder of the same name and train from scratch (only a folder rnnzoo "
                             "made: one holding run.json)")
    output.add_argument("--export-quantize", nargs="*", default=["dynamic"], choices=("dynamic", "float16", "int8"),
                        help="TFLite quantizations exported besides float32, each scored on validation data "
                             "(int8 fixes the input length to the longest training example)")
    parser.set_defaults(**defaults)
    return parser


def _cell_option(text):
    """`KEY=VALUE`, the value read as a bool, int, float or else a string."""
    key, separator, value = text.partition("=")
    if not separator or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. block=true, heads=2), got {text!r}")
    lowered = value.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    return key, value


def parse_config(parser, argv=None):
    """Parse `argv` with `parser` into a frozen dataclass (`RecipeConfig`)
    whose fields are the options, typed by their parsed values. Bad options
    exit with argparse's usage message (status 2)."""
    values = vars(parser.parse_args(argv))
    if "cell_options" in values and values["cell_options"] is not None:  # [(key, value), ...] -> dict
        values["cell_options"] = dict(values["cell_options"])
    fields = [(name, type(value) if value is not None else object) for name, value in values.items()]
    config_class = dataclasses.make_dataclass("RecipeConfig", fields, frozen=True)
    config_class.__doc__ = f"The options of `{parser.prog}`."
    return config_class(**values)


def config_options(config):
    """The configuration as a plain dict (run folders, reports, cards)."""
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"expected a recipe configuration dataclass (parse_config), got {type(config).__name__}.")
    return dataclasses.asdict(config)
