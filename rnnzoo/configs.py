"""Every recipe's options, written down once: a frozen dataclass per recipe,
made of the groups all recipes share (`DataConfig`, `ModelConfig`,
`TrainingConfig`, `OutputConfig`) and the recipe's own fields. Each field
says its type, default and help (and, where it has them, its choices, a
check of its value and its command-line flag); the command line is built
from these classes (`rnnzoo.cli.arguments`), never the other way round.

```python
from rnnzoo.configs import TaggingConfig

config = TaggingConfig(task="ner", epochs=3)       # checked like the command line: bad values raise ValueError
config = dataclasses.replace(config, units=64)     # a changed copy
```

A recipe's defaults differ from the shared ones where its field asks for it
(`@defaults(units=256, ...)` above the class). The field names are the run
folder's options (`config.json`), from which the run's name is derived, so a
renamed or added field gives every earlier run a new name: add fields to a
recipe's own class, not to a shared group, unless every recipe needs them.
"""

import dataclasses
import types
import typing

from rnnzoo.cells import list_cells
from rnnzoo.tasks.captioning import BACKBONES
from rnnzoo.topologies.blocks import POOLING
from rnnzoo.topologies.forecasters import NORMALIZATIONS
from rnnzoo.training.distribution import CHOICES as DISTRIBUTE_CHOICES
from rnnzoo.training.schedules import SCHEDULES
from rnnzoo.utils.backends import BACKENDS

QUANTIZATIONS = ("dynamic", "float16", "int8")


# Checks of a value: each returns an error text, or None when the value is good.
def positive(value):
    return None if value >= 1 else f"must be an integer >= 1, got {value}"


def non_negative(value):
    return None if value >= 0 else f"must be an integer >= 0, got {value}"


def positive_float(value):
    return None if value > 0 else f"must be > 0, got {value}"


def non_negative_float(value):
    return None if value >= 0 else f"must be >= 0, got {value}"


def rate(value):
    return None if 0 <= value < 1 else f"must be in [0, 1), got {value}"


def probability(value):
    return None if 0 < value < 1 else f"must be between 0 and 1 (exclusive), got {value}"


def decay(value):
    return None if 0 < value <= 1 else f"must be in (0, 1], got {value}"


def option(default, help, *, choices=None, check=None, flag=None, nargs=None, metavar=None, negatable=False):
    """A config field: its default and help, with optionally the allowed
    `choices` (a tuple, or a function returning one), a `check` of each value,
    the command-line `flag` (default `--field-name`), `nargs` for a tuple,
    and `negatable` (a `--no-NAME` flag for a switch that defaults to off)."""
    metadata = {"help": help, "choices": choices, "check": check, "flag": flag, "nargs": nargs, "metavar": metavar,
                "negatable": negatable}
    return dataclasses.field(default=default, metadata=metadata)


def defaults(**values):
    """Class decorator (under `@dataclasses.dataclass`): the shared fields
    named here take these defaults in this recipe; their help, checks and
    place stay those of the shared group."""

    def override(cls):
        annotations = cls.__dict__.get("__annotations__", {})
        for name, value in values.items():
            base = next((c.__dataclass_fields__[name] for c in cls.__mro__[1:]
                         if name in getattr(c, "__dataclass_fields__", {})), None)
            if base is None:
                raise TypeError(f"{cls.__name__}: no shared field {name!r} to give a default.")
            annotations[name] = base.type
            setattr(cls, name, dataclasses.field(default=value, metadata=base.metadata))
        cls.__annotations__ = annotations
        return cls

    return override


