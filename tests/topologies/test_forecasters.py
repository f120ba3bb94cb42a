"""The forecasters: each channel forecast from its own history (or all
channels read, where they mix), the window normalizations, covariates and
calendar features reaching only what they should, step-by-step decoding and
the segment readers. (Shapes, saving and training: test_topologies.py, with
every other topology. Graph logic in Keras ops: the TensorFlow and torch
runs take it; the JAX run takes the forecasters through the shapes, training
and task-contract tests.)"""

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.topologies.blocks import run_recurrent_stack


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _forecaster(normalization, cell="gru", name="segment_rnn", **options):
    extra = {"segment_length": 3} if name in ("segment_rnn", "multiscale_forecaster") else {}
    return rnnzoo.build_model(name, lookback=12, horizon=6, channels=3, units=8, cell=cell, dropout=0.0,
                              normalization=normalization, **extra, **options)


@pytest.mark.parametrize("name,cell,options", [("segment_rnn", "gru", {}), ("segment_rnn", "lstm", {}),
                                               ("direct_forecaster", "lstm", {"channel_independent": True}),
                                               ("seq2seq_forecaster", "lstm", {"channel_independent": True}),
                                               ("multiscale_forecaster", "gru", {"channel_independent": True})])
def test_forecasters_forecast_each_channel_from_its_own_history(name, cell, options):
    model = _forecaster("last", cell, name, **options)
    x = np.random.default_rng(0).normal(size=(2, 12, 3)).astype("float32")
    changed = x.copy()
    changed[:, :, 1] += np.random.default_rng(1).normal(size=(2, 12)).astype("float32")
    before, after = _numpy(model(x)), _numpy(model(changed))
    assert before.shape == (2, 6, 3)
    np.testing.assert_allclose(after[..., [0, 2]], before[..., [0, 2]], atol=1e-6)
    assert not np.allclose(after[..., 1], before[..., 1])


@pytest.mark.parametrize("name", ["direct_forecaster", "seq2seq_forecaster", "multiscale_forecaster"])
def test_a_forecaster_that_mixes_channels_reads_them_all(name):
    model = _forecaster("last", "gru", name, channel_independent=False)
    x = np.random.default_rng(0).normal(size=(2, 12, 3)).astype("float32")
    changed = x.copy()
    changed[:, :, 1] += 1.0 + np.random.default_rng(1).normal(size=(2, 12)).astype("float32")
    assert not np.allclose(_numpy(model(changed))[..., 0], _numpy(model(x))[..., 0])


@pytest.mark.parametrize("name", ["segment_rnn", "direct_forecaster", "seq2seq_forecaster", "multiscale_forecaster"])
def test_forecaster_normalizations_follow_the_window(name):
    x = np.random.default_rng(2).normal(size=(2, 12, 3)).astype("float32")
    last = _forecaster("last", name=name)
    # Subtracting the last value: a shifted window gives the forecast shifted by as much.
    np.testing.assert_allclose(_numpy(last(x + 5.0)), _numpy(last(x)) + 5.0, atol=1e-4)
    revin = _forecaster("revin", name=name)
    # Instance normalization: a scaled and shifted window scales and shifts the forecast.
    np.testing.assert_allclose(_numpy(revin(3.0 * x - 2.0)), 3.0 * _numpy(revin(x)) - 2.0, atol=1e-4)
    scale = _forecaster("scale", name=name)
    # Mean-absolute scaling: a window 1000 times larger gives a forecast 1000 times larger.
    np.testing.assert_allclose(_numpy(scale(1000.0 * x)), 1000.0 * _numpy(scale(x)), rtol=1e-4, atol=1e-3)
    assert np.isfinite(_numpy(scale(np.zeros_like(x)))).all()
    plain = _forecaster(None, name=name)
    assert not np.allclose(_numpy(plain(x + 5.0)), _numpy(plain(x)) + 5.0, atol=1e-3)


def _side_inputs(seed=5):
    rng = np.random.default_rng(seed)
    return {"series": rng.normal(size=(2, 12, 3)).astype("float32"),
            "covariates": rng.normal(size=(2, 18, 2)).astype("float32"), "static": np.array([[0, 1], [3, 2]], "int32")}


