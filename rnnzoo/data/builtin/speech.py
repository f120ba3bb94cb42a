"""Synthetic spoken digits: each digit word is a sequence of two or three
vowel-like sounds (a glottal pulse train through two formant resonances,
with onsets and offsets), in a voice whose pitch, speed, formant scale and
loudness vary by speaker, plus background noise. It is not speech; it is a
built-in stand-in with the same shape (8 kHz clips of 0.3-0.6 s, ten
labels, several speakers) so the speech recipe runs without downloading FSDD.
Each split has its own speakers."""

import numpy as np

from rnnzoo.data.builtin.seeds import default_size, split_rng
from rnnzoo.data.examples import AudioClip

SAMPLE_RATE = 8000
# Per digit: (formant 1, formant 2) in Hz of each of its sounds.
DIGIT_SOUNDS = [
    [(400, 2000), (650, 1100)],              # zero
    [(300, 870), (750, 1300), (400, 2000)],  # one
    [(300, 870), (450, 1000)],               # two
    [(400, 2300), (700, 1200), (300, 2300)],  # three
    [(600, 1000), (500, 850)],               # four
    [(700, 1200), (300, 2300), (550, 1800)],  # five
    [(300, 2300), (550, 1800)],              # six
    [(550, 1800), (480, 1600), (300, 1200)],  # seven
    [(500, 1900), (300, 2300)],              # eight
    [(700, 1200), (350, 1500)],              # nine
]
SPEAKERS_PER_SPLIT = {"train": 8, "validation": 2, "test": 3}


def _resonate(signal, frequency, bandwidth=120.0):
    """A two-pole resonator (formant) at `frequency`."""
    from scipy.signal import lfilter  # scipy comes with scikit-learn

    r = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
    return lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * frequency / SAMPLE_RATE), r * r], signal)


def _sound(rng, f1, f2, pitch, seconds):
    n = int(seconds * SAMPLE_RATE)
    period = SAMPLE_RATE / (pitch * (1 + 0.03 * rng.standard_normal()))
    pulses = np.zeros(n)
    pulses[(np.arange(0, n, period)).astype(int)] = 1.0
    voiced = _resonate(pulses, f1) + 0.6 * _resonate(pulses, f2)
    envelope = np.minimum(1.0, np.minimum(np.arange(n), n - np.arange(n)) / (0.02 * SAMPLE_RATE))
    return voiced * envelope


def spoken_digit(rng, digit, speaker):
    """One clip of `digit` in the voice `speaker` (a dict of voice settings)."""
    parts = []
    for f1, f2 in DIGIT_SOUNDS[digit]:
        seconds = speaker["speed"] * rng.uniform(0.10, 0.16)
        parts.append(_sound(rng, f1 * speaker["formants"], f2 * speaker["formants"], speaker["pitch"], seconds))
    clip = np.concatenate(parts)
    clip = clip / (np.abs(clip).max() + 1e-9) * speaker["loudness"]
    return (clip + 0.01 * rng.standard_normal(len(clip))).astype("float32")


def spoken_digits(split="train", size=None, seed=0):
    """`AudioClip(samples array, label, speaker, index)` at 8 kHz; 1,500 train,
    300 validation and test clips."""
    rng = split_rng(split, seed)
    speakers = [{"name": f"{split}{i}", "pitch": rng.uniform(90, 240), "speed": rng.uniform(0.8, 1.25),
                 "formants": rng.uniform(0.9, 1.15), "loudness": rng.uniform(0.3, 0.9)}
                for i in range(SPEAKERS_PER_SPLIT[split])]
    clips = []
    for index in range(size or default_size(split, 1500, 300)):
        digit, speaker = int(rng.integers(10)), speakers[int(rng.integers(len(speakers)))]
        clips.append(AudioClip(spoken_digit(rng, digit, speaker), str(digit), speaker["name"], index))
    return clips
