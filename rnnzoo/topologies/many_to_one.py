import keras

from rnnzoo.topologies.base import RNNModel, constructor_arguments
from rnnzoo.layers.heads import default_loss, default_metrics
from rnnzoo.topologies.blocks import (
    check_head,
    encoder_with_head,
)


@keras.saving.register_keras_serializable(package="rnnzoo")
class ManyToOne(RNNModel):
    """A sequence in, one prediction out (sentiment, sequence regression).

    Inputs: token ids `(batch, time)` named `tokens` (id 0 is padding and is
    masked) when `vocab_size` is given, or float features `(batch, time,
    input_dim)` named `features` (all-zero steps are padding) when
    `input_dim` is given. Pad on the right.

    Output: `(batch, num_classes)` logits for `task="classification"`, or
    `(batch, num_outputs)` values for `task="regression"`.

    Args:
        vocab_size / input_dim: the input kind (exactly one).
        task: "classification" or "regression".
        num_classes: classes for classification (>= 2).
        num_outputs: values for regression.
        cell: a registered cell name (`rnnzoo.list_cells()`).
        units: hidden size of each recurrent layer (each direction).
        num_layers: stacked recurrent layers.
        bidirectional, merge_mode: wrap each layer in `keras.layers.Bidirectional`.
        dropout: input dropout of each recurrent layer and before the head.
        recurrent_dropout: dropout on the recurrent state (disables cuDNN).
        embedding_dim: embedding size for token inputs.
        mask_zero: treat id 0 / all-zero steps as padding.
        output_activation: None (logits), or an activation for the head.
        pooling: what the head reads: "last" (the final state of each
            direction), "attention" (a context vector's weights over the
            last layer's outputs, Yang et al. 2016), or "max" / "mean" of
            those outputs over the real (unmasked) steps (Conneau et al. 2017).
        cell_options: extra keyword arguments for the cell (e.g. activation).
        compile: compile with default optimizer, loss and metrics.
    """

    def __init__(
        self,
        vocab_size=None,
        input_dim=None,
        task="classification",
        num_classes=2,
        num_outputs=1,
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
        cell_options=None,
        pooling="last",
        compile=True,
        **kwargs,
    ):
        config = constructor_arguments(locals())
        head_size = check_head(
            task=task, num_classes=num_classes, num_outputs=num_outputs,
            output_activation=output_activation,
        )
        inputs, outputs = encoder_with_head(
            per_step=False, head_size=head_size, vocab_size=vocab_size,
            input_dim=input_dim, embedding_dim=embedding_dim, mask_zero=mask_zero,
            cell=cell, units=units, num_layers=num_layers, dropout=dropout,
            recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            merge_mode=merge_mode, output_activation=output_activation,
            cell_options=cell_options, pooling=pooling,
        )
        super().__init__(inputs=inputs, outputs=outputs, config=config, compile=compile, **kwargs)

    def default_loss(self):
        config = self._rnnzoo_config
        return default_loss(config["task"], config["output_activation"])

    def default_metrics(self):
        return default_metrics(self._rnnzoo_config["task"])