@pytest.mark.parametrize("name,options", [("segment_rnn", {}), ("direct_forecaster", {}),
                                          ("direct_forecaster", {"channel_independent": True, "num_layers": 2,
                                                                 "dilations": [1, 2], "residual": True}),
                                          ("seq2seq_forecaster", {"channel_independent": True}),
                                          ("multiscale_forecaster", {"channel_independent": True})])
def test_forecasters_read_known_and_static_covariates_of_their_own_example(name, options, tmp_path):
    model = _forecaster("scale", "gru", name, covariates=2, static_cardinalities=[4, 3], static_dim=2, **options)
    assert sorted(model.input) == ["covariates", "series", "static"]
    x = _side_inputs()
    before = _numpy(model(x))
    assert before.shape == (2, 6, 3)
    for key, change in (("covariates", lambda c: c[0, 3].__iadd__(1.0)),      # a step of the window
                        ("covariates", lambda c: c[0, 14].__iadd__(1.0)),     # a step of the horizon
                        ("static", lambda c: c[0].__setitem__(0, 2))):        # the first category
        changed = {k: v.copy() for k, v in x.items()}
        change(changed[key])
        after = _numpy(model(changed))
        # Example 0 reads what changed (every channel does); example 1's forecast stays as it was.
        assert not np.allclose(after[0], before[0], atol=1e-6), (key, name)
        np.testing.assert_allclose(after[1], before[1], atol=1e-6)
    # The scale normalization still follows the window; the covariates are read as given.
    np.testing.assert_allclose(_numpy(model(dict(x, series=100.0 * x["series"]))), 100.0 * before, rtol=1e-4,
                               atol=1e-3)
    if name == "segment_rnn" or options.get("dilations"):  # one of each layer family: CI time (JAX saves slowly)
        model.save(tmp_path / "covariates.keras")
        np.testing.assert_allclose(_numpy(keras.saving.load_model(tmp_path / "covariates.keras")(x)), before,
                                   atol=1e-6)


@pytest.mark.parametrize("name,unchanged", [("segment_rnn", slice(0, 3)), ("seq2seq_forecaster", slice(0, 5))])
def test_a_future_step_covariate_reaches_only_what_forecasts_that_step(name, unchanged):
    # SegRNN decodes each future segment (3 steps) from its own covariates; the seq2seq decoder reads step
    # j's covariates at step j, so changing the last step's touches nothing before it.
    model = _forecaster(None, "gru", name, covariates=2)
    x = {k: v for k, v in _side_inputs(6).items() if k != "static"}
    changed = dict(x, covariates=x["covariates"].copy())
    changed["covariates"][:, -1] += 1.0
    before, after = _numpy(model(x)), _numpy(model(changed))
    np.testing.assert_allclose(after[:, unchanged], before[:, unchanged], atol=1e-6)
    assert not np.allclose(after[:, -1], before[:, -1], atol=1e-6)


@pytest.mark.parametrize("name", ["segment_rnn", "direct_forecaster", "seq2seq_forecaster", "multiscale_forecaster"])
def test_a_calendar_forecaster_reads_the_calendar_of_its_window_and_horizon(name):
    # With calendar_step_hours, the model takes `time` (hours since 1970 of the last step) and reads the four
    # calendar features after the given covariates: the same as a twin fed those features as covariates.
    from rnnzoo.layers import CalendarFeatures

    model = _forecaster(None, "gru", name, covariates=2, calendar_step_hours=1.0)
    assert sorted(model.input) == ["covariates", "series", "time"]
    twin = _forecaster(None, "gru", name, covariates=6)
    twin.set_weights(model.get_weights())
    x = {k: v for k, v in _side_inputs(7).items() if k != "static"}
    x["time"] = np.array([[407_592.0], [407_605.0]], "float32")  # 2016-07-01 00:00 and 13:00
    calendar = _numpy(CalendarFeatures(12, 6, 1.0)(x["time"]))
    expected = _numpy(twin({"series": x["series"], "covariates": np.concatenate([x["covariates"], calendar], -1)}))
    np.testing.assert_allclose(_numpy(model(x)), expected, atol=1e-5)
    later = _numpy(model(dict(x, time=x["time"] + 5.0)))  # five hours later: another hour of every step
    assert not np.allclose(later, expected, atol=1e-5)


