import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo import cli, demo
from rnnzoo.data import END_ID, NUM_RESERVED, START_ID


def test_rnnzoo_list_prints_models_and_cells(capsys):
    cli.main(["list"])
    out = capsys.readouterr().out
    for name in ("many_to_one", "bilstm_tagger", "encoder_decoder", "lstm", "gru", "simple", "sentiment", "tagging"):
        assert name in out
    cli.main(["list", "*seq2seq*"])
    out = capsys.readouterr().out
    assert "lstm_seq2seq" in out and "bilstm_tagger" not in out
    assert "cells:" not in out and "recipes" not in out  # the filter applies to every section
    cli.main(["list", "*gru"])
    out = capsys.readouterr().out
    assert "min_gru" in out and "lstm" not in out.replace("bigru", "")
    cli.main(["list", "nothing*"])
    assert "nothing registered matches 'nothing*'" in capsys.readouterr().out


def test_unknown_names_are_spelled_right():
    with pytest.raises(ValueError, match="Registered topologies: "):
        rnnzoo.list_models(topology="many_to_two")


def test_every_option_has_help_and_run_help_lists_the_recipes(capsys):
    from recipes import RECIPES

    from rnnzoo.cli.arguments import config_parser
    from rnnzoo.configs import RECIPE_CONFIGS

    assert set(RECIPE_CONFIGS) == set(RECIPES)
    for name in RECIPES:
        parser = config_parser(RECIPE_CONFIGS[name], f"python -m recipes.{name}")
        undocumented = [a.option_strings[0] for a in parser._actions if a.option_strings and not a.help]
        assert not undocumented, (name, undocumented)
    for command in ("export", "predict", "evaluate", "list"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert text.count("(default:") == text.count("default:"), command  # no default printed twice
    assert cli.main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in RECIPES)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "sentiment", "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and out.startswith("usage: rnnzoo run sentiment")
    assert "--units UNITS units of each recurrent layer (default: 128)" in " ".join(out.split())
    assert "--data-root DATA_ROOT" in out and "(default: None)" not in out


def test_importing_rnnzoo_prints_no_tensorflow_start_up_lines():
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", "import rnnzoo, tensorflow; print(tensorflow.__version__)"],
                            capture_output=True, text=True, env=environment, timeout=300)
    assert result.returncode == 0 and result.stdout.strip()
    assert result.stderr == "", result.stderr[:500]


def test_demo_tasks_are_well_formed():
    rng = np.random.default_rng(0)
    inputs, labels, references = demo.make_task("encoder_decoder", 20, rng)
    assert (inputs["decoder_tokens"][:, 0] == START_ID).all()
    for row, reference, source in zip(labels, references, inputs["source_tokens"]):
        length = int((source != 0).sum())
        np.testing.assert_array_equal(reference, source[:length][::-1])
        np.testing.assert_array_equal(row[: length + 1], [*reference, END_ID])
    tokens, tags, _ = demo.make_task("bidirectional", 20, rng)
    digits = tokens[0][tokens[0] != 0] - NUM_RESERVED
    expected = [1 + (a > b) for a, b in zip(digits, list(digits[1:]) + [10])]
    np.testing.assert_array_equal(tags[0][: len(digits)], expected)


def test_demo_trains_every_topology_and_saves(tmp_path, capsys):
    results = demo.run(units=8, epochs=1, train_size=128, test_size=32, output_dir=str(tmp_path))
    assert set(results) == set(demo.DEMO_MODELS)
    for topology, result in results.items():
        if topology in demo.FORECASTERS:  # a forecast, scored by MSE
            assert 0.0 <= result["mse"] and 0.0 < result["naive_mse"]
        else:
            assert 0.0 <= result.get("accuracy", result.get("token_accuracy")) <= 1.0
        path = os.path.join(tmp_path, f"{topology}.keras")
        assert keras.saving.load_model(path).count_params() > 0
    assert "exact_match" in capsys.readouterr().out


def test_user_errors_print_one_line_and_exit_2(tmp_path, capsys):
    from rnnzoo.data.reading import DataFormatError

    bad = tmp_path / "reviews.txt"
    bad.write_text("1 fine\nunlabelled\n", encoding="utf-8")
    commands = [
        ["run", "sentiment", "--data", str(bad), "--smoke", "--output", str(tmp_path)],  # a bad file
        ["run", "sentiment", "--data", str(tmp_path / "missing.txt"), "--output", str(tmp_path)],  # no such data
        ["run", "no_such_recipe"],
        ["predict", str(tmp_path), "some text"],  # not a run folder
        ["evaluate", str(tmp_path), "--data", "builtin"],
    ]
    for command in commands:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(command)
        error = capsys.readouterr().err.strip()
        assert exit_info.value.code == 2 and "\n" not in error and "error: " in error, (command, error)
    assert "reviews.txt:2:" in cli_error(["run", "sentiment", "--data", str(bad), "--smoke", "--output",
                                          str(tmp_path)], capsys)
    with pytest.raises(DataFormatError, match="reviews.txt:2:"):  # --debug: the exception itself
        cli.main(["run", "sentiment", "--data", str(bad), "--smoke", "--output", str(tmp_path), "--debug"])


def cli_error(command, capsys):
    with pytest.raises(SystemExit):
        cli.main(command)
    return capsys.readouterr().err
