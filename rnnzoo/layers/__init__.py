"""Custom Keras layers used by the topologies (all registered serializables),
and the output heads: `heads` (softmax, CRF, CTC: what per-step logits mean)
and `distribution_heads` (quantile, Normal, Student-t forecasts and their
losses)."""

from rnnzoo.layers.attention_pooling import AttentionPooling
from rnnzoo.layers.calendar import CalendarFeatures
from rnnzoo.layers.character_encoder import CharacterEncoder
from rnnzoo.layers.conv_front_end import ConvFrontEnd
from rnnzoo.layers.crf import CRF
from rnnzoo.layers.dilated import DilatedRNN
from rnnzoo.layers.image_augmentation import ImageAugmentation
from rnnzoo.layers.padding_mask import PaddingMask
from rnnzoo.layers.scheduled_sampling import ScheduledSampling
from rnnzoo.layers.segment_encoder import SegmentEncoder
from rnnzoo.layers.sequence_pooling import SequencePooling
from rnnzoo.layers.string_embeddings import ContextualStringEmbeddings

__all__ = ["AttentionPooling", "CRF", "CalendarFeatures", "CharacterEncoder", "ContextualStringEmbeddings",
           "ConvFrontEnd", "DilatedRNN", "ImageAugmentation", "PaddingMask", "ScheduledSampling", "SegmentEncoder",
           "SequencePooling"]