def test_forecaster_covariate_arguments_are_checked():
    with pytest.raises(ValueError, match=r"`covariates` must be an integer >= 0"):
        _forecaster("last", covariates=-1)
    with pytest.raises(ValueError, match=r"`static_cardinalities\[i\]` must be an integer >= 1"):
        _forecaster("last", static_cardinalities=[4, 0])


@pytest.mark.parametrize("cell,channel_independent", [("lstm", False), ("gru", True), ("min_gru", False)])
def test_seq2seq_forecaster_decodes_one_step_at_a_time_from_its_own_forecasts(cell, channel_independent):
    model = _forecaster(None, cell, "seq2seq_forecaster", num_layers=2, channel_independent=channel_independent)
    x = np.random.default_rng(3).normal(size=(2, 12, 3)).astype("float32")
    layer = model.get_layer("seq2seq_recurrence")
    rows = x.transpose(0, 2, 1).reshape(-1, 12, 1) if channel_independent else x
    # By hand: the encoder's final states, then one feedback step per future step.
    _, encoded = run_recurrent_stack(layer.encoder, rows, return_state=True)
    states = [state for layer_states in encoded for state in layer_states] + [rows[:, -1]]
    feedback, steps = layer.decoder.cell, []
    for step in range(6):
        ahead = np.full((rows.shape[0], 1), (step + 1) / 6, "float32")
        value, states = feedback(ahead, states)
        steps.append(_numpy(value))
    by_hand = np.stack(steps, axis=1)
    if channel_independent:
        by_hand = by_hand.reshape(2, 3, 6).transpose(0, 2, 1)
    np.testing.assert_allclose(_numpy(model(x)), by_hand, atol=1e-5)
    # A step reads the value forecast before it (carried as the last state).
    start = [state for layer_states in encoded for state in layer_states]
    ahead = np.full((rows.shape[0], 1), 1 / 6, "float32")
    first, _ = feedback(ahead, start + [rows[:, -1]])
    moved, _ = feedback(ahead, start + [rows[:, -1] + 1.0])
    assert not np.allclose(_numpy(first), _numpy(moved), atol=1e-4)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_multiscale_forecaster_reads_each_segment_then_the_segments(cell):
    model = _forecaster(None, cell, "multiscale_forecaster", num_layers=2)
    layer = model.get_layer("multiscale_recurrence")
    x = np.random.default_rng(4).normal(size=(2, 12, 3)).astype("float32")
    x[:, 3:6] = 0.0  # a segment of zeros is data, not padding: the outer stack reads it (by hand too)
    # By hand: the inner layer's final state over each 3-step segment alone, then the outer stack and the head.
    days = np.stack([_numpy(layer.segments.rnn(x[:, k * 3:(k + 1) * 3])) for k in range(4)], axis=1)
    outer, _ = run_recurrent_stack(layer.encoder, days)
    by_hand = _numpy(layer.head(outer)).reshape(2, 6, 3)
    np.testing.assert_allclose(_numpy(model(x)), by_hand, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"`lookback` \(12\) must be a multiple of `segment_length` \(5\)"):
        rnnzoo.build_model("multiscale_forecaster", lookback=12, segment_length=5)


def test_segment_rnn_refuses_windows_that_do_not_split_into_segments():
    with pytest.raises(ValueError, match=r"`horizon` \(10\) must be a multiple of `segment_length` \(4\)"):
        rnnzoo.build_model("segment_rnn", lookback=12, horizon=10, segment_length=4)
    with pytest.raises(ValueError, match="`normalization` must be one of None, 'last', 'revin', 'scale'"):
        rnnzoo.build_model("segment_rnn", normalization="zscore")
