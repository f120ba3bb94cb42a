"""CTC output on many_to_many, the convolutional front end, and the speech
feature pipeline."""

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.layers.heads import ctc_decode_logits


def _hand_built_logits(frames):
    logits = np.full((1, len(frames), 4), -8.0, "float32")
    for t, label in enumerate(frames):
        logits[0, t, label] = 8.0
    return logits


@pytest.mark.parametrize("beam_width", [None, 5])
def test_ctc_decoding_of_a_hand_built_matrix(beam_width):
    # blank = 0: "1 1 _ 1 2 2 _ 3" -> 1 1 2 3 (repeats merge unless a blank splits them)
    logits = _hand_built_logits([1, 1, 0, 1, 2, 2, 0, 3, 3, 1])
    assert ctc_decode_logits(logits, [10], beam_width) == [[1, 1, 2, 3, 1]]
    assert ctc_decode_logits(logits, [8], beam_width) == [[1, 1, 2, 3]]  # frames past the length are ignored


def test_ctc_model_learns_unaligned_labels_and_ignores_padding(tmp_path):
    model = rnnzoo.build_model("many_to_many", input_dim=6, num_classes=4, output_layer="ctc", conv_filters=[8],
                               units=16, bidirectional=True)
    rng = np.random.default_rng(0)
    labels = rng.integers(1, 4, (16, 3)).astype("int32")
    x = np.zeros((16, 12, 6), "float32")
    for i, row in enumerate(labels):  # each label is a burst of 3 frames of its own pattern
        for j, label in enumerate(row):
            x[i, 4 * j:4 * j + 3, label] = 1.0
    x += 0.05 * rng.normal(size=x.shape).astype("float32")
    x[::2, 11:] = 0.0  # padding on half the rows
    history = model.fit(x, labels, epochs=60, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0], history
    padded = np.concatenate([x[:4], np.zeros((4, 5, 6), "float32")], axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(padded))[:, :11],
                               keras.ops.convert_to_numpy(model(x[:4]))[:, :11], atol=1e-5)
    assert model.ctc_decode(padded) == model.ctc_decode(x[:4])
    restored = keras.saving.load_model(_save(model, tmp_path))
    assert restored.ctc_decode(x[:4], beam_width=4) == model.ctc_decode(x[:4], beam_width=4)


def _save(model, folder):
    path = folder / "ctc.keras"
    model.save(path)
    return path


def test_ctc_needs_logits_and_blank_zero():
    with pytest.raises(ValueError, match="output_layer='ctc'"):
        rnnzoo.build_model("many_to_many", input_dim=3, num_classes=4, output_layer="ctc",
                           output_activation="softmax")
    model = rnnzoo.build_model("many_to_many", input_dim=3, num_classes=4)
    with pytest.raises(ValueError, match="ctc_decode needs"):
        model.ctc_decode(np.zeros((1, 2, 3), "float32"))


def test_log_mel_features_of_a_known_wav(tmp_path):
    import tensorflow as tf

    from rnnzoo.data import formats
    from rnnzoo.preprocessing.audio import log_mel_spectrogram

    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype("float32")  # 1 s of A4 at 8 kHz
    path = tmp_path / "a4.wav"
    path.write_bytes(tf.audio.encode_wav(tone[:, None], 8000).numpy())
    samples, rate = formats.read_wav(str(path))
    features = log_mel_spectrogram(samples, rate, num_mel_bins=40, normalize=False).numpy()
    assert features.shape == (1 + (8000 - 200) // 80, 40)  # 25 ms windows every 10 ms
    mel_of_440 = int(np.argmax(features.mean(0)))
    assert 5 <= mel_of_440 <= 15  # the energy sits in one low band, not at the edges
    normalized = log_mel_spectrogram(samples, rate).numpy()
    np.testing.assert_allclose(normalized.mean(0), 0.0, atol=1e-2)  # float32 sums of large logs
    assert log_mel_spectrogram(np.zeros(50, "float32"), 8000).shape == (1, 40)  # shorter than a window
