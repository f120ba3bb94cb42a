"""Small helpers shared by every layer of the package (files, versions)."""

from rnnzoo.utils.files import atomic_write, write_json, write_text

__all__ = ["atomic_write", "write_json", "write_text"]
