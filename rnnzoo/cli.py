"""The `rnnzoo` command line: `rnnzoo list`, `rnnzoo demo`."""

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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="rnnzoo", description="Recurrent networks for Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True)
    list_parser = commands.add_parser("list", help="registered models and cells")
    list_parser.add_argument("pattern", nargs="?", default="*", help="shell-style filter")
    commands.add_parser("demo", help="train one model per topology on toy data", add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        from rnnzoo import demo

        return demo.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return _list(args)


if __name__ == "__main__":
    main()
