"""Audio in the Free Spoken Digit Dataset layout: a folder of
`{label}_{speaker}_{index}.wav` files, read with `tf.audio.decode_wav`."""

import os
import re

import numpy as np

from rnnzoo.data.examples import AudioClip
from rnnzoo.data.reading import DataFormatError, check_file, require_examples

CLIP_NAME = re.compile(r"^([^_]+)_([^_]+)_(\d+)\.wav$")


def list_audio_clips(folder):
    """Every `.wav` in `folder` as an `AudioClip`, sorted by name. A `.wav`
    whose name is not `{label}_{speaker}_{index}.wav` raises; other files
    (README, metadata) are not audio and are left alone."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: no such folder.")
    clips = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith(".wav"):
            continue
        match = CLIP_NAME.match(name)
        if not match:
            raise DataFormatError(os.path.join(folder, name), None,
                                  "expected a name like `{label}_{speaker}_{index}.wav` (7_jackson_32.wav).")
        label, speaker, index = match.groups()
        clips.append(AudioClip(os.path.join(folder, name), label, speaker, int(index)))
    return require_examples(clips, folder, "wav files")


def split_fsdd(clips, test_indices=range(5)):
    """FSDD's official split: recordings with index 0-4 are the test set."""
    test_indices = set(test_indices)
    train = [c for c in clips if c.index not in test_indices]
    test = [c for c in clips if c.index in test_indices]
    return train, test


def read_wav(path):
    """(samples as float32 in [-1, 1], mono, and the sample rate) of a
    16-bit PCM wav file; several channels are averaged."""
    import tensorflow as tf

    path = check_file(path)
    with open(path, "rb") as f:
        header = f.read(12)
    if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        raise DataFormatError(path, None, f"not a wav file (it starts with {header[:12]!r}, not RIFF....WAVE).")
    try:
        audio, rate = tf.audio.decode_wav(tf.io.read_file(path))
    except tf.errors.InvalidArgumentError as error:
        raise DataFormatError(path, None, f"not a PCM wav file ({error.message.splitlines()[0]}).") from None
    except UnicodeDecodeError:  # TensorFlow's message quoted bytes that are not UTF-8
        raise DataFormatError(path, None, "not a PCM wav file (a broken header).") from None
    samples = np.asarray(audio).mean(axis=1).astype("float32")
    if samples.size == 0:
        raise DataFormatError(path, None, "the wav file holds no samples.")
    return samples, int(rate)
