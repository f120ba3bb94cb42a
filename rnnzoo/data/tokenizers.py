"""Tokenizers built on tensorflow-text ops, so they run inside `tf.data` and
inside exported graphs. Each maps strings to string tokens (a RaggedTensor);
`Vocabulary` maps tokens to ids.

- `WordTokenizer`: whitespace or Unicode-script splitting.
- `WordPieceTokenizer`: subwords learned with tensorflow-text's vocabulary
  tool, tokenized with `FastWordpieceTokenizer`.
- `CharacterTokenizer`: Unicode characters.

All take `lowercase` (Unicode case folding, which also applies NFKC) and
`normalization` (`"NFKC"`, `"NFC"`, ... or None). Word and WordPiece
tokenizers also take `standardize` ("punctuation", the default, or None):
punctuation and English clitics are split off and Penn Treebank escapes
read back as the characters they stand for, so raw text ("isn't (really)
good.") and text already tokenized the Treebank way, as SST, EWT and most
corpora are ("is n't -lrb- really -rrb- good ."), give the same tokens.
"""

import tensorflow as tf
import tensorflow_text as tf_text

from rnnzoo.data.special_tokens import RESERVED_TOKENS

NORMALIZATIONS = (None, "NFC", "NFKC", "NFD", "NFKD")
STANDARDIZATIONS = (None, "punctuation")

# `standardize="punctuation"`: (pattern, replacement) pairs applied in order
# with `tf.strings.regex_replace` (RE2), after case folding. The same rules
# run on training text and on served text, so they need not reproduce the
# Treebank exactly: they only have to bring its output and raw text to one
# form ("mr." becomes "mr ." in both).
PROTECTED = "\x01"  # marks a clitic's apostrophe while quotes are split
PUNCTUATION_RULES = (
    # Quotes: Treebank `` '' and typographic quotes become " and '.
    ("``|''|\u201c|\u201d|\u00ab|\u00bb|\u201e", ' " '),
    ("`|\u2018|\u2019|\u00b4", "'"),
    # Treebank escapes: -lrb- ( -rrb- ) -lsb- [ -rsb- ] -lcb- { -rcb- }, \/ and \*.
    ("(?i)-lrb-", " ( "), ("(?i)-rrb-", " ) "), ("(?i)-lsb-", " [ "), ("(?i)-rsb-", " ] "),
    ("(?i)-lcb-", " { "), ("(?i)-rcb-", " } "), ("\\\\([/*])", "\\1"),
    # Clitics, as the Treebank splits them: is|n't, ca|n't, can|not, film|'s, we|'re ...
    ("(?i)([^\\s])(n't)\\b", "\\1 \\2"),
    ("(?i)([^\\s'])('(?:s|re|ve|ll|m|d))\\b", "\\1 \\2"),
    ("(?i)\\b(can)(not)\\b", "\\1 \\2"),
    # Dashes, ellipses and currency signs are tokens of their own.
    ("\u2014|\u2013|--", " -- "), ("\\.\\.\\.|\u2026", " ... "), ("([$\u00a3\u20ac])(\\d)", "\\1 \\2"),
    # Quotes around words ('til, actors') split off; clitics and '70s keep theirs.
    ("(?i)(^|\\s)'((?:s|re|ve|ll|m|d)\\b|\\d)", "\\1" + PROTECTED + "\\2"),
    ("(^|\\s)'", "\\1' "), ("'(\\s|$)", " '\\1"),
    (PROTECTED, "'"),
    # Brackets, ! ? and " always; , ; : before a space or the end (1,000 and 3:10 stay whole);
    # a final period of a word (mr. -> mr ., u.s. -> u.s .; 3.5 stays whole).
    ("([()\\[\\]{}!?\"])", " \\1 "),
    ("([,;:])(\\s|$)", " \\1\\2"),
    ("([^.\\s])\\.(\\s|$)", "\\1 .\\2"),
)


class Tokenizer:
    """Base class: `tokenize(texts)` -> RaggedTensor of string tokens (one row
    per text; a scalar string gives a 1-D tensor), `detokenize(tokens)` ->
    strings, `get_config()` / `tokenizer_from_config(config)`."""

    kind = None
    separator = " "

    def __init__(self, lowercase=False, normalization=None, standardize=None):
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}.")
        if standardize not in STANDARDIZATIONS:
            raise ValueError(f"standardize must be one of {STANDARDIZATIONS}, got {standardize!r}.")
        self.lowercase = bool(lowercase)
        self.normalization = normalization
        self.standardize = standardize

    def preprocess(self, texts):
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        if self.normalization:
            texts = tf_text.normalize_utf8(texts, self.normalization)
        if self.lowercase:
            texts = tf_text.case_fold_utf8(texts)
        if self.standardize == "punctuation":
            texts = split_punctuation(texts)
        return texts

    def tokenize(self, texts):
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        if texts.shape.rank == 0:
            return self.tokenize(tf.expand_dims(texts, 0))[0]
        return self.split(self.preprocess(texts))

    def split(self, texts):
        raise NotImplementedError

    def detokenize(self, tokens):
        return tf.strings.reduce_join(tokens, axis=-1, separator=self.separator)

    def train(self, texts):
        """Learn what the tokenizer needs from training texts (WordPiece)."""
        return self

    def get_config(self):
        return {"kind": self.kind, "lowercase": self.lowercase, "normalization": self.normalization,
                "standardize": self.standardize}

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k not in ("kind", "pieces"))
        return f"{type(self).__name__}({options})"


