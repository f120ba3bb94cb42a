"""Speech recognition of spoken digit strings (the speech recipe): reading a
WAV file as the model hears it (mono, 8 kHz), digit strings made of
recordings, log-mel features, CTC datasets and decoding in batches, and the
SavedModel that maps a waveform to its transcript (log-mel features, the CTC
model and decoding in one graph).
"""

import os

import numpy as np

from rnnzoo.data.batching import in_length_order
from rnnzoo.data.builtin.images import DIGIT_WORDS
from rnnzoo.data.datasets import fsdd_split
from rnnzoo.data.formats import list_audio_clips
from rnnzoo.data.reading import read_json
from rnnzoo.data.sources import load_splits
from rnnzoo.exporting.text_serving import load_signature
from rnnzoo.layers.heads import ctc_decode_logits
from rnnzoo.metrics import wer
from rnnzoo.preprocessing.audio import SAMPLE_RATE, log_mel_spectrogram, read_waveform
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.tasks import Evaluation, recipe
from rnnzoo.tasks.base import Task

RECIPE = "speech"
DATASETS = ("fsdd",)
BLANK = "<blank>"
LABELS = "labels.txt"
MAX_SERVING_CHECK = 64


DIGIT_LABELS = (BLANK, *DIGIT_WORDS)  # the spoken-digit recipe's words: 1-10 for the digits 0-9


def digit_vocabulary():
    """The spoken-digit recipe's word set (a run made before `labels.txt` was saved has it)."""
    return Vocabulary(DIGIT_LABELS, reserved=(BLANK,))


def words(label_ids, names=DIGIT_LABELS):
    """CTC label ids (0 is the blank) -> "four one seven"."""
    return " ".join(names[i] for i in label_ids)


def serving_function(model, mel_bins, beam_width=None, names=DIGIT_LABELS):
    """`waveform` (one clip, float32 samples at 8 kHz) -> `transcript` (a
    string) and `label_ids`, in one graph: log-mel features, the model, CTC
    decoding (best path, or beam search with `beam_width`)."""
    import tensorflow as tf
    from keras import ops

    names = tf.constant(list(names))

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


def clip_samples(clip):
    """A clip's samples at 8 kHz: its array (built-in data) or its WAV file."""
    return read_waveform(clip.path) if isinstance(clip.path, str) else np.asarray(clip.path, "float32")


def digit_strings(clips, count, rng, min_digits, max_digits):
    """`count` (waveform, label ids) pairs: 2-5 random clips joined by
    50-250 ms silences (with the clips' own noise floor), labels 1-10 for
    the digits 0-9 (0 is the CTC blank)."""
    audio = [clip_samples(c) for c in clips]
    labels = [int(c.label) for c in clips]
    strings = []
    for _ in range(count):
        chosen = rng.integers(len(clips), size=rng.integers(min_digits, max_digits + 1))
        pieces = []
        for index in chosen:
            pieces.append(0.003 * rng.standard_normal(int(rng.uniform(0.05, 0.25) * SAMPLE_RATE)))
            pieces.append(audio[index])
        pieces.append(0.003 * rng.standard_normal(int(0.05 * SAMPLE_RATE)))
        strings.append((np.concatenate(pieces).astype("float32"), [labels[i] + 1 for i in chosen]))
    return strings


def features(strings, mel_bins):
    """Log-mel features of each (waveform, labels) string."""
    return [log_mel_spectrogram(samples, SAMPLE_RATE, mel_bins).numpy() for samples, _ in strings]


def ctc_dataset(feature_rows, label_rows):
    """`(frames, mel_bins)` features and label ids per example, unpadded."""
    import tensorflow as tf

    frames = tf.RaggedTensor.from_row_lengths(np.concatenate(feature_rows), [len(f) for f in feature_rows])
    labels = tf.ragged.constant(label_rows, dtype=tf.int32)
    def dense(*element):
        return tuple(e.to_tensor() if isinstance(e, tf.RaggedTensor) else e for e in element)

    return tf.data.Dataset.from_tensor_slices((frames, labels)).map(dense)


