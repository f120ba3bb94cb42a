"""Audio as a model hears it: a WAV file read as mono float samples at the
model's rate (`read_waveform`), and log-mel features with `tf.signal`
(`log_mel_spectrogram`), so the same ops run in `tf.data` and in exported
graphs."""

import math

import numpy as np
import tensorflow as tf

from rnnzoo.data.formats import read_wav

SAMPLE_RATE = 8000
FRAME_SECONDS = 0.025  # 25 ms windows
HOP_SECONDS = 0.010  # every 10 ms


def log_mel_spectrogram(samples, sample_rate, num_mel_bins=40, normalize=True):
    """`(samples,)` float waveform -> `(frames, num_mel_bins)` float32 log-mel
    energies: 25 ms Hann windows every 10 ms, a power spectrum, a mel filter
    bank from 20 Hz to the Nyquist frequency, `log(x + 1e-6)`; with
    `normalize`, each bin has zero mean and unit variance over the clip.
    A clip shorter than one window is padded to one."""
    samples = tf.convert_to_tensor(samples, tf.float32)
    frame_length = int(round(FRAME_SECONDS * sample_rate))
    frame_step = int(round(HOP_SECONDS * sample_rate))
    fft_length = int(2 ** np.ceil(np.log2(frame_length)))
    samples = tf.pad(samples, [[0, tf.maximum(0, frame_length - tf.shape(samples)[0])]])
    spectrum = tf.abs(tf.signal.stft(samples, frame_length, frame_step, fft_length)) ** 2
    mel = tf.signal.linear_to_mel_weight_matrix(num_mel_bins, fft_length // 2 + 1, sample_rate, 20.0,
                                                sample_rate / 2)
    features = tf.math.log(tf.matmul(spectrum, mel) + 1e-6)
    if normalize:
        mean, variance = tf.nn.moments(features, axes=[0], keepdims=True)
        features = (features - mean) / tf.sqrt(variance + 1e-6)
    return features


def read_waveform(path, sample_rate=SAMPLE_RATE):
    """A WAV file as float32 samples at `sample_rate`: channels are mixed
    down (`read_wav`) and another rate is resampled (polyphase filter)."""
    samples, rate = read_wav(path)
    if rate != sample_rate:
        from scipy.signal import resample_poly

        divisor = math.gcd(rate, sample_rate)
        samples = resample_poly(samples, sample_rate // divisor, rate // divisor).astype("float32")
    return samples
