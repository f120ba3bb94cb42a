"""Token <-> id maps with reserved ids at the front (0 padding, 1 unknown,
2 start, 3 end), saved as a plain text file of one token per line (in id
order) and restored exactly."""

import collections

import numpy as np

from rnnzoo.data.reading import DataFormatError, read_lines
from rnnzoo.data.special_tokens import RESERVED_TOKENS
from rnnzoo.utils.files import write_text

# Tokens may hold a newline (character vocabularies): escape it on disk.
_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"))


def _escape(token):
    for raw, escaped in _ESCAPES:
        token = token.replace(raw, escaped)
    return token


def _unescape(line):
    out, i = [], 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            out.append({"\\": "\\", "n": "\n", "r": "\r"}.get(line[i + 1], "\\" + line[i + 1]))
            i += 2
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


class Vocabulary:
    """`Vocabulary.build(token_lists, min_frequency=2, max_size=20000)`.

    `reserved` tokens take the first ids: the four text specials by default,
    `("<pad>",)` for tag vocabularies (0 stays padding), `()` for class
    labels. Out-of-vocabulary tokens map to `<unk>` when the vocabulary has
    it, and raise otherwise.
    """

    def __init__(self, tokens, reserved=RESERVED_TOKENS):
        tokens, reserved = list(tokens), tuple(reserved)
        if tuple(tokens[: len(reserved)]) != reserved:
            raise ValueError(f"a vocabulary must start with its reserved tokens {reserved}.")
        seen = set()
        for i, token in enumerate(tokens):
            if not isinstance(token, str) or not token:
                raise ValueError(f"vocabulary entry {i} is {token!r}; tokens are non-empty strings.")
            if token in seen:
                raise ValueError(f"token {token!r} appears twice in the vocabulary (id {i}).")
            seen.add(token)
        self.tokens = tokens
        self.reserved = reserved
        self.index = {token: i for i, token in enumerate(tokens)}
        self.unknown_id = self.index.get(RESERVED_TOKENS[1])
        self._table = None

    @classmethod
    def build(cls, token_lists, min_frequency=1, max_size=None, reserved=RESERVED_TOKENS):
        """Most frequent first (ties alphabetical, so builds are repeatable);
        `max_size` counts the reserved tokens."""
        counts = collections.Counter()
        for tokens in token_lists:
            counts.update(tokens)
        for token in reserved:
            counts.pop(token, None)
        ranked = sorted((t for t, n in counts.items() if n >= min_frequency),
                        key=lambda t: (-counts[t], t))
        if max_size is not None:
            if max_size <= len(reserved):
                raise ValueError(f"max_size={max_size} leaves no room beyond {len(reserved)} reserved tokens.")
            ranked = ranked[: max_size - len(reserved)]
        if not ranked:
            raise ValueError(f"no token occurs at least min_frequency={min_frequency} times.")
        return cls(list(reserved) + ranked, reserved)

    def __len__(self):
        return len(self.tokens)

    def __contains__(self, token):
        return token in self.index

    def lookup(self, tokens):
        """Token strings -> list of int ids."""
        if self.unknown_id is not None:
            return [self.index.get(t, self.unknown_id) for t in tokens]
        try:
            return [self.index[t] for t in tokens]
        except KeyError as error:
            raise ValueError(f"{error.args[0]!r} is not in the vocabulary (which has no <unk>).") from None

    def to_tokens(self, ids):
        ids = np.asarray(ids).tolist()
        for i in ids:
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"id {i} is outside the vocabulary (size {len(self.tokens)}).")
        return [self.tokens[i] for i in ids]

    def tf_table(self):
        """The `tf.lookup.StaticHashTable` behind `tf_lookup` (track it when
        exporting a graph that looks tokens up)."""
        import tensorflow as tf

        if self.unknown_id is None:
            raise ValueError("tf_lookup needs an <unk> token; map label vocabularies with lookup().")
        if self._table is None:
            with tf.init_scope():  # built eagerly even when first called inside tf.data.map
                self._table = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(
                        tf.constant(self.tokens), tf.range(len(self.tokens), dtype=tf.int64)),
                    default_value=self.unknown_id,
                )
        return self._table

    def tf_lookup(self, tokens):
        """String tensor (dense or ragged) -> int32 ids, inside a graph."""
        import tensorflow as tf

        table = self.tf_table()
        if isinstance(tokens, tf.RaggedTensor):
            return tf.ragged.map_flat_values(lambda t: tf.cast(table.lookup(t), tf.int32), tokens)
        return tf.cast(table.lookup(tokens), tf.int32)

    def tf_to_tokens(self, ids):
        """Int tensor (dense or ragged) -> token strings, inside a graph."""
        import tensorflow as tf

        table = tf.constant(self.tokens)
        if isinstance(ids, tf.RaggedTensor):
            return tf.ragged.map_flat_values(lambda i: tf.gather(table, i), ids)
        return tf.gather(table, ids)

    def save(self, path):
        """One escaped token per line, in id order (written atomically)."""
        return write_text(path, "".join(_escape(t) + "\n" for t in self.tokens))

    @classmethod
    def load(cls, path, reserved=RESERVED_TOKENS, encoding="utf-8"):
        """Read a file written by `save`; it is checked line by line."""
        tokens = []
        for number, line in read_lines(path, encoding):
            token = _unescape(line)
            if not token:
                raise DataFormatError(path, number, "empty line; a vocabulary has one token per line.")
            if number <= len(reserved) and token != reserved[number - 1]:
                raise DataFormatError(path, number, f"expected reserved token {reserved[number - 1]!r}, "
                                                    f"found {token!r}.")
            tokens.append(token)
        if len(tokens) <= len(reserved) and reserved:
            raise DataFormatError(path, None, f"holds {len(tokens)} tokens, fewer than the reserved ones plus one.")
        if len(set(tokens)) != len(tokens):
            duplicate = collections.Counter(tokens).most_common(1)[0][0]
            raise DataFormatError(path, tokens.index(duplicate, tokens.index(duplicate) + 1) + 1,
                                  f"token {duplicate!r} appears twice.")
        return cls(tokens, reserved)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and (self.tokens, self.reserved) == (other.tokens, other.reserved)

    def __repr__(self):
        return f"Vocabulary(size={len(self)}, reserved={self.reserved})"
