"""The command line of a config class (`rnnzoo.configs`): one flag per field,
with the field's type, default, help, choices and check, grouped as the
config's groups are (data, model, training, output, the recipe's own).

```python
config = parse_config(TaggingConfig, ["--task", "ner"], prog="python -m recipes.tagging")
```
"""

import argparse
import dataclasses

from rnnzoo.configs import RecipeConfig, command_flag, field_choices, value_type

# How recipes are being run: `rnnzoo run` sets "rnnzoo run" (usage lines then
# read `rnnzoo run sentiment`, not `python -m recipes.sentiment`).
INVOKED_AS = None
GROUPS = {"DataConfig": "data", "ModelConfig": "model", "TrainingConfig": "training", "OutputConfig": "output"}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, except where there is
    none to show (None, or an off switch)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        if isinstance(action.default, tuple):  # `(default: dynamic)`, not `('dynamic',)`
            shown = " ".join(map(str, action.default)) or "none"
            return f"{action.help} (default: {shown})"
        return super()._get_help_string(action)


def cell_option(text):
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


def _value_parser(field):
    """`text -> value` for argparse: the field's type, then its check (its
    choices are argparse's own)."""
    kind = value_type(field)

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
        check = field.metadata.get("check")
        error = check(value) if check is not None else None
        if error:
            raise argparse.ArgumentTypeError(error)
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its errors
    return parse


def _group_name(config_class, field):
    """The shared group that declares `field`, or the recipe's own group."""
    for cls in reversed(config_class.__mro__):
        if field.name in cls.__dict__.get("__annotations__", {}) and cls.__name__ in GROUPS:
            return GROUPS[cls.__name__]
    return config_class.GROUP or "options"


def add_field(group, field):
    flag = command_flag(field)
    common = {"dest": field.name, "default": field.default, "help": field.metadata.get("help")}
    if field.metadata.get("metavar"):
        common["metavar"] = field.metadata["metavar"]
    if value_type(field) is bool:
        negatable = field.default is True or field.metadata.get("negatable")
        group.add_argument(flag, action=argparse.BooleanOptionalAction if negatable else "store_true", **common)
    elif value_type(field) is dict:
        group.add_argument(flag, type=cell_option, action="append", **common)
    else:
        group.add_argument(flag, type=_value_parser(field), choices=field_choices(field), nargs=field.metadata.get("nargs"),
                           **common)


def config_parser(config_class, prog):
    """An `argparse.ArgumentParser` with a flag per field of `config_class`."""
    if INVOKED_AS:
        prog = f"{INVOKED_AS} {prog.rsplit('.', 1)[-1]}"
    description = (config_class.__doc__ or "").strip().split("\n")[0]
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=HelpFormatter)
    groups = {}
    for field in dataclasses.fields(config_class):
        name = _group_name(config_class, field)
        if name not in groups:
            groups[name] = parser.add_argument_group(name)
        add_field(groups[name], field)
    return parser


def parse_config(config_class, argv=None, *, prog):
    """The command line `argv` as a `config_class` (frozen dataclass). Bad
    options exit with argparse's usage message (status 2)."""
    if not (isinstance(config_class, type) and issubclass(config_class, RecipeConfig)):
        raise TypeError(f"expected a config class of rnnzoo.configs, got {config_class!r}.")
    parser = config_parser(config_class, prog)
    values = vars(parser.parse_args(argv))
    for field in dataclasses.fields(config_class):
        value = values[field.name]
        if isinstance(value, list) and value_type(field) is dict:
            values[field.name] = dict(value)
        elif isinstance(value, list):
            values[field.name] = tuple(value)
    try:
        return config_class(**values)
    except ValueError as error:  # a combination the flags alone cannot check
        parser.error(str(error))


__all__ = ["HelpFormatter", "config_parser", "parse_config"]
