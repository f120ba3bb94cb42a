"""Preprocessing: what turns a task's raw input into model tensors and back,
built on `data/`'s tokenizers and vocabularies: words with their characters
(`words`), documents as sentences of words (`documents`), series scaling and
panel windows (`series`), images fitted to a model (`images`) and audio features
(`audio`). Text itself (tokenize, look up, ids back to text
with the one stop rule) is `rnnzoo.data.TextEncoder`. Each preprocessor
encodes the same way in Python and in a TensorFlow graph, and saves and
loads its files with a run or preset folder. Tasks (`rnnzoo.tasks`) hold
one each.
"""

from rnnzoo.utils.lazy import lazy_attributes

# Each module imports TensorFlow: load it on first use.
__getattr__, __dir__ = lazy_attributes(__name__, {
    "rnnzoo.preprocessing.words": ["WordEncoder", "sentence_words"],
    "rnnzoo.preprocessing.documents": ["DocumentEncoder", "document_sentences", "split_sentences"],
    "rnnzoo.preprocessing.series": ["Standardizer", "last_windows", "series_windows"],
    "rnnzoo.preprocessing.images": ["fit_images"],
    "rnnzoo.preprocessing.audio": ["SAMPLE_RATE", "log_mel_spectrogram", "read_waveform"],
})

__all__ = ["SAMPLE_RATE", "DocumentEncoder", "Standardizer", "WordEncoder", "document_sentences", "fit_images",
           "last_windows", "log_mel_spectrogram", "read_waveform", "sentence_words", "series_windows",
           "split_sentences"]
