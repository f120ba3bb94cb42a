import pytest

import rnnzoo
from rnnzoo.topologies import get_model_entry, registry


def test_every_topology_is_registered():
    assert rnnzoo.list_topologies() == sorted(
        ["one_to_many", "many_to_one", "many_to_many", "encoder_decoder", "bidirectional", "hierarchical",
         "segment_rnn", "direct_forecaster", "seq2seq_forecaster", "multiscale_forecaster"]
    )
    assert set(rnnzoo.list_topologies()) <= set(rnnzoo.list_models())


def test_list_models_filters_by_pattern_and_topology():
    gru_models = rnnzoo.list_models("*gru*")
    assert gru_models and all("gru" in name for name in gru_models)
    seq2seq = rnnzoo.list_models(topology="encoder_decoder")
    assert "encoder_decoder" in seq2seq and "lstm_seq2seq" in seq2seq
    assert all(get_model_entry(n).topology == "encoder_decoder" for n in seq2seq)
    with pytest.raises(ValueError, match="Unknown topology"):
        rnnzoo.list_models(topology="many_to_few")


def test_unknown_model_name_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean: lstm_classifier"):
        rnnzoo.build_model("lstm_clasifier")


def test_unknown_argument_names_it_and_suggests():
    with pytest.raises(ValueError, match="unknown argument `unit`.*Did you mean: units"):
        rnnzoo.build_model("many_to_one", vocab_size=10, unit=8)


def test_variant_defaults_apply_and_user_kwargs_win():
    model = rnnzoo.build_model("bilstm_tagger", vocab_size=10, num_classes=3, units=4)
    config = model.get_config()
    assert config["cell"] == "lstm" and config["bidirectional"] is True
    model = rnnzoo.build_model("bilstm_tagger", vocab_size=10, num_classes=3, units=4, cell="gru")
    assert model.get_config()["cell"] == "gru"


def test_register_model_adds_a_variant_and_rejects_duplicates(monkeypatch):
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))

    @rnnzoo.register_model("many_to_one")
    def tiny_gru_classifier():
        """A test variant."""
        return dict(cell="gru", units=4)

    assert "tiny_gru_classifier" in rnnzoo.list_models("tiny_*")
    model = rnnzoo.build_model("tiny_gru_classifier", vocab_size=10)
    assert model.get_config()["units"] == 4
    with pytest.raises(ValueError, match="already registered"):
        rnnzoo.register_model("many_to_one")(tiny_gru_classifier)
    with pytest.raises(ValueError, match="Unknown topology"):
        rnnzoo.register_model("lstm_classifier")  # variants of variants are not allowed
