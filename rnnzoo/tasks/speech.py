"""Speech recognition of spoken digit strings (the speech recipe): reading a
WAV file as the model hears it (mono, 8 kHz), and the SavedModel that maps a
waveform to its transcript (log-mel features, the CTC model and decoding in
one graph).
"""

import math

from rnnzoo.data.audio_features import log_mel_spectrogram
from rnnzoo.data.builtin.images import DIGIT_WORDS
from rnnzoo.data.formats import read_wav

SAMPLE_RATE = 8000
WAVEFORM = "waveform"


def words(label_ids):
    """CTC label ids (1-10 for the digits 0-9; 0 is the blank) -> "four one seven"."""
    return " ".join(DIGIT_WORDS[i - 1] for i in label_ids)


def read_waveform(path, sample_rate=SAMPLE_RATE):
    """A WAV file as float32 samples at `sample_rate`: channels are mixed
    down (`read_wav`) and another rate is resampled (polyphase filter)."""
    samples, rate = read_wav(path)
    if rate != sample_rate:
        from scipy.signal import resample_poly

        divisor = math.gcd(rate, sample_rate)
        samples = resample_poly(samples, sample_rate // divisor, rate // divisor).astype("float32")
    return samples


def serving_function(model, mel_bins, beam_width=None):
    """`waveform` (one clip, float32 samples at 8 kHz) -> `transcript` (a
    string) and `label_ids`, in one graph: log-mel features, the model, CTC
    decoding (best path, or beam search with `beam_width`)."""
    import tensorflow as tf
    from keras import ops

    names = tf.constant(["<blank>"] + list(DIGIT_WORDS))

    def serve(waveform):
        features = log_mel_spectrogram(waveform, SAMPLE_RATE, mel_bins)[None]
        logits = model(features, training=False)
        frames = tf.shape(logits)[1][None]
        options = {} if beam_width is None else {"beam_width": int(beam_width)}
        decoded, _ = ops.ctc_decode(logits, frames, strategy="greedy" if beam_width is None else "beam_search",
                                    mask_index=0, **options)
        best = tf.cast(decoded[0, 0], tf.int32)
        label_ids = tf.boolean_mask(best, best > 0)  # -1 and the blank pad the row
        return {"transcript": tf.strings.reduce_join(tf.gather(names, label_ids), separator=" "),
                "label_ids": label_ids}

    return serve
