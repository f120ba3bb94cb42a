"""The `rnnzoo` command line: `rnnzoo list`, `rnnzoo demo`, `rnnzoo run RECIPE ...`,
`rnnzoo export RUN_DIR ...`, `rnnzoo predict RUN_DIR TEXT ...`,
`rnnzoo evaluate RUN_DIR --data PATH_OR_NAME`."""

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


def _export(args):
    from rnnzoo.tasks.run_folder import export_run_folder

    folder, report = export_run_folder(args.run_dir, args.format, args.quantize, args.sequence_length,
                                       args.word_length, args.streaming, args.output)
    size = report["size_bytes"] / 1024
    parity = report["parity"]
    print(f"{report['format']}{' ' + report['quantize'] if report['quantize'] else ''}: {folder} ({size:,.0f} KB); "
          f"max |diff| vs Keras {parity['max_abs_diff']:.2e} on {parity['examples']} random valid inputs")
    if "stream_parity" in report:
        print(f"streaming: stepped through whole sequences, max |diff| {report['stream_parity']['max_abs_diff']:.2e}")
    print(f"inputs: {report['inputs']}")
    return 0


def _predict(args):
    import sys

    from rnnzoo.tasks.run_folder import format_prediction, predict_run_folder

    texts = args.inputs or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise SystemExit("rnnzoo predict: give inputs as arguments or one per line on standard input.")
    for text, result in zip(texts, predict_run_folder(args.run_dir, texts)):
        print(format_prediction(text, result))
    return 0


def _evaluate(args):
    from rnnzoo.tasks.evaluation import evaluate_run_folder

    path, metrics = evaluate_run_folder(args.run_dir, args.data, split=args.split, root=args.data_root,
                                        download=args.download, encoding=args.encoding, images=args.images,
                                        output=args.output)
    headline = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
    print(f"{args.data} ({args.split}): {headline}")
    print(f"report: {path}")
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
    export_parser = commands.add_parser("export", help="export a run's model (SavedModel or TFLite)")
    export_parser.add_argument("run_dir", help="a recipe run folder (saved_models/<recipe>/<run>)")
    export_parser.add_argument("--format", choices=("saved_model", "tflite"), default="tflite")
    export_parser.add_argument("--quantize", choices=("dynamic", "float16", "int8"), default=None)
    export_parser.add_argument("--sequence-length", type=int, default=None,
                               help="fixed input length (TFLite; needed for int8 and character encoders)")
    export_parser.add_argument("--word-length", type=int, default=None,
                               help="characters per word (default: the run's word_encoder.json)")
    export_parser.add_argument("--streaming", action="store_true",
                               help="the one-step model with states in and out (unidirectional taggers)")
    export_parser.add_argument("--output", default=None, help="default: RUN_DIR/export/<format>[_<quantize>]")
    predict_parser = commands.add_parser("predict", help="run a finished run's SavedModel on raw inputs")
    predict_parser.add_argument("run_dir", help="a recipe run folder (saved_models/<recipe>/<run>)")
    predict_parser.add_argument("inputs", nargs="*",
                                help="texts (sentiment, translation; for tagging, space-separated words), image "
                                     "files (captioning) or WAV files (speech); default: lines of standard input")
    evaluate_parser = commands.add_parser(
        "evaluate", help="score a finished run on a file or dataset with its task's metric",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    evaluate_parser.add_argument("run_dir", help="a finished recipe run folder (saved_models/<recipe>/<run>)")
    evaluate_parser.add_argument("--data", required=True,
                                 help="a file (or folder) in the task's formats, a dataset name, or 'builtin'")
    evaluate_parser.add_argument("--split", default="test", help="which split of a dataset or split folder")
    evaluate_parser.add_argument("--data-root", default=None, help="folder holding named datasets")
    evaluate_parser.add_argument("--download", action="store_true", help="fetch a named dataset if missing")
    evaluate_parser.add_argument("--encoding", default="utf-8", help="text encoding of the data files")
    evaluate_parser.add_argument("--images", default=None, help="captioning: the folder of the captions file's images")
    evaluate_parser.add_argument("--output", default=None,
                                 help="report path (default: RUN_DIR/evaluations/<data>-<split>/metrics.json)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        return _run(args.recipe, rest)
    if args.command == "demo":
        from rnnzoo import demo

        return demo.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command in ("export", "predict", "evaluate"):
        command = {"export": _export, "predict": _predict, "evaluate": _evaluate}[args.command]
        try:
            return command(args)
        except (ValueError, FileNotFoundError) as error:
            raise SystemExit(f"rnnzoo {args.command}: {error}") from None
    return _list(args)


if __name__ == "__main__":
    main()