def command_flag(field):
    """The field's command-line flag: its `flag`, else `--field-name`."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def field_choices(field):
    choices = field.metadata.get("choices")
    return tuple(choices()) if callable(choices) else choices


def value_type(field):
    """The type of one value of `field`: `int` for `int | None` and for
    `tuple[int, ...]`."""
    kind = field.type
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    if typing.get_origin(kind) is tuple:
        kind = typing.get_args(kind)[0]
    return kind


def check_value(field, value):
    """An error text for one value of `field`, or None."""
    choices = field_choices(field)
    if choices is not None and value not in choices:
        return f"invalid choice: {value!r} (choose from {', '.join(map(str, choices))})"
    check = field.metadata.get("check")
    return check(value) if check is not None else None


class Config:
    """The checks every config runs when made (from the command line or in
    Python): each value must be one of its field's choices and pass its
    check; a wrong value raises `ValueError` naming the field."""

    GROUP = None  # the recipe's own option group (its command-line section)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None or isinstance(value, dict):
                continue
            for item in value if isinstance(value, (tuple, list)) else (value,):
                error = check_value(field, item)
                if error:
                    raise ValueError(f"{field.name}: {error}")

    def options(self):
        """The configuration as a plain dict (run folders, reports, cards)."""
        return dataclasses.asdict(self)

    def command_line(self):
        """The flags that the command line (`rnnzoo.cli.arguments.parse_config`)
        reads back as this configuration: one per field that differs from its
        default (to run the same recipe in another process)."""
        argv = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value == field.default:
                continue
            flag = command_flag(field)  # (a field that may be None has None as its default)
            if value_type(field) is bool:
                argv.append(flag if value else "--no-" + flag[2:])
            elif value_type(field) is dict:  # `--cell-option KEY=VALUE` per entry
                argv += [part for key, item in value.items()
                         for part in (flag, f"{key}={str(item).lower() if isinstance(item, bool) else item}")]
            elif isinstance(value, tuple):
                argv += [flag, *map(str, value)]
            else:
                argv += [flag, str(value)]
        return argv


@dataclasses.dataclass(frozen=True)
class DataConfig(Config):
    data: str = option("builtin", "'builtin' (generated, no download), a dataset name, or a path to files in a "
                                  "standard format")
    data_root: str | None = option(None, "folder holding named datasets (unset: $RNNZOO_DATA, then the download "
                                         "cache)")
    download: bool = option(False, "download a named dataset (checksummed, into the cache) when it is not found "
                                   "locally")
    max_examples: int | None = option(None, "use at most this many training examples", check=positive)
    encoding: str = option("utf-8", "text encoding of --data files (e.g. latin-1)")


@dataclasses.dataclass(frozen=True)
class ModelConfig(Config):
    cell: str = option("lstm", "recurrent cell: " + ", ".join(list_cells()), choices=list_cells, metavar="CELL")
    units: int = option(128, "units of each recurrent layer", check=positive)
    num_layers: int = option(1, "stacked recurrent layers", check=positive, flag="--layers")
    embedding_dim: int = option(128, "size of the token embeddings", check=positive)
    bidirectional: bool = option(True, "read the input both ways (encoders and taggers)", negatable=True)
    cell_options: dict | None = option(None, "an option of the cell, repeatable (e.g. --cell-option block=true: the "
                                             "paper's residual block around a modern cell; --cell-option heads=8)",
                                       flag="--cell-option", metavar="KEY=VALUE")
    dropout: float = option(0.3, "input dropout of each recurrent layer and before the output layer", check=rate)

    def model_options(self, **overrides):
        """These fields as `rnnzoo.build_model` arguments, uncompiled (a
        recipe compiles with its own optimizer), with a recipe's `overrides`."""
        fields = ("cell", "cell_options", "units", "num_layers", "bidirectional", "dropout", "embedding_dim")
        return {**{name: getattr(self, name) for name in fields}, "compile": False, **overrides}


