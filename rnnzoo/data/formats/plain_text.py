"""Plain text for language modelling."""

from rnnzoo.data.reading import read_text, require_examples


def load_text(path, encoding="utf-8"):
    """The file's text, unchanged; an empty (or whitespace-only) file raises."""
    text = read_text(path, encoding)
    require_examples(text.strip(), path, "text")
    return text
