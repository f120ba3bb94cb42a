import os

import keras
import numpy as np

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
        metric = result.get("accuracy", result.get("token_accuracy"))
        assert 0.0 <= metric <= 1.0
        path = os.path.join(tmp_path, f"{topology}.keras")
        assert keras.saving.load_model(path).count_params() > 0
    assert "exact_match" in capsys.readouterr().out
