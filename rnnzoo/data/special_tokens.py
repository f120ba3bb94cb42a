"""Reserved token ids shared by vocabularies, models and decoders."""

PAD_ID = 0  # padding; masked by embeddings, ignored by losses and metrics
UNK_ID = 1  # out-of-vocabulary token
START_ID = 2  # start of a decoded sequence (decoder input at step 0)
END_ID = 3  # end of a decoded sequence
NUM_RESERVED = 4

# Their strings, in id order, as written at the top of a saved vocabulary.
RESERVED_TOKENS = ("<pad>", "<unk>", "<start>", "<end>")