@dataclasses.dataclass(frozen=True)
class TrainingConfig(Config):
    epochs: int = option(10, "the most epochs to train", check=positive)
    batch_size: int = option(32, "examples per batch (the global batch with --distribute)", check=positive)
    learning_rate: float = option(1e-3, "Adam's learning rate", check=positive_float)
    time_limit: float | None = option(None, "stop training after this much wall time (the epoch under way is cut "
                                            "short, validated and kept); for comparisons at an equal training time",
                                      check=positive_float, metavar="MINUTES")
    clipnorm: float = option(1.0, "clip gradients to this global norm", check=positive_float)
    patience: int = option(3, "stop after this many epochs without a better validation score", check=positive)
    lr_decay: float = option(1.0, "multiply the learning rate by this after each epoch without a better "
                                  "validation score (1: never)", check=decay)
    seed: int = option(0, "seeds the data split, shuffling, initial weights and dropout")
    deterministic: bool = option(True, "TensorFlow op determinism: the same seed and data give the same metrics "
                                       "(on GPU some kernels are slower; --no-deterministic trades that for speed)")
    smoke: bool = option(False, "two training steps per epoch and small evaluations (for tests)")
    distribute: str = option("none", "data-parallel training: 'mirrored' over this machine's GPUs (or "
                                     "--cpu-devices), 'multiworker' over the cluster in TF_CONFIG; --batch-size is "
                                     "the global batch", choices=DISTRIBUTE_CHOICES)
    cpu_devices: int | None = option(None, "split the CPU into this many logical devices (to try --distribute "
                                           "without GPUs)", check=positive)
    backend: str | None = option(None, "the Keras backend to train on (default: KERAS_BACKEND, else tensorflow); "
                                       "on jax or torch, the finished run is evaluated and exported by TensorFlow in "
                                       "a process of its own, into the same run folder", choices=BACKENDS)
    verbose: int = option(1, "Keras progress: 0 silent, 1 progress bar, 2 one line per epoch", choices=(0, 1, 2))
    debug: bool = option(False, "show the traceback of an error, not one line")


@dataclasses.dataclass(frozen=True)
class OutputConfig(Config):
    output: str = option("saved_models", "where run folders go")
    run: str | None = option(None, "run folder name, one folder under OUTPUT/RECIPE (no '/' or '..'; default: "
                                   "derived from the options, so the same command finds and resumes the same run)")
    restart: bool = option(False, "empty the run folder of the same name and train from scratch (only a folder "
                                  "rnnzoo made: one holding run.json)")
    export_quantize: tuple[str, ...] = option(("dynamic",), "TFLite quantizations exported besides float32, each "
                                                            "scored on validation data (int8 fixes the input "
                                                            "length of its own file to the longest training "
                                                            "example)", choices=QUANTIZATIONS, nargs="*")


@dataclasses.dataclass(frozen=True)
class RecipeConfig(OutputConfig, TrainingConfig, ModelConfig, DataConfig):
    """The options every recipe shares, in the order the command line lists them."""


def at_least_one(value):
    return None if value >= 1 else f"must be >= 1, got {value}"


SCHEDULES = ("auto", "constant", "slanted_triangular")


@dataclasses.dataclass(frozen=True)
class FineTuningConfig(Config):
    """Starting a classifier from a pretrained language model (ULMFiT,
    Howard & Ruder 2018; `rnnzoo.training.transfer`)."""

    init_from: str | None = option(None, "start from a word-level language model (a run folder or preset of "
                                         "recipes.language_model): its vocabulary, embedding and recurrent layers, "
                                         "fine-tuned the ULMFiT way", metavar="PRESET")
    layer_decay: float = option(2.6, "with --init-from: each layer group below the top learns this many times "
                                     "slower (discriminative fine-tuning)", check=at_least_one)
    gradual_unfreezing: bool = option(True, "with --init-from: the head alone learns in the first epoch, then one "
                                            "more layer group from the top each epoch", negatable=True)
    schedule: str = option("auto", "the learning rate over the steps: constant, or slanted triangular (up to "
                                   "--learning-rate over the first tenth, then down to a 32nd of it); auto: slanted "
                                   "triangular with --init-from, else constant", choices=SCHEDULES)


