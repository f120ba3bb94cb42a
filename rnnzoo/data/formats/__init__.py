"""Loaders for the standard file formats of each task. Each reads local files
only and raises `DataFormatError` (a `ValueError`) naming file and line."""

from rnnzoo.data.formats.audio import list_audio_clips, read_wav, split_fsdd
from rnnzoo.data.formats.bio import load_bio
from rnnzoo.data.formats.captions import load_captions, load_image
from rnnzoo.data.formats.conllu import load_conllu
from rnnzoo.data.formats.panel import Panel, load_long_panel, load_m4_rows, load_panel_folder
from rnnzoo.data.formats.parallel import load_parallel, load_tsv_pairs
from rnnzoo.data.formats.plain_text import load_text
from rnnzoo.data.formats.sentiment import load_class_folders, load_labeled_lines
from rnnzoo.data.formats.time_series import TimeSeries, load_time_series
from rnnzoo.data.formats.word_vectors import load_word_vectors

__all__ = [
    "Panel", "TimeSeries", "list_audio_clips", "load_bio", "load_captions", "load_class_folders", "load_conllu",
    "load_image", "load_labeled_lines", "load_long_panel", "load_m4_rows", "load_panel_folder", "load_parallel", "load_text",
    "load_time_series", "load_tsv_pairs", "load_word_vectors", "read_wav", "split_fsdd",
]
