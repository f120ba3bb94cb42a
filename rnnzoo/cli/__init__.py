"""The `rnnzoo` command line: `rnnzoo list`, `rnnzoo demo`, `rnnzoo run RECIPE ...`,
`rnnzoo export RUN_DIR ...`, `rnnzoo predict RUN_DIR TEXT ...`,
`rnnzoo evaluate RUN_DIR --data PATH_OR_NAME`."""

import argparse
import sys


def _list(args):
    import rnnzoo
    from rnnzoo.cells.registry import get_cell
    from rnnzoo.topologies import get_model_entry

    import fnmatch

    models = rnnzoo.list_models(args.pattern)
    cells = rnnzoo.list_cells(args.pattern)
    recipes = {name: text for name, text in _recipes().items() if fnmatch.fnmatchcase(name, args.pattern)}
    if models:
        print("models (topology: description):")
        for name in models:
            entry = get_model_entry(name)
            kind = entry.topology if entry.is_variant else "topology"
            print(f"  {name:<26} {kind:<16} {entry.description}")
    if cells:
        print("cells:")
        for name in cells:
            print(f"  {name:<26} {get_cell(name).description}")
    if recipes:
        _print_recipes(recipes)
    if not (models or cells or recipes):
        print(f"nothing registered matches {args.pattern!r}")


def _recipes():
    from recipes import RECIPES

    return RECIPES


def _print_recipes(recipes):
    print("recipes (rnnzoo run NAME --help):")
    for name, description in recipes.items():
        print(f"  {name:<26} {description}")


def _run(name, rest):
    import importlib

    from rnnzoo.cli import arguments
    from rnnzoo.tasks import recipe as recipe_steps

    recipes = _recipes()
    if name is None or name in ("-h", "--help"):
        print("usage: rnnzoo run RECIPE [options]   (rnnzoo run RECIPE --help lists the options)")
        _print_recipes(recipes)
        return 0 if name is not None or {"-h", "--help"} & set(rest) else 2
    if name not in recipes:
        recipe_steps.fail(f"rnnzoo run: error: unknown recipe {name!r}; available: {', '.join(recipes)}.")
    arguments.INVOKED_AS = "rnnzoo run"  # usage lines read `rnnzoo run NAME`
    recipe_steps.command(importlib.import_module(f"recipes.{name}").main, rest)
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


def _info(args):
    from rnnzoo.tasks.run_folder import run_info

    print("\n".join(run_info(args.run_dir)))
    return 0


def _stdin_lines():
    """Non-blank lines of standard input as `(line number, text)`, read as
    they come (bounded memory) and decoded as UTF-8 (a BOM dropped); bytes
    that are not UTF-8 are an error naming the line."""
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise ValueError(f"standard input, line {number}: byte {raw[error.start:error.start + 1]!r} "
                             f"(column {error.start + 1}) is not UTF-8.") from None
        if line.strip():
            yield number, line


def _arguments(inputs):
    """The command line's inputs as `(position, text)`; an argument that is
    not valid UTF-8 (the shell passed bytes Python could not decode) is an
    error naming it."""
    for position, text in enumerate(inputs, start=1):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"input {position}: not valid UTF-8.") from None
        yield position, text


def _predict(args):
    from rnnzoo.tasks.run_folder import format_prediction, predict_run_folder

    numbered = _arguments(args.inputs) if args.inputs else _stdin_lines()
    where = "input" if args.inputs else "standard input, line"
    positions = []

    def texts():
        for position, text in numbered:
            positions.append((position, text))
            yield text

    printed = 0
    for result in predict_run_folder(args.run_dir, texts(), trust=args.trust,
                                     where=lambda index: f"{where} {positions[index][0]}"):
        print(format_prediction(positions[printed][1], result), flush=True)
        printed += 1
    if not printed:
        raise ValueError("give inputs as arguments or one per line on standard input.")
    return 0


def _evaluate(args):
    from rnnzoo.tasks.evaluation import evaluate_run_folder

    path, metrics = evaluate_run_folder(args.run_dir, args.data, split=args.split, root=args.data_root,
                                        download=args.download, encoding=args.encoding, images=args.images,
                                        output=args.output, trust=args.trust, backtest=args.backtest)
    headline = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
    print(f"{args.data} ({args.split}): {headline}")
    print(f"report: {path}")
    return 0