@dataclasses.dataclass(frozen=True)
@defaults(units=128, embedding_dim=128, epochs=8, batch_size=32)
class SentimentConfig(FineTuningConfig, RecipeConfig):
    """Train a sentiment classifier."""

    GROUP = "sentiment"
    tokenizer: str = option("word", "words (punctuation split off) or WordPiece subwords",
                            choices=("word", "wordpiece"))
    vocab_size: int = option(20000, "largest vocabulary (reserved ids included)")
    min_frequency: int = option(1, "rarer tokens become <unk>")
    embeddings: str | None = option(None, "pretrained word vectors in GloVe / word2vec text format (sets "
                                          "--embedding-dim)")
    pooling: str = option("last", "what the classifier reads: the final states, attention over the outputs, "
                                  "their max / mean, or concat: the last step, max and mean side by side (ULMFiT)",
                          choices=POOLING)


@dataclasses.dataclass(frozen=True)
@defaults(cell="gru", units=50, embedding_dim=100, epochs=15, batch_size=32, dropout=0.3, patience=4)
class DocumentConfig(FineTuningConfig, RecipeConfig):
    """Train a document classifier that reads sentences of words."""

    GROUP = "document classification"
    model: str = option("hierarchical", "hierarchical: each sentence's words, then the sentences (Yang et al. "
                                        "2016); flat: the same words as one sequence", choices=("hierarchical", "flat"))
    sentence_pooling: str = option("attention", "hierarchical: how a sentence's words become its vector",
                                   choices=POOLING)
    pooling: str = option("attention", "how the sentences (flat: the words) become the document's vector",
                          choices=POOLING)
    max_sentences: int = option(60, "sentences read per document (the rest are cut)", check=positive)
    max_words: int = option(50, "words read per sentence (the rest are cut)", check=positive)
    tokenizer: str = option("word", "words (punctuation split off) or WordPiece subwords",
                            choices=("word", "wordpiece"))
    vocab_size: int = option(30000, "largest vocabulary (reserved ids included)")
    min_frequency: int = option(2, "rarer tokens become <unk>")
    fold: int | None = option(None, "movie_reviews: test on fold K (0-9) of the 10-fold cross-validation (default: "
                                    "all ten, a run folder each, then their mean and standard deviation)",
                              choices=tuple(range(10)))
    explain: int = option(3, "test documents drawn with their attention (PNG and HTML)")


@dataclasses.dataclass(frozen=True)
@defaults(units=128, embedding_dim=100, epochs=10, batch_size=32, dropout=0.5)
class TaggingConfig(RecipeConfig):
    """Train a POS or NER tagger."""

    GROUP = "tagging"
    task: str = option("pos", "part-of-speech tags (token accuracy) or BIO entities (span F1)", choices=("pos", "ner"))
    output_layer: str = option("auto", "auto: CRF for NER (with BIO constraints), softmax for POS",
                               choices=("auto", "softmax", "crf"))
    tag: str = option("upos", "CoNLL-U column to predict", choices=("upos", "xpos"))
    char_dim: int = option(25, "character embedding size (0: no characters)")
    char_units: int = option(25, "units of the character encoder's BiLSTM")
    max_word_length: int = option(20, "characters read per word")
    vocab_size: int = option(30000, "largest word vocabulary (reserved ids included)")
    min_frequency: int = option(2, "rarer training words become <unk> (their characters still count)")
    lowercase: bool = option(True, "lowercase word lookups")
    string_embeddings: str | None = option(None, "contextual string embeddings: character language models (run "
                                                 "folders or presets, a forward and/or a --backward one), "
                                                 "comma-separated")
    fine_tune_string_embeddings: bool = option(False, "train the string embeddings' language models with the "
                                                      "tagger (default: frozen)")

    @property
    def head(self):
        """The output layer `auto` stands for: CRF for NER, softmax for POS."""
        if self.output_layer != "auto":
            return self.output_layer
        return "crf" if self.task == "ner" else "softmax"


