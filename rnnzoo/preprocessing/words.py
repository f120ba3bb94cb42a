"""Words with their characters: raw sentences split as the Penn Treebank
does (`sentence_words`), and word and character ids, the same way in Python
(training) and in a TensorFlow graph (serving) (`WordEncoder`, saved as
`word_encoder.json`, `words.txt`, `characters.txt` and, for contextual
string embeddings, `context_characters.txt`)."""

import os

from rnnzoo.data.reading import DataFormatError, read_json
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.utils.files import write_json


def sentence_words(sentences):
    """Raw sentences -> word lists: a string has its punctuation and clitics
    split off as the Treebank does ("isn't it?" -> `is n't it ?`) and is
    split at spaces; a list of words is kept as it is."""
    import tensorflow as tf

    from rnnzoo.data.tokenizers import split_punctuation

    sentences = list(sentences)
    strings = [i for i, s in enumerate(sentences) if isinstance(s, str)]
    words = [list(s) for s in sentences]
    if strings:
        split = tf.strings.split(split_punctuation([sentences[i] for i in strings])).to_list()
        for i, row in zip(strings, split):
            words[i] = [w.decode("utf-8") for w in row]
    return words


# A sentence as character language models read it (contextual string embeddings): a line of its own.
CONTEXT_START, CONTEXT_END = "\n", "\n"


class WordEncoder:
    """Words -> word ids and character ids, the same way in Python (training)
    and in a TensorFlow graph (serving). With a `context` vocabulary (a
    character language model's), also the whole sentence as characters
    (`context`: a line break, the words joined by spaces, a line break) and
    the positions in it of each word's first and last character
    (`word_starts`, `word_ends`): what `ContextualStringEmbeddings` reads."""

    FILE = "word_encoder.json"
    CONTEXT_FILE = "context_characters.txt"

    def __init__(self, words, characters, lowercase, max_word_length, context=None):
        self.words, self.characters, self.context = words, characters, context
        self.lowercase, self.max_word_length = lowercase, max_word_length

    @classmethod
    def adapt(cls, sentences, *, lowercase=True, min_frequency=1, max_size=None, max_word_length=20,
              characters=True):
        """Word (and character) vocabularies from training sentences."""
        import tensorflow as tf

        flat = [w for s in sentences for w in s.words]
        keys = cls._lower(tf.constant(flat)) if lowercase else flat
        words = Vocabulary.build([keys], min_frequency, max_size)
        characters = Vocabulary.build([list(w[:max_word_length]) for w in flat]) if characters else None
        return cls(words, characters, lowercase, max_word_length)

    @staticmethod
    def _lower(words):
        import tensorflow as tf

        return [w.decode("utf-8") for w in tf.strings.lower(words, encoding="utf-8").numpy().tolist()]

    def encode(self, sentences):
        """Lists: word ids per sentence, and character ids per word (or None)."""
        import tensorflow as tf

        flat = [w for s in sentences for w in s.words]
        ids = self.words.lookup(self._lower(tf.constant(flat)) if self.lowercase else flat)
        word_ids, chars, start = [], [], 0
        for sentence in sentences:
            end = start + len(sentence.words)
            word_ids.append(ids[start:end])
            if self.characters is not None:
                chars.append([self.characters.lookup(list(w[: self.max_word_length])) for w in sentence.words])
            start = end
        return word_ids, (chars if self.characters is not None else None)

    def input_columns(self, sentences):
        """The model's inputs as Python lists, by input name: `tokens`,
        then `characters` and the `context` inputs when the encoder has them."""
        word_ids, chars = self.encode(sentences)
        columns = {"tokens": word_ids}
        if chars is not None:
            columns["characters"] = chars
        if self.context is not None:
            columns["context"], columns["word_starts"], columns["word_ends"] = [], [], []
            for sentence in sentences:
                text = CONTEXT_START + " ".join(sentence.words) + CONTEXT_END
                columns["context"].append(self.context.lookup(list(text)))
                starts, position = [], len(CONTEXT_START)
                for word in sentence.words:
                    starts.append(position)
                    position += len(word) + 1
                columns["word_starts"].append(starts)
                columns["word_ends"].append([start + len(word) - 1 for start, word in zip(starts, sentence.words)])
        return columns

    def tf_encode(self, words):
        """Ragged words `(batch, None)` -> model inputs (dense, right-padded)."""
        import tensorflow as tf

        keys = tf.strings.lower(words, encoding="utf-8") if self.lowercase else words
        inputs = {"tokens": self.words.tf_lookup(keys).to_tensor()}
        if self.characters is not None:
            chars = tf.strings.unicode_split(words, "UTF-8")[:, :, : self.max_word_length]
            inputs["characters"] = self.characters.tf_lookup(chars).to_tensor()
        if self.context is not None:
            text = CONTEXT_START + tf.strings.reduce_join(words, axis=1, separator=" ") + CONTEXT_END
            inputs["context"] = self.context.tf_lookup(tf.strings.unicode_split(text, "UTF-8")).to_tensor()
            lengths = tf.strings.length(words, unit="UTF8_CHAR")
            starts = len(CONTEXT_START) + tf.math.cumsum(lengths + 1, axis=1, exclusive=True)
            inputs["word_starts"] = starts.to_tensor()
            inputs["word_ends"] = (starts + lengths - 1).to_tensor()
        return inputs

    def tables(self):
        return [v.tf_table() for v in (self.words, self.characters, self.context) if v is not None]

    def save(self, folder):
        self.words.save(os.path.join(folder, "words.txt"))
        if self.characters is not None:
            self.characters.save(os.path.join(folder, "characters.txt"))
        if self.context is not None:
            self.context.save(os.path.join(folder, self.CONTEXT_FILE))
        write_json(os.path.join(folder, self.FILE), {"lowercase": self.lowercase,
                                                     "max_word_length": self.max_word_length,
                                                     "characters": self.characters is not None,
                                                     "context": self.context is not None})

    @classmethod
    def load(cls, folder):
        path = os.path.join(folder, cls.FILE)
        config = read_json(path)
        kinds = {"lowercase": bool, "max_word_length": int, "characters": bool, "context": bool}
        if isinstance(config, dict):
            config.setdefault("context", False)  # written before contextual string embeddings
        if not isinstance(config, dict):
            raise DataFormatError(path, None, f"expected a JSON object with {sorted(kinds)}.")
        for key, kind in kinds.items():
            if type(config.get(key)) is not kind:
                raise DataFormatError(path, None, f"{key!r} must be a {kind.__name__}, found {config.get(key)!r}.")
        if config["max_word_length"] < 1:
            raise DataFormatError(path, None, f"'max_word_length' must be >= 1, found {config['max_word_length']}.")
        characters = Vocabulary.load(os.path.join(folder, "characters.txt")) if config["characters"] else None
        context = Vocabulary.load(os.path.join(folder, cls.CONTEXT_FILE)) if config["context"] else None
        return cls(Vocabulary.load(os.path.join(folder, "words.txt")), characters,
                   config["lowercase"], config["max_word_length"], context)