class WordTokenizer(Tokenizer):
    """Words split on whitespace, or on Unicode script changes
    (`split="unicode_script"`, which also separates punctuation)."""

    kind = "word"
    SPLITS = ("whitespace", "unicode_script")

    def __init__(self, lowercase=True, normalization="NFKC", split="whitespace", standardize="punctuation"):
        super().__init__(lowercase, normalization, standardize)
        if split not in self.SPLITS:
            raise ValueError(f"split must be one of {self.SPLITS}, got {split!r}.")
        self.split_on = split
        self._splitter = (tf_text.WhitespaceTokenizer() if split == "whitespace"
                          else tf_text.UnicodeScriptTokenizer())

    def split(self, texts):
        if self.split_on == "whitespace":
            # tensorflow-text's WhitespaceTokenizer splits on the second byte of U+00A0 (no-break space) and
            # U+0085 (next line), leaving their first byte in the word (b"8\xc2" from "8\u00a01"): spaces
            # other than ASCII's become " " first.
            texts = tf.strings.regex_replace(texts, "[\\p{Z}\\x{85}]", " ")
        tokens = self._splitter.tokenize(texts)
        if self.split_on == "unicode_script":  # it keeps no whitespace tokens, but be sure
            tokens = tf.ragged.boolean_mask(tokens, tf.strings.length(tf.strings.strip(tokens)) > 0)
        return tokens

    def get_config(self):
        return {**super().get_config(), "split": self.split_on}


class CharacterTokenizer(Tokenizer):
    """Unicode characters (spaces and newlines included)."""

    kind = "character"
    separator = ""

    def __init__(self, lowercase=False, normalization=None, standardize=None):
        if standardize is not None:
            raise ValueError("a character tokenizer keeps every character: standardize must be None.")
        super().__init__(lowercase, normalization)

    def split(self, texts):
        return tf.strings.unicode_split(texts, "UTF-8")


class WordPieceTokenizer(Tokenizer):
    """Subword units: whitespace/punctuation split, then WordPiece pieces
    (`##` marks a piece that continues a word). `train(texts)` learns the
    pieces with tensorflow-text's `bert_vocab_from_dataset`."""

    kind = "wordpiece"
    SUFFIX = "##"
    UNKNOWN = RESERVED_TOKENS[1]

    def __init__(self, lowercase=True, normalization="NFKC", vocab_size=8000, pieces=None,
                 standardize="punctuation"):
        super().__init__(lowercase, normalization, standardize)
        self.vocab_size = int(vocab_size)
        self.pieces = list(pieces) if pieces else None
        self._wordpiece = None
        self._words = tf_text.UnicodeScriptTokenizer()

    def train(self, texts):
        from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset as bert_vocab

        dataset = tf.data.Dataset.from_tensor_slices(self.preprocess(list(texts))).batch(1024)
        pieces = bert_vocab.bert_vocab_from_dataset(
            dataset, vocab_size=self.vocab_size, reserved_tokens=list(RESERVED_TOKENS),
            # Case and normalization are ours (preprocess), so keep the text as given.
            bert_tokenizer_params={"lower_case": False, "normalization_form": None},
            learn_params={},
        )
        self.pieces = [p for p in pieces if p not in RESERVED_TOKENS]
        self._wordpiece = None
        return self

    def split(self, texts):
        if self.pieces is None:
            raise ValueError("WordPieceTokenizer has no pieces yet: call train(texts) first.")
        if self._wordpiece is None:
            self._wordpiece = tf_text.FastWordpieceTokenizer(
                vocab=[self.UNKNOWN] + self.pieces, suffix_indicator=self.SUFFIX,
                unknown_token=self.UNKNOWN, token_out_type=tf.string, support_detokenization=True,
            )
        words = self._words.tokenize(texts)
        return self._wordpiece.tokenize(words).merge_dims(-2, -1)

    def detokenize(self, tokens):
        joined = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
        return tf.strings.regex_replace(joined, " " + self.SUFFIX, "")

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "pieces": self.pieces}


def split_punctuation(texts):
    """String tensor -> the same strings with punctuation and clitics set
    apart by spaces (`PUNCTUATION_RULES`), in graph ops."""
    for pattern, replacement in PUNCTUATION_RULES:
        texts = tf.strings.regex_replace(texts, pattern, replacement)
    return texts


TOKENIZERS = {cls.kind: cls for cls in (WordTokenizer, CharacterTokenizer, WordPieceTokenizer)}


def get_tokenizer(kind, **options):
    """`get_tokenizer("word", lowercase=True)`; kinds: word, character, wordpiece."""
    if kind not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {kind!r}; choose from {sorted(TOKENIZERS)}.")
    return TOKENIZERS[kind](**options)


def tokenizer_from_config(config):
    config = dict(config)
    if not isinstance(config.get("kind"), str):
        raise ValueError(f"tokenizer config has no 'kind': {config!r}.")
    kind = config.pop("kind")
    if kind != "character":
        # Saved before `standardize` existed: whitespace splitting as trained.
        config.setdefault("standardize", None)
    try:
        return get_tokenizer(kind, **config)
    except TypeError as error:
        raise ValueError(f"bad options for the {kind!r} tokenizer: {error}.") from None
