"""Data: tokenizers, vocabularies, loaders for the standard formats, named
public datasets (local or downloaded with checksums), built-in generated
datasets, and bucketed batching.

```python
from rnnzoo import data
train = data.load_dataset("sst2", "train", root="../shared/data")   # or data.load_builtin("sentiment")
encoder = data.TextEncoder.adapt([e.text for e in train], tokenizer="word", min_frequency=2)
batches = data.batch_dataset(
    data.ragged_dataset(encoder.encode_to_lists(e.text for e in train), [int(e.label) for e in train]),
    batch_size=32, shuffle_buffer=10_000, seed=0)
```
"""

from rnnzoo.data.special_tokens import (
    END_ID,
    NUM_RESERVED,
    PAD_ID,
    RESERVED_TOKENS,
    START_ID,
    UNK_ID,
    teacher_forcing,
    until_end,
)
from rnnzoo.utils.lazy import lazy_attributes

# Everything else imports TensorFlow / tensorflow-text: load it on first use,
# so models and decoders that only need the reserved ids import nothing heavy.
__getattr__, __dir__ = lazy_attributes(__name__, {
    "rnnzoo.data.batching": ["batch_dataset", "bucket_boundaries", "padded_fraction", "ragged_dataset"],
    "rnnzoo.data.builtin": ["load_builtin"],
    "rnnzoo.data.datasets": ["DATASETS", "load_dataset"],
    "rnnzoo.data.downloads": ["download"],
    "rnnzoo.data.examples": ["AudioClip", "CaptionedImage", "LabeledText", "TaggedSentence", "TextPair",
                             "random_split"],
    "rnnzoo.data.formats": ["list_audio_clips", "load_bio", "load_captions", "load_class_folders",
                            "load_conllu", "load_image", "load_labeled_lines", "load_parallel",
                            "load_text", "load_tsv_pairs", "load_word_vectors", "read_wav", "split_fsdd"],
    "rnnzoo.data.reading": ["DataFormatError"],
    "rnnzoo.data.sources": ["load_splits"],
    "rnnzoo.data.text_encoder": ["TextEncoder"],
    "rnnzoo.data.tokenizers": ["CharacterTokenizer", "WordPieceTokenizer", "WordTokenizer", "get_tokenizer"],
    "rnnzoo.data.vocabulary": ["Vocabulary"],
})

__all__ = [
    "DATASETS", "END_ID", "NUM_RESERVED", "PAD_ID", "RESERVED_TOKENS", "START_ID", "UNK_ID", "teacher_forcing",
    "until_end",
    "AudioClip", "CaptionedImage", "CharacterTokenizer", "DataFormatError", "LabeledText",
    "TaggedSentence", "TextEncoder", "TextPair", "Vocabulary", "WordPieceTokenizer",
    "WordTokenizer", "batch_dataset", "bucket_boundaries", "download", "get_tokenizer",
    "list_audio_clips", "load_bio", "load_builtin", "load_captions", "load_class_folders",
    "load_conllu", "load_dataset", "load_image", "load_labeled_lines", "load_parallel",
    "load_splits", "load_text", "load_tsv_pairs", "load_word_vectors", "padded_fraction",
    "ragged_dataset", "random_split", "read_wav", "split_fsdd",
]