def _positive_int(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return int(text)


def _as_flags(message):
    """Library messages name Python arguments; on the command line they are flags."""
    for argument in ("sequence_length", "word_length"):
        message = message.replace(f"`{argument}`", argument).replace(argument, "--" + argument.replace("_", "-"))
    return message


def main(argv=None):
    from rnnzoo.cli.arguments import HelpFormatter
    from rnnzoo.configs import QUANTIZATIONS

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="rnnzoo", description="Recurrent networks for Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True)
    list_parser = commands.add_parser("list", help="registered models, cells and recipes",
                                      formatter_class=HelpFormatter)
    list_parser.add_argument("pattern", nargs="?", default="*", help="shell-style filter")
    commands.add_parser("demo", help="train one model per topology on toy data", add_help=False)
    run_parser = commands.add_parser("run", help="run a recipe (rnnzoo run sentiment --help)", add_help=False)
    run_parser.add_argument("recipe", nargs="?", help="recipe name (see rnnzoo list)")
    export_parser = commands.add_parser("export", help="export a run's model (SavedModel or TFLite)",
                                        formatter_class=HelpFormatter)
    export_parser.add_argument("run_dir", help="a recipe run folder (saved_models/<recipe>/<run>)")
    export_parser.add_argument("--format", choices=("saved_model", "tflite", "onnx"), default="tflite",
                               help="a SavedModel (dynamic shapes), a builtin-only TFLite file (batch 1), or an "
                                    "ONNX file (dynamic shapes; LSTM / GRU as ONNX ops; run with KERAS_BACKEND=torch)")
    export_parser.add_argument("--export-quantize", choices=QUANTIZATIONS, default=None, dest="quantize",
                               help="TFLite only: int8 weights, float16 weights, or int8 weights and activations "
                                    "(needs --sequence-length)")
    export_parser.add_argument("--sequence-length", type=int, default=None,
                               help="fixed input length (TFLite: needed for int8 and character encoders; ONNX: needed for cells other than lstm and gru)")
    export_parser.add_argument("--word-length", type=int, default=None,
                               help="characters per word (default: the run's word_encoder.json)")
    export_parser.add_argument("--streaming", action="store_true",
                               help="the one-step model with states in and out (unidirectional taggers)")
    export_parser.add_argument("--output", default=None,
                               help="where to write (unset: RUN_DIR/export/<format>[_<quantize>])")
    info_parser = commands.add_parser("info", help="what a finished run is: model, scores, recurrent kernels, exports",
                                      formatter_class=HelpFormatter)
    info_parser.add_argument("run_dir", help="a finished recipe run folder (saved_models/<recipe>/<run>)")
    predict_parser = commands.add_parser("predict", help="run a finished run's SavedModel on raw inputs",
                                         formatter_class=HelpFormatter)
    predict_parser.add_argument("run_dir", help="a recipe run folder (saved_models/<recipe>/<run>)")
    predict_parser.add_argument("inputs", nargs="*",
                                help="texts (sentiment, tagging, translation), documents or their text files "
                                     "(document classification), prompts (language model), image "
                                     "files (captioning), WAV files (speech) or CSV files of the series "
                                     "(forecasting: the next steps after each file's last rows); none given: lines "
                                     "of standard input")
    evaluate_parser = commands.add_parser(
        "evaluate", help="score a finished run on a file or dataset with its task's metric",
        formatter_class=HelpFormatter)
    evaluate_parser.add_argument("run_dir", help="a finished recipe run folder (saved_models/<recipe>/<run>)")
    evaluate_parser.add_argument("--data", required=True,
                                 help="a file (or folder) in the task's formats, a dataset name, or 'builtin'")
    evaluate_parser.add_argument("--split", default="test", help="which split of a dataset or split folder")
    evaluate_parser.add_argument("--data-root", default=None, help="folder holding named datasets")
    evaluate_parser.add_argument("--download", action="store_true", help="fetch a named dataset if missing")
    evaluate_parser.add_argument("--encoding", default="utf-8", help="text encoding of the data files")
    evaluate_parser.add_argument("--images", default=None, help="captioning: the folder of the captions file's images")
    evaluate_parser.add_argument("--backtest", type=_positive_int, default=None, metavar="K",
                                 help="global forecasting: score K rolling-origin cut-offs, a horizon apart, "
                                      "each and their mean (default: the last horizon only)")
    evaluate_parser.add_argument("--output", default=None,
                                 help="report path (unset: RUN_DIR/evaluations/<data>-<split>/metrics.json)")
    for command in (export_parser, info_parser, predict_parser, evaluate_parser):
        command.add_argument("--debug", action="store_true", help="show the traceback of an error")
    for command in (predict_parser, evaluate_parser):
        command.add_argument("--trust", action="store_true",
                             help="load the run's SavedModel even if its graph holds ops outside rnnzoo's "
                                  "allow-list (file, network or Python ops): a SavedModel is code, so only for "
                                  "a run folder you trust")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        return _run(args.recipe, rest)
    if args.command == "demo":
        from rnnzoo import demo

        return demo.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command in ("export", "info", "predict", "evaluate"):
        command = {"export": _export, "info": _info, "predict": _predict, "evaluate": _evaluate}[args.command]
        from rnnzoo.tasks.recipe import error_line, fail, is_user_error

        try:
            return command(args)
        except Exception as error:  # noqa: BLE001  (a user's error becomes one line; a bug keeps its traceback)
            if args.debug or not is_user_error(error):
                raise
            fail(f"rnnzoo {args.command}: error: {_as_flags(error_line(error))}")
    return _list(args)


if __name__ == "__main__":
    main()
