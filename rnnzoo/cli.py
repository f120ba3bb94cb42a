"""The `rnnzoo` command line: `rnnzoo list`, `rnnzoo demo`, `rnnzoo run RECIPE ...`."""

import argparse
import sys


def _list(args):
    import rnnzoo
    from rnnzoo.cells.registry import get_cell
    from rnnzoo.topologies import get_model_entry

    print("models (topology: description):")
    for name in rnnzoo.list_models(args.pattern):
        entry = get_model_entry(name)
        kind = entry.topology if entry.is_variant else "topology"
        print(f"  {name:<26} {kind:<16} {entry.description}")
    print("cells:")
    for name in rnnzoo.list_cells():
        print(f"  {name:<26} {get_cell(name).description}")
    print("recipes (rnnzoo run NAME --help):")
    for name, description in _recipes().items():
        print(f"  {name:<26} {description}")


def _recipes():
    from recipes import RECIPES

    return RECIPES


def _run(name, rest):
    import importlib

    recipes = _recipes()
    if name not in recipes:
        raise SystemExit(f"rnnzoo run: unknown recipe {name!r}; available: {', '.join(recipes)}.")
    importlib.import_module(f"recipes.{name}").main(rest)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="rnnzoo", description="Recurrent networks for Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True)
    list_parser = commands.add_parser("list", help="registered models and cells")
    list_parser.add_argument("pattern", nargs="?", default="*", help="shell-style filter")
    commands.add_parser("demo", help="train one model per topology on toy data", add_help=False)
    run_parser = commands.add_parser("run", help="run a recipe (rnnzoo run sentiment --help)", add_help=False)
    run_parser.add_argument("recipe", help="recipe name (see rnnzoo list)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        return _run(args.recipe, rest)
    if args.command == "demo":
        from rnnzoo import demo

        return demo.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return _list(args)


if __name__ == "__main__":
    main()