def transcribe(model, feature_rows, names=DIGIT_LABELS, beam_width=None, batch_size=64):
    """Transcripts per example, decoded in batches of similar length."""
    return in_length_order(lambda batch: [words(labels, names)
                                          for labels in model.ctc_decode(batch, beam_width=beam_width)],
                           feature_rows, batch_size)


TFLITE_INPUTS = """`features`: float32 `(1, frames, mel_bins)` log-mel features of one clip at 8 kHz
(`rnnzoo.preprocessing.audio.log_mel_spectrogram`). The output `(1, frames, 11)` holds CTC logits
(class 0 the blank, 1-10 the digits 0-9): decode them by best path (arg max, merge repeats, drop blanks)."""


def export_tflite(run, config, model, feature_rows, references):
    """TFLite files of the CTC model (features in, logits out), scored by
    best-path WER on validation strings (the int8 file's length is fixed to
    the longest of them)."""
    def word_error_rate(outputs):
        hypotheses = [words(ctc_decode_logits(o[None], [len(o)])[0]) for o in outputs]
        return wer(references[: len(outputs)], hypotheses)

    examples = [{"features": np.asarray(f, "float32")} for f in feature_rows]
    longest = max(len(f) for f in feature_rows)
    return recipe.export_tflite(run, config, model, examples, word_error_rate, longest=longest)


def load_clips(config):
    """`{"train", "validation", "test"}` -> `AudioClip`s (arrays for built-in data, wav paths for FSDD)."""
    return load_splits(config.data, builtin="spoken_digits", load_path=list_audio_clips, names=("fsdd",),
                       root=config.data_root, download=config.download, seed=config.seed, split_path=fsdd_split)


def load_path(path, encoding="utf-8"):
    """A folder of `{digit}_{speaker}_{index}.wav` recordings (FSDD's layout)."""
    return list_audio_clips(path)


def evaluate_run(run_dir, examples, config):
    """Transcribe each recording with the run's SavedModel and score it
    against the digit its name gives: word error rate (substitutions,
    insertions, deletions over all recordings) and the fraction transcribed
    exactly."""
    import tensorflow as tf

    serve = load_signature(os.path.join(run_dir, "saved_model"))
    hypotheses = [serve(waveform=tf.constant(clip_samples(clip)))["transcript"].numpy().decode() for clip in examples]
    references = [words([int(clip.label) + 1]) for clip in examples]
    return {"wer": wer(references, hypotheses),
            "accuracy": float(np.mean([h == r for h, r in zip(hypotheses, references)]))}


EVALUATION = Evaluation(RECIPE, DATASETS, lambda config: "spoken_digits", load_path, evaluate_run)


