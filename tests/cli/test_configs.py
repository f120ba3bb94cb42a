"""The recipes' configs (`rnnzoo.configs`) and the command line built from
them (`rnnzoo.cli.arguments`)."""

import dataclasses

import pytest

from rnnzoo import configs
from rnnzoo.cli.arguments import config_parser, parse_config
from rnnzoo.training.runs import default_run_name


def test_a_config_checks_its_values_in_python_as_on_the_command_line(capsys):
    with pytest.raises(ValueError, match="units: must be an integer >= 1, got 0"):
        configs.TaggingConfig(units=0)
    with pytest.raises(ValueError, match=r"task: invalid choice: 'chunk' \(choose from pos, ner\)"):
        configs.TaggingConfig(task="chunk")
    with pytest.raises(ValueError, match="export_quantize: invalid choice: 'int4'"):
        configs.SentimentConfig(export_quantize=("dynamic", "int4"))
    with pytest.raises(ValueError, match="dropout: must be in"):
        dataclasses.replace(configs.SpeechConfig(), dropout=1.0)
    with pytest.raises(SystemExit) as exit_info:
        parse_config(configs.TaggingConfig, ["--units", "0"], prog="tagging")
    assert exit_info.value.code == 2 and "--units: must be an integer >= 1, got 0" in capsys.readouterr().err


def test_recipe_defaults_override_the_shared_ones_and_keep_their_help():
    assert configs.TrainingConfig().epochs == 10 and configs.SentimentConfig().epochs == 8
    assert configs.ForecastingConfig().cell == "gru" and configs.ForecastingConfig().bidirectional is False
    shared = {f.name: f for f in dataclasses.fields(configs.RecipeConfig)}
    for name, config_class in configs.RECIPE_CONFIGS.items():
        fields = {f.name: f for f in dataclasses.fields(config_class)}
        assert list(fields)[:len(shared)] == list(shared), name  # the shared groups first, in their order
        for field in fields.values():
            assert field.metadata["help"], (name, field.name)
            if field.name in shared:
                assert field.metadata == shared[field.name].metadata, (name, field.name)


def test_parsed_values_have_the_fields_types():
    config = parse_config(configs.CaptioningConfig, ["--image-size", "32", "48", "--cnn-filters", "8", "16",
                                                      "--no-bidirectional", "--export-quantize"], prog="captioning")
    assert config.image_size == (32, 48) and config.cnn_filters == (8, 16) and config.export_quantize == ()
    assert config.bidirectional is False and config == configs.CaptioningConfig(
        image_size=(32, 48), cnn_filters=(8, 16), bidirectional=False, export_quantize=())
    assert parse_config(configs.SpeechConfig, ["--conv-filters"], prog="speech").conv_filters == ()
    assert parse_config(configs.TranslationConfig, ["--lowercase"], prog="translation").lowercase is True
    assert parse_config(configs.TaggingConfig, ["--no-lowercase"], prog="tagging").lowercase is False


def test_run_names_are_those_of_runs_made_before_configs_were_written_down():
    # Run folders are named by a hash of the options (`training.runs`); these names are what the recipes'
    # argparse-built configs gave (main at 418d07b), so earlier runs are found and resumed.
    expected = {"sentiment": "builtin-lstm-bi-fbe210c9", "tagging": "builtin-lstm-bi-ae27805d",
                "translation": "builtin-lstm-bi-260d6def", "speech": "builtin-lstm-bi-cccae349",
                "captioning": "builtin-lstm-fcf24e65", "forecasting": "builtin-gru-b2082318",
                "language_model": "builtin-lstm-6373ffd7",
                "document_classification": "builtin-gru-bi-ce3a87f5",  # the recipe added for #36
                "global_forecasting": "builtin-gru-66cadf61"}  # the recipe added for #37
    for name, config_class in configs.RECIPE_CONFIGS.items():
        config = parse_config(config_class, [], prog=name)
        if name == "tagging":
            config = dataclasses.replace(config, output_layer=config.head)  # as the recipe resolves "auto"
        assert default_run_name(dataclasses.asdict(config)) == expected[name], name


def test_help_shows_groups_and_defaults():
    text = " ".join(config_parser(configs.TaggingConfig, "python -m recipes.tagging").format_help().split())
    for group in ("data:", "model:", "training:", "output:", "tagging:"):
        assert group in text
    assert "--layers NUM_LAYERS stacked recurrent layers (default: 1)" in text
    assert "--export-quantize [{dynamic,float16,int8} ...]" in text and "(default: dynamic)" in text
    assert "--bidirectional, --no-bidirectional" in text


def test_a_config_written_as_a_command_line_reads_back_the_same():
    # A recipe handed to another process (`--backend`, or TensorFlow after training on jax / torch) is
    # run with `config.command_line()`: every kind of field must read back unchanged.
    for name, config_class in configs.RECIPE_CONFIGS.items():
        assert config_class().command_line() == [], name
        assert parse_config(config_class, [], prog=name) == config_class()
    changed = [
        configs.CaptioningConfig(image_size=(32, 48), bidirectional=False, export_quantize=(), learning_rate=3e-4,
                                 cell_options={"block": True, "heads": 2, "chunk": 0.5, "kind": "x"}, smoke=True,
                                 time_limit=1.5, run="mine", backend="torch", deterministic=False),
        configs.GlobalForecastingConfig(lookback=(168, 336), quantiles=(0.025, 0.5, 0.975), seed=3),
        configs.SpeechConfig(conv_filters=(), export_quantize=("dynamic", "float16")),
        configs.TaggingConfig(task="ner", lowercase=False, output="elsewhere/runs"),
    ]
    for config in changed:
        argv = config.command_line()
        assert parse_config(type(config), argv, prog="recipe") == config, argv
