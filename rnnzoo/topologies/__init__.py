"""Topologies: one model class (or builder) per task topology, the registry
behind `build_model`, and the named variants."""

from rnnzoo.topologies.base import RNNModel
from rnnzoo.topologies.bidirectional import bidirectional
from rnnzoo.topologies.decoder import SequenceGenerator
from rnnzoo.topologies.encoder_decoder import EncoderDecoder
from rnnzoo.topologies.hierarchical import Hierarchical
from rnnzoo.topologies.many_to_many import ManyToMany
from rnnzoo.topologies.many_to_one import ManyToOne
from rnnzoo.topologies.one_to_many import OneToMany
from rnnzoo.topologies.forecasters import (DirectForecaster, Forecaster, MultiscaleForecaster, SegmentRNN,
                                          Seq2SeqForecaster)
from rnnzoo.topologies.registry import (
    build_model,
    get_model_entry,
    list_models,
    list_topologies,
    register_model,
    register_topology,
)

register_topology("one_to_many", OneToMany)
register_topology("many_to_one", ManyToOne)
register_topology("many_to_many", ManyToMany)
register_topology("encoder_decoder", EncoderDecoder)
register_topology("bidirectional", bidirectional)
register_topology("hierarchical", Hierarchical)
register_topology("segment_rnn", SegmentRNN)
register_topology("direct_forecaster", DirectForecaster)
register_topology("seq2seq_forecaster", Seq2SeqForecaster)
register_topology("multiscale_forecaster", MultiscaleForecaster)

from rnnzoo.topologies import variants  # noqa: E402,F401  (registers the variants)

__all__ = [
    "DirectForecaster", "EncoderDecoder", "Forecaster", "Hierarchical", "ManyToMany", "ManyToOne",
    "MultiscaleForecaster", "OneToMany", "RNNModel", "SegmentRNN", "Seq2SeqForecaster", "SequenceGenerator",
    "bidirectional", "build_model", "get_model_entry", "list_models", "list_topologies", "register_model",
    "register_topology",
]
