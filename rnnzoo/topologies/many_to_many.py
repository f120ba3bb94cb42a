import keras

from rnnzoo.data import PAD_ID
from rnnzoo.topologies.base import RNNModel, constructor_arguments
from rnnzoo.topologies.blocks import (
    check_head,
    default_loss,
    default_metrics,
    encoder_with_head,
)


@keras.saving.register_keras_serializable(package="rnnzoo")
class ManyToMany(RNNModel):
    """Synchronized many-to-many: one prediction per input step (tagging).

    Inputs as `ManyToOne` (`tokens` or `features`, right-padded, masked).
    Output: `(batch, time, num_classes)` logits. Labels equal to
    `ignore_class` (the padding id 0 by default; None counts every label) are
    left out of the default loss and accuracy, so label padding 0 and give
    real tags ids from 1.

    Args: as `ManyToOne`, without `task`/`num_outputs`, plus `ignore_class`.
    """

    def __init__(
        self,
        vocab_size=None,
        input_dim=None,
        num_classes=2,
        cell="lstm",
        units=128,
        num_layers=1,
        bidirectional=False,
        merge_mode="concat",
        dropout=0.0,
        recurrent_dropout=0.0,
        embedding_dim=128,
        mask_zero=True,
        output_activation=None,
        ignore_class=PAD_ID,
        cell_options=None,
        compile=True,
        **kwargs,
    ):
        config = constructor_arguments(locals())
        check_head(
            task="classification", num_classes=num_classes, num_outputs=None,
            output_activation=output_activation,
        )
        inputs, outputs = encoder_with_head(
            per_step=True, head_size=num_classes, vocab_size=vocab_size,
            input_dim=input_dim, embedding_dim=embedding_dim, mask_zero=mask_zero,
            cell=cell, units=units, num_layers=num_layers, dropout=dropout,
            recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            merge_mode=merge_mode, output_activation=output_activation,
            cell_options=cell_options,
        )
        super().__init__(inputs=inputs, outputs=outputs, config=config, compile=compile, **kwargs)

    def default_loss(self):
        config = self._rnnzoo_config
        return default_loss("classification", config["output_activation"], config["ignore_class"])

    def default_metrics(self):
        return default_metrics("classification", self._rnnzoo_config["ignore_class"])
