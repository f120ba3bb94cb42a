"""Reserved token ids shared by vocabularies, models and decoders."""

PAD_ID = 0  # padding; masked by embeddings, ignored by losses and metrics
UNK_ID = 1  # out-of-vocabulary token
START_ID = 2  # start of a decoded sequence (decoder input at step 0)
END_ID = 3  # end of a decoded sequence
NUM_RESERVED = 4

# Their strings, in id order, as written at the top of a saved vocabulary.
RESERVED_TOKENS = ("<pad>", "<unk>", "<start>", "<end>")


def until_end(ids, *, include_end=False):
    """Generated ids up to their first end (or padding) id: the one stop rule
    of generated sequences (`TextEncoder.ids_to_text` applies the same rule in
    graph ops). `include_end` keeps the end id where there is one (a device's
    decoding loop returns it)."""
    kept = []
    for value in ids:
        value = int(value)
        if value == END_ID and include_end:
            kept.append(value)
        if value in (END_ID, PAD_ID):
            break
        kept.append(value)
    return kept


def teacher_forcing(targets):
    """`(decoder inputs, labels)` for training a decoder on token-id
    `targets`: each target behind START, and the target followed by END
    (the one START/END packing; unpadded lists)."""
    targets = [[int(value) for value in target] for target in targets]
    return [[START_ID, *target] for target in targets], [[*target, END_ID] for target in targets]