@dataclasses.dataclass(frozen=True)
@defaults(units=256, embedding_dim=256, epochs=15, batch_size=64, dropout=0.3, patience=3)
class TranslationConfig(RecipeConfig):
    """Train an attention encoder-decoder translator."""

    GROUP = "translation"
    tokenizer: str = option("wordpiece", "words (punctuation split off) or WordPiece subwords, per language",
                            choices=("word", "wordpiece"))
    vocab_size: int = option(8000, "largest vocabulary per language")
    lowercase: bool = option(False, "lowercase both languages (default: keep case)")
    attention: str = option("luong", "attention over the encoder's outputs", choices=("luong", "bahdanau", "none"))
    source_language: str = option("en", "multi30k: source file suffix")
    target_language: str = option("de", "multi30k: target file suffix")
    scheduled_sampling: str = option("none", "feed the decoder its own predictions with a probability that grows "
                                             "by this schedule", choices=("none",) + tuple(SCHEDULES))
    sampling_max: float = option(0.25, "the largest scheduled-sampling probability (reached at the last epoch)")
    max_train_length: int = option(64, "drop training pairs with more tokens than this on either side")
    beam_size: int = option(5, "beam search width (1: greedy)")
    length_penalty: float = option(0.6, "GNMT alpha (0: raw log-probability)")
    examples: int = option(5, "test translations to print")


@dataclasses.dataclass(frozen=True)
@defaults(units=128, num_layers=2, epochs=30, batch_size=32, dropout=0.2, learning_rate=2e-3, patience=5)
class SpeechConfig(RecipeConfig):
    """Train a CTC recognizer of spoken digit strings."""

    GROUP = "speech"
    mel_bins: int = option(40, "log-mel features per 10 ms frame")
    conv_filters: tuple[int, ...] = option((64, 64), "filters of each 1-D convolution before the recurrent layers "
                                                     "(none: no front end)", nargs="*")
    min_digits: int = option(2, "fewest digits in a generated string")
    max_digits: int = option(5, "most digits in a generated string")
    strings: int = option(6000, "training strings")
    beam_width: int = option(10, "CTC beam search width")


@dataclasses.dataclass(frozen=True)
@defaults(units=256, embedding_dim=64, epochs=20, batch_size=64, dropout=0.2, bidirectional=False, patience=4)
class CaptioningConfig(RecipeConfig):
    """Train an image captioner."""

    GROUP = "captioning"
    builtin: str = option("digit_strips", "built-in data for --data builtin", choices=("digit_strips", "shapes"))
    builtin_size: int | None = option(None, "training examples generated for built-in data (default 3,000)")
    images: str | None = option(None, "image (or .npy feature) folder of a captions file")
    image_size: tuple[int, int] = option((64, 64), "images from files are resized to this", nargs=2,
                                         metavar=("HEIGHT", "WIDTH"))
    image_encoder: str = option("cnn", "a CNN trained from scratch, or a frozen keras.applications backbone",
                                choices=("cnn",) + tuple(BACKBONES))
    weights: str = option("imagenet", "backbone weights (imagenet downloads them once into ~/.keras)",
                          choices=("imagenet", "none"))
    cnn_filters: tuple[int, ...] = option((32, 64, 128), "filters per CNN block", nargs="+")
    attention: str = option("luong", "attention over the CNN feature map (cnn encoder only)",
                            choices=("luong", "bahdanau", "none"))
    augment: tuple[float, float, float] = option((0.0, 0.0, 0.0), "random translation, zoom and rotation in "
                                                                  "training (cnn encoder), e.g. 0.05 0.1 0.02",
                                                 nargs=3, metavar=("TRANSLATION", "ZOOM", "ROTATION"))
    beam_size: int = option(3, "beam search width (1: greedy)")
    length_penalty: float = option(0.0, "GNMT alpha (0: raw log-probability)")


