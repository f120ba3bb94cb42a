"""Contextual string embeddings: each word gets the forward character
language model's state after its last character and the backward model's
state after (reading right to left) its first; the preprocessor writes the
sentence and those positions the same way in Python and in a graph; the
language models stay frozen unless asked."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnzoo
from rnnzoo.data.batching import pad_rows
from rnnzoo.data.examples import TaggedSentence
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.layers import ContextualStringEmbeddings
from rnnzoo.preprocessing.words import WordEncoder
from rnnzoo.tasks import LanguageModel
from rnnzoo.tasks.tagging import string_embedding_models

SENTENCES = [["The", "café", "is", "open", "."], ["Hi", "!"]]
ARCHITECTURE = dict(embedding_dim=5, units=6, num_layers=2)


def encoder():
    characters = Vocabulary.build([list("\n " + " ".join(w for s in SENTENCES for w in s))])
    words = Vocabulary.build([[w for s in SENTENCES for w in s]])
    return WordEncoder(words, None, lowercase=False, max_word_length=20, context=characters)


def language_model(vocab_size, seed):
    keras.utils.set_random_seed(seed)
    return rnnzoo.build_model("many_to_many", vocab_size=vocab_size, num_classes=vocab_size, **ARCHITECTURE)


def last_layer_states(model, ids):
    """The language model's last recurrent layer's outputs over one id row."""
    reader = keras.Model(model.input, model.get_layer(f"encoder_rnn_{ARCHITECTURE['num_layers'] - 1}").output)
    return np.asarray(reader.predict_on_batch(np.asarray([ids], "int32")))[0]


def test_the_context_and_word_positions_are_the_same_in_python_and_in_a_graph():
    words = encoder()
    columns = words.input_columns([TaggedSentence(s, ["X"] * len(s)) for s in SENTENCES])
    served = words.tf_encode(tf.ragged.constant(SENTENCES))
    for name in ("context", "word_starts", "word_ends"):
        np.testing.assert_array_equal(served[name].numpy(), pad_rows(columns[name]))
    for sentence, context, starts, ends in zip(SENTENCES, columns["context"], columns["word_starts"],
                                               columns["word_ends"]):
        assert words.context.to_tokens(context) == list("\n" + " ".join(sentence) + "\n")
        for word, start, end in zip(sentence, starts, ends):  # "café": characters, not bytes
            assert "".join(words.context.to_tokens(context[start:end + 1])) == word


def test_each_word_gets_the_language_models_states_at_its_ends():
    words = encoder()
    vocab_size = len(words.context)
    forward, backward = language_model(vocab_size, 1), language_model(vocab_size, 2)
    layer = ContextualStringEmbeddings(vocab_size, **ARCHITECTURE)
    columns = words.input_columns([TaggedSentence(s, ["X"] * len(s)) for s in SENTENCES])
    inputs = {name: pad_rows(columns[name]) for name in ("context", "word_starts", "word_ends")}
    layer(inputs)
    assert layer.load_language_model("forward", forward) == ["embedding", "encoder_rnn_0", "encoder_rnn_1"]
    layer.load_language_model("backward", backward)
    features = keras.ops.convert_to_numpy(layer(inputs))
    assert features.shape == (2, 5, 2 * ARCHITECTURE["units"])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.compute_mask(inputs)), pad_rows(columns["word_ends"]) > 0)

    for row, (context, starts, ends) in enumerate(zip(columns["context"], columns["word_starts"],
                                                      columns["word_ends"])):
        forward_states = last_layer_states(forward, context)
        backward_states = last_layer_states(backward, context[::-1])  # it reads the sentence right to left
        for i, (start, end) in enumerate(zip(starts, ends)):
            scale = np.abs(forward_states).max()
            np.testing.assert_allclose(features[row, i, :6], forward_states[end], atol=1e-5 * scale)
            np.testing.assert_allclose(features[row, i, 6:], backward_states[len(context) - 1 - start],
                                       atol=1e-5 * scale)
    # The features of a word depend on its sentence, not on the rows padded beside it.
    alone = {name: value[1:, : len(columns[name][1])] for name, value in inputs.items()}
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(alone))[0], features[1, :2], atol=1e-5 * np.abs(features).max())


def test_a_language_model_of_another_shape_is_refused():
    layer = ContextualStringEmbeddings(12, embedding_dim=5, units=7, directions=["forward"])
    layer({"context": np.ones((1, 4), "int32"), "word_starts": np.ones((1, 1), "int32"),
           "word_ends": np.ones((1, 1), "int32")})
    with pytest.raises(ValueError, match="forward language model, layer 'encoder_rnn_0'"):
        layer.load_language_model("forward", language_model(12, 0))
    with pytest.raises(ValueError, match="directions"):
        ContextualStringEmbeddings(12, 5, 7, directions=["sideways"])


@pytest.mark.parametrize("trainable", [False, True])
def test_the_language_models_are_frozen_unless_fine_tuned(trainable):
    keras.utils.set_random_seed(0)
    options = {"vocab_size": 20, "embedding_dim": 3, "units": 4, "trainable": trainable}
    model = rnnzoo.build_model("many_to_many", vocab_size=30, num_classes=4, units=4, embedding_dim=4,
                               string_embeddings=options)
    layer = model.get_layer("string_embeddings")
    assert bool(layer.trainable_weights) == trainable and len(layer.weights) == 2 * 4  # embedding + LSTM, per direction
    before = [w.copy() for w in layer.get_weights()]
    x = {"tokens": np.array([[3, 4, 0]]), "context": np.array([[2, 5, 6, 3, 7, 2]]),
         "word_starts": np.array([[1, 4, 0]]), "word_ends": np.array([[2, 4, 0]])}
    model.fit(x, np.array([[1, 2, 0]]), epochs=2, verbose=0)
    changed = any(not np.array_equal(a, b) for a, b in zip(before, layer.get_weights()))
    assert changed == trainable


def test_string_embeddings_take_one_forward_and_one_backward_character_model():
    text = "a small text to learn characters from\n" * 4
    forward = LanguageModel.from_examples([text], embedding_dim=3, units=4)
    words = LanguageModel.from_examples([text], level="word", embedding_dim=3, units=4)
    backward = LanguageModel.from_examples([text], embedding_dim=3, units=4, backward=True)
    assert string_embedding_models([backward, forward]) == [forward, backward]
    with pytest.raises(ValueError, match="at most one forward and one backward"):
        string_embedding_models([forward, forward])
    with pytest.raises(ValueError, match="word-level language model"):
        string_embedding_models([words])
    with pytest.raises(ValueError, match="no such folder"):
        string_embedding_models("/nonexistent/run")
