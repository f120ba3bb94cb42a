"""Data: tokenizers, vocabularies, loaders, batching and built-in datasets."""

from rnnzoo.data.special_tokens import END_ID, NUM_RESERVED, PAD_ID, START_ID, UNK_ID

__all__ = ["END_ID", "NUM_RESERVED", "PAD_ID", "START_ID", "UNK_ID"]
