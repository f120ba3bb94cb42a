"""Parallel text for translation: two line-aligned files (Multi30k), or
tab-separated pairs (the Anki / Tatoeba `English<TAB>French[<TAB>attribution]`
format)."""

from rnnzoo.data.examples import TextPair
from rnnzoo.data.reading import DataFormatError, read_lines, require_examples


def load_parallel(source_path, target_path, encoding="utf-8"):
    """Pairs line by line; files of different lengths or empty lines raise."""
    sources = [line for _, line in read_lines(source_path, encoding)]
    targets = [line for _, line in read_lines(target_path, encoding)]
    if len(sources) != len(targets):
        raise ValueError(
            f"parallel files differ in length: {source_path} has {len(sources)} lines, "
            f"{target_path} has {len(targets)}."
        )
    for path, lines in ((source_path, sources), (target_path, targets)):
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                raise DataFormatError(path, number, "empty sentence in a line-aligned file.")
    pairs = [TextPair(s.strip(), t.strip()) for s, t in zip(sources, targets)]
    return require_examples(pairs, source_path, "sentence pairs")


def load_tsv_pairs(path, encoding="utf-8"):
    """`source<TAB>target` per line; further columns (attribution) are ignored."""
    pairs = []
    for number, line in read_lines(path, encoding):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            raise DataFormatError(path, number, f"expected `source<TAB>target`, found {line!r}.")
        pairs.append(TextPair(fields[0].strip(), fields[1].strip()))
    return require_examples(pairs, path, "sentence pairs")
