"""CoNLL-U (Universal Dependencies): ten tab-separated columns per word,
`#` comments, a blank line after each sentence."""

from rnnzoo.data.examples import TaggedSentence
from rnnzoo.data.reading import DataFormatError, read_blocks, require_examples

TAG_COLUMNS = {"upos": 3, "xpos": 4}


def load_conllu(path, tag="upos", encoding="utf-8"):
    """Sentences of (word forms, UPOS or XPOS tags). Multiword-token lines
    (`3-4`) and empty nodes (`8.1`) are skipped, as the format defines."""
    if tag not in TAG_COLUMNS:
        raise ValueError(f"tag must be one of {sorted(TAG_COLUMNS)}, got {tag!r}.")
    column = TAG_COLUMNS[tag]
    sentences = []
    for block in read_blocks(path, encoding):
        words, tags = [], []
        for number, line in block:
            if line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 10:
                raise DataFormatError(path, number, f"expected 10 tab-separated columns, found {len(fields)}.")
            word_id = fields[0]
            if "-" in word_id or "." in word_id:
                continue  # multiword token or empty node
            if not word_id.isdigit():
                raise DataFormatError(path, number, f"expected a word ID (1, 2, ...), found {word_id!r}.")
            if int(word_id) != len(words) + 1:
                raise DataFormatError(
                    path, number, f"word ID {word_id} follows ID {len(words)}; is a blank line missing?")
            if not fields[1] or not fields[column]:
                raise DataFormatError(path, number, f"empty word form or {tag.upper()} column.")
            words.append(fields[1])
            tags.append(fields[column])
        if words:
            sentences.append(TaggedSentence(words, tags))
    return require_examples(sentences, path, "sentences")