@dataclasses.dataclass(frozen=True)
@defaults(cell="gru", units=512, dropout=0.5, epochs=10, batch_size=256, patience=3, bidirectional=False)
class ForecastingConfig(RecipeConfig):
    """Train a time-series forecaster (SegRNN)."""

    GROUP = "forecasting"
    lookback: int = option(96, "steps of history read")
    horizon: int = option(96, "steps forecast (the literature: 96, 192, 336, 720)")
    model: str = option("segment_rnn", "SegRNN (segments, parallel decoding), a recurrent stack with a dense head "
                                       "emitting the horizon at once, an encoder-decoder forecasting one step "
                                       "at a time, or a two-level (multiscale) recurrent encoder of segments and "
                                       "their steps", choices=("segment_rnn", "direct", "seq2seq", "multiscale"))
    segment_length: int = option(24, "segment_rnn, multiscale: steps per segment (divides the lookback; "
                                     "segment_rnn: the horizon too)")
    channel_independent: bool = option(False, "direct, seq2seq, multiscale: read each column as its own sequence "
                                              "(segment_rnn always does)")
    features: str = option("M", "M: every column in and out (multivariate); S: the --target column only",
                           choices=("M", "S"))
    target: str = option("OT", "the column forecast with --features S")
    normalization: str = option("last", "per window: subtract its last value, reversible instance normalization, "
                                        "divide by its mean absolute value, or none",
                           choices=tuple(n or "none" for n in NORMALIZATIONS))
    date_column: str | None = option(None, "the CSV column of timestamps (default: the first)")
    fill: str | None = option(None, "fill gaps in time and empty cells (default: refuse them)",
                              choices=("previous", "linear"))
    calendar: bool = option(False, "also read each step's hour of day and day of week (sine and cosine), for the "
                                   "window and the horizon; the served model then takes `time`, the hour of the "
                                   "window's last row since 1970")


@dataclasses.dataclass(frozen=True)
@defaults(cell="gru", units=256, bidirectional=False, dropout=0.1, epochs=40, batch_size=256, patience=5)
class GlobalForecastingConfig(RecipeConfig):
    """Train one forecaster for many series, with conformal intervals."""

    GROUP = "global forecasting"
    lookback: tuple[int, ...] = option((168,), "values of each series read (168: a week of hours); several "
                                               "(--lookback 168 336): a forecaster per lookback, an ensemble",
                                       check=positive, nargs="+")
    ensemble: int = option(1, "forecasters per lookback, each from its own initial weights, trained side by side; "
                              "the members' median answers", check=positive)
    horizon: int = option(48, "values forecast (M4 Hourly: 48)", check=positive)
    period: int = option(24, "seasonal period of the series (MASE's scale, the seasonal baselines; 24 for hourly)",
                         check=positive)
    model: str = option("segment_rnn", "SegRNN (segments, parallel decoding), a recurrent stack with a dense head, "
                                       "an encoder-decoder, or a two-level encoder of segments and their steps",
                        choices=("segment_rnn", "direct", "seq2seq", "multiscale"))
    segment_length: int = option(24, "segment_rnn, multiscale: values per segment", check=positive)
    dilations: tuple[int, ...] | None = option(None, "direct: one per layer (--layers 4 --dilations 1 2 4 8): "
                                                     "layer i steps that many values at a time (dilated RNN, as "
                                                     "ES-RNN stacks them)", check=positive, nargs="+")
    residual: bool = option(False, "direct: each layer after the first adds its input to its output")
    seasonal_skip: bool = option(False, "the model forecasts a correction to the seasonal-naive forecast (the last "
                                        "--period values repeated), added to it")
    normalization: str = option("scale", "per window: none, subtract its last value, instance normalization, or "
                                         "divide by its mean absolute value (series of any size share one model)",
                                choices=tuple(n or "none" for n in NORMALIZATIONS))
    series_embedding: int = option(0, "a learned vector of this many values per training series, read beside each "
                                      "window (the forecasters' static covariate; 0: none)", check=non_negative)
    quantiles: tuple[float, ...] | None = option(None, "forecast these quantile levels (0.5 among them, e.g. 0.025 "
                                                       "0.5 0.975) with the pinball loss; the interval starts from "
                                                       "them (conformalized quantile regression)",
                                                 check=probability, nargs="+")
    distribution: str = option("point", "forecast a distribution per value (its mean the forecast) with the "
                                        "negative log-likelihood; the interval starts from its quantiles",
                               choices=("point", "normal", "student_t"))
    windows_per_epoch: int = option(50000, "training windows drawn (without replacement) from all series each "
                                           "epoch", check=positive)
    coverage: float = option(0.95, "nominal coverage of the conformal intervals (M4: 0.95)", check=probability)


