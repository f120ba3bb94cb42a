import keras

from rnnzoo.data import PAD_ID
from rnnzoo.topologies.base import RNNModel, constructor_arguments
from rnnzoo.topologies.blocks import (
    check_head,
    check_one_input_kind,
    check_recurrent_arguments,
    default_loss,
    default_metrics,
    make_recurrent_stack,
    run_recurrent_stack,
    sequence_input,
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
        spec = check_recurrent_arguments(
            cell=cell, units=units, num_layers=num_layers, dropout=dropout,
            recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            merge_mode=merge_mode, cell_options=cell_options,
        )
        check_one_input_kind("vocab_size", vocab_size, "input_dim", input_dim)
        check_head(
            task="classification", num_classes=num_classes, num_outputs=None,
            output_activation=output_activation,
        )

        # === Layers ===
        rnn_layers = make_recurrent_stack(
            spec, units=units, num_layers=num_layers, return_sequences=True,
            return_state=False, dropout=dropout, recurrent_dropout=recurrent_dropout,
            bidirectional=bidirectional, merge_mode=merge_mode,
            cell_options=cell_options, name="encoder_rnn",
        )
        head_dropout = keras.layers.Dropout(dropout, name="head_dropout")
        head = keras.layers.Dense(num_classes, activation=output_activation, name="logits")

        # === Functional Model ===
        inputs, sequence = sequence_input(
            vocab_size=vocab_size, input_dim=input_dim, embedding_dim=embedding_dim,
            mask_zero=mask_zero,
        )
        per_step, _ = run_recurrent_stack(rnn_layers, sequence)
        outputs = head(head_dropout(per_step))
        super().__init__(inputs=inputs, outputs=outputs, config=config, compile=compile, **kwargs)

    def default_loss(self):
        config = self._rnnzoo_config
        return default_loss("classification", config["output_activation"], config["ignore_class"])

    def default_metrics(self):
        return default_metrics("classification", self._rnnzoo_config["ignore_class"])
