"""Column files of entity tags (CoNLL-2003, WNUT-17): a word and its tag per
line, the word in the first column and the tag in the last; sentences are
separated by blank lines or lines holding only whitespace (WNUT-17 uses a
lone tab)."""

import re

from rnnzoo.data.examples import TaggedSentence
from rnnzoo.data.reading import DataFormatError, read_lines, require_examples

TAG_PATTERN = re.compile(r"^(O|[BIES]-\S+)$")


def load_bio(path, encoding="utf-8"):
    """Sentences of (words, BIO / IOB1 / BIOES tags). `-DOCSTART-` lines
    (CoNLL-2003 document breaks) are skipped."""
    sentences, words, tags = [], [], []
    for number, line in read_lines(path, encoding):
        if not line.strip():
            if words:
                sentences.append(TaggedSentence(words, tags))
                words, tags = [], []
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields]
        if fields[0] == "-DOCSTART-":
            continue
        if len(fields) < 2 or not fields[0]:
            raise DataFormatError(path, number, f"expected `word<TAB>tag`, found {line!r}.")
        tag = fields[-1]
        if not TAG_PATTERN.match(tag):
            raise DataFormatError(path, number, f"expected a tag such as O, B-PER or I-LOC, found {tag!r}.")
        words.append(fields[0])
        tags.append(tag)
    if words:
        sentences.append(TaggedSentence(words, tags))
    return require_examples(sentences, path, "sentences")