@dataclasses.dataclass(frozen=True)
@defaults(units=256, embedding_dim=64, num_layers=2, bidirectional=False, dropout=0.2, epochs=10, batch_size=64,
          learning_rate=2e-3, patience=3)
class LanguageModelConfig(RecipeConfig):
    """Train a stateful recurrent language model."""

    GROUP = "language model"
    level: str = option("character", "model characters or words", choices=("character", "word"))
    sequence_length: int = option(100, "truncated BPTT window (tokens)")
    vocab_size: int = option(20000, "word level: largest vocabulary")
    prompt: str | None = option(None, "text to continue (default: the validation text's start)")
    generate: int = option(300, "tokens to sample after the prompt")
    temperature: float = option(0.8, "sampling temperature (lower: safer)")
    top_k: int = option(0, "sample among the k most likely tokens (0: all)")
    backward: bool = option(False, "read the text right to left (a backward model: contextual string embeddings)")
    init_from: str | None = option(None, "fine-tune another language model (a run folder or preset) on this text: "
                                         "its vocabulary, architecture and weights (ULMFiT's second stage)")
    # The AWD-LSTM regularizers (Merity et al. 2018), all off by default.
    weight_drop: float = option(0.0, "DropConnect on the recurrent weights (lstm, gru): a fraction dropped per batch",
                                check=rate)
    embedding_dropout: float = option(0.0, "drop whole words (rows of the embedding matrix) per batch", check=rate)
    locked_dropout: bool = option(False, "the output dropout uses one mask per sequence for all its steps")
    tie_embeddings: bool = option(False, "predict tokens with the embedding matrix (tied input and output embeddings)")
    activation_regularization: float = option(0.0, "AR: add alpha * mean(h^2) of the last layer's outputs to the "
                                                   "loss", check=non_negative_float, flag="--ar")
    temporal_activation_regularization: float = option(0.0, "TAR: add beta * mean((h_t - h_{t-1})^2) to the loss",
                                                       check=non_negative_float, flag="--tar")

    def model_options(self, **overrides):
        awd = {name: getattr(self, name) for name in ("embedding_dropout", "locked_dropout", "tie_embeddings",
                                                      "activation_regularization",
                                                      "temporal_activation_regularization")}
        cell_options = {**(self.cell_options or {}), **({"weight_drop": self.weight_drop} if self.weight_drop else {})}
        return super().model_options(**{**awd, "cell_options": cell_options or None, **overrides})


# Each recipe's config class, by recipe name (`rnnzoo run NAME`).
RECIPE_CONFIGS = {"sentiment": SentimentConfig, "document_classification": DocumentConfig, "tagging": TaggingConfig,
                  "translation": TranslationConfig, "language_model": LanguageModelConfig,
                  "captioning": CaptioningConfig, "speech": SpeechConfig, "forecasting": ForecastingConfig,
                  "global_forecasting": GlobalForecastingConfig}