class SpeechRecognizer(Task):
    """A recognizer that takes raw waveforms (float samples at 8 kHz, or WAV
    files) and answers with transcripts: log-mel features and the word set
    (the preprocessor; id 0 is the CTC blank) and a `many_to_many` model
    with a CTC head, decoded by best path (or beam search, `beam_width`).

    ```python
    recognizer = SpeechRecognizer.from_examples(waveforms, ["four one", "seven"], units=128)
    recognizer.fit(waveforms, transcripts, epochs=10)
    recognizer.predict(["clip.wav"])                      # ["four one seven"]
    recognizer.evaluate(test_waveforms, test_transcripts)["wer"]
    ```
    """

    recipe = RECIPE
    serves = "waveform in, transcript out"

    def __init__(self, labels, model, mel_bins=40, beam_width=None):
        self.labels, self.model, self.mel_bins = labels, model, int(mel_bins)
        self.beam_width = None if beam_width is None else int(beam_width)

    @classmethod
    def from_examples(cls, waveforms, transcripts, *, mel_bins=40, conv_filters=(64, 64), beam_width=None,
                      **model_options):
        """The word set of the training transcripts and the model (compiled)."""
        from rnnzoo.topologies import build_model

        labels = Vocabulary([BLANK] + sorted({w for t in transcripts for w in t.split()}), reserved=(BLANK,))
        model = build_model("many_to_many", input_dim=mel_bins, num_classes=len(labels), output_layer="ctc",
                            conv_filters=list(conv_filters) or None, **model_options)
        return cls(labels, model, mel_bins, beam_width)

    def features(self, waveforms):
        """Log-mel features `(frames, mel_bins)` of each waveform (an array
        at 8 kHz, or a WAV file's path)."""
        samples = [read_waveform(w) if isinstance(w, str) else np.asarray(w, "float32") for w in waveforms]
        return [log_mel_spectrogram(s, SAMPLE_RATE, self.mel_bins).numpy() for s in samples]

    def label_ids(self, transcripts):
        words = [t.split() for t in transcripts]
        unknown = sorted({w for row in words for w in row} - set(self.labels.index))
        if unknown:
            raise ValueError(f"words {unknown[:5]} are not among the recognizer's {len(self.labels) - 1} words.")
        return [self.labels.lookup(row) for row in words]

    def dataset(self, waveforms, transcripts=None, *, batch_size=32, shuffle=False, seed=0):
        """Batches of padded features and label ids (for the CTC loss)."""
        from rnnzoo.data.batching import batch_dataset

        if transcripts is None:
            raise ValueError("a recognizer trains on waveforms and their transcripts: give both.")
        feature_rows = self.features(waveforms)
        return batch_dataset(ctc_dataset(feature_rows, self.label_ids(transcripts)), batch_size,
                             shuffle_buffer=len(feature_rows) if shuffle else None, seed=seed)

    def predict(self, waveforms, batch_size=64):
        """The transcript of each waveform."""
        return transcribe(self.model, self.features(waveforms), self.labels.tokens, beam_width=self.beam_width,
                          batch_size=batch_size)

    def evaluate(self, waveforms, transcripts, batch_size=64):
        """Word error rate and the fraction of waveforms transcribed exactly."""
        hypotheses = self.predict(waveforms, batch_size)
        return {"wer": wer(list(transcripts), hypotheses),
                "accuracy": float(np.mean([h == r for h, r in zip(hypotheses, transcripts)]))}

    def get_config(self):
        return {"mel_bins": self.mel_bins, "beam_width": self.beam_width}

    @classmethod
    def run_options(cls, run_dir):
        path = os.path.join(run_dir, "config.json")
        return {"mel_bins": read_json(path).get("mel_bins", 40)} if os.path.exists(path) else {}

    def save_assets(self, folder):
        self.labels.save(os.path.join(folder, LABELS))

    @classmethod
    def load_assets(cls, folder):
        """The word set (a run made before it was saved: the ten digits)."""
        path = os.path.join(folder, LABELS)
        if not os.path.exists(path):
            return {"labels": digit_vocabulary()}
        return {"labels": Vocabulary.load(path, reserved=(BLANK,))}

    def serving(self):
        """`waveform` (one clip at 8 kHz) -> `transcript` and `label_ids`."""
        import tensorflow as tf

        return (serving_function(self.model, self.mel_bins, self.beam_width, self.labels.tokens),
                (tf.TensorSpec([None], tf.float32, name="waveform"),), [self.model])

    def export_check(self, signature, waveforms):
        import tensorflow as tf

        waveforms = list(waveforms)[:MAX_SERVING_CHECK]
        samples = [read_waveform(w) if isinstance(w, str) else np.asarray(w, "float32") for w in waveforms]
        served = [signature(waveform=tf.constant(w))["transcript"].numpy().decode() for w in samples]
        return {"agreement": float(np.mean([a == b for a, b in zip(served, self.predict(waveforms))]))}
