"""Metrics against reference implementations and hand-computed cases."""

import keras
import numpy as np
import pytest

from rnnzoo import metrics


# --- Span F1 (conlleval definition) -----------------------------------------

def test_span_extraction_follows_conlleval():
    assert metrics.extract_spans(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 2), ("LOC", 3, 4)]
    # An I- with no B- before it starts a span, as in conlleval.
    assert metrics.extract_spans(["O", "I-ORG", "I-ORG"]) == [("ORG", 1, 3)]
    # A type change inside I- tags closes one span and opens another.
    assert metrics.extract_spans(["B-PER", "I-LOC"]) == [("PER", 0, 1), ("LOC", 1, 2)]
    # BIOES.
    assert metrics.extract_spans(["S-PER", "B-LOC", "I-LOC", "E-LOC", "O"]) == [
        ("PER", 0, 1), ("LOC", 1, 4)]


def test_span_f1_hand_cases():
    true = [["B-PER", "I-PER", "O", "B-LOC"]]
    wrong_type = [["B-ORG", "I-ORG", "O", "B-LOC"]]
    wrong_boundary = [["B-PER", "O", "O", "B-LOC"]]
    scores = metrics.span_f1(true, wrong_type)
    assert scores["overall"]["correct"] == 1 and scores["overall"]["f1"] == pytest.approx(0.5)
    assert scores["per_type"]["PER"]["recall"] == 0.0
    assert scores["per_type"]["ORG"]["precision"] == 0.0
    scores = metrics.span_f1(true, wrong_boundary)
    assert scores["overall"]["f1"] == pytest.approx(0.5)
    scores = metrics.span_f1(true, [["I-PER", "I-PER", "O", "I-LOC"]])  # I- without B-
    assert scores["overall"]["f1"] == 1.0


def test_span_f1_matches_seqeval_on_random_tags():
    from seqeval import metrics as seqeval  # its own scores: our counts must give its rates
    rng = np.random.default_rng(0)
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    true = [list(rng.choice(tags, size=rng.integers(1, 15))) for _ in range(300)]
    predicted = [[t if rng.random() < 0.7 else str(rng.choice(tags)) for t in row] for row in true]
    ours = metrics.span_f1(true, predicted)
    assert ours["overall"]["f1"] == pytest.approx(seqeval.f1_score(true, predicted), abs=1e-9)
    assert ours["overall"]["precision"] == pytest.approx(seqeval.precision_score(true, predicted))
    report = seqeval.classification_report(true, predicted, output_dict=True)
    for entity_type, scores in ours["per_type"].items():
        assert scores["f1"] == pytest.approx(report[entity_type]["f1-score"], abs=1e-9)


def test_span_f1_rejects_bad_tags_and_lengths():
    with pytest.raises(ValueError, match="Tag 'X-PER'"):
        metrics.span_f1([["X-PER"]], [["O"]])
    with pytest.raises(ValueError, match="sentence 0 has 2 true tags but 1"):
        metrics.span_f1([["O", "O"]], [["O"]])


# --- BLEU and ROUGE -------------------------------------------------------------

def test_nltk_corpus_bleu_documented_example():
    """The example in nltk's `corpus_bleu` docstring scores 0.5920778868801042."""
    hyp1 = ("It is a guide to action which ensures that the military always obeys "
            "the commands of the party").split()
    ref1a = ("It is a guide to action that ensures that the military will forever "
             "heed Party commands").split()
    ref1b = ("It is the guiding principle which guarantees the military forces always "
             "being under the command of the Party").split()
    ref1c = ("It is the practical guide for the army always to heed the directions "
             "of the party").split()
    hyp2 = "he read the book because he was interested in world history".split()
    ref2a = "he was interested in world history because he read the book".split()
    score = metrics.corpus_bleu([[ref1a, ref1b, ref1c], [ref2a]], [hyp1, hyp2], smoothing=None)
    assert score == pytest.approx(0.5920778868801042, abs=1e-12)


def test_corpus_bleu_equals_sacrebleu():
    import sacrebleu
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    references = ["The cat sat on the mat.", "A dog runs in the park, quickly!",
                  "Two men are playing chess outside.", "She reads a book at night."]
    hypotheses = ["The cat is on the mat.", "A dog runs quickly in the park!",
                  "Two men play chess outside.", "She is reading a book at night."]
    tokenize = Tokenizer13a()
    ours = metrics.corpus_bleu(
        [[tokenize(r).split()] for r in references], [tokenize(h).split() for h in hypotheses],
        smoothing=None,
    )
    reference_score = sacrebleu.corpus_bleu(hypotheses, [references], smooth_method="none").score
    assert 100 * ours == pytest.approx(reference_score, abs=1e-6)
    assert metrics.sacrebleu_score(hypotheses, references) == pytest.approx(
        sacrebleu.corpus_bleu(hypotheses, [references]).score)


def test_sentence_bleu_perfect_and_disjoint():
    sentence = "a b c d e".split()
    assert metrics.sentence_bleu([sentence], sentence) == pytest.approx(1.0)
    assert metrics.sentence_bleu([sentence], "v w x y z".split()) < 0.01


def test_rouge_hand_computed():
    reference, hypothesis = "the cat sat on the mat".split(), "the cat on the mat".split()
    # LCS = 5: recall 5/6, precision 5/5.
    assert metrics.rouge_l([reference], [hypothesis]) == pytest.approx(2 * (5 / 6) / (5 / 6 + 1))
    # Bigrams: reference 5, hypothesis 4, overlap 3 (the cat, on the, the mat).
    assert metrics.rouge_n([reference], [hypothesis], n=2) == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert metrics.rouge_n([["a"]], [["b"]], n=1) == 0.0


# --- WER and CER ----------------------------------------------------------------

def test_wer_hand_computed():
    assert metrics.wer(["a b c"], ["a x c"]) == pytest.approx(1 / 3)  # substitution
    assert metrics.wer(["a b c"], ["a b c d"]) == pytest.approx(1 / 3)  # insertion
    assert metrics.wer(["a b c"], ["a c"]) == pytest.approx(1 / 3)  # deletion
    assert metrics.wer(["a b c"], [""]) == 1.0  # empty hypothesis: all deleted
    # Corpus level: summed edits over summed reference words, not a mean of rates.
    assert metrics.wer(["a b c d", "e"], ["a b c d", "f"]) == pytest.approx(1 / 5)


def test_empty_references_are_defined():
    # An empty reference adds its hypothesis as insertions.
    assert metrics.wer(["a b", ""], ["a b", "x y"]) == pytest.approx(2 / 2)
    with pytest.raises(ValueError, match="Every reference is empty"):
        metrics.wer([""], ["x"])


def test_cer_and_wer_of_token_lists_hand_computed():
    references = ["four one seven", "two two", "nine eight zero one"]
    hypotheses = ["four one seven", "two", "nine eight two one one"]
    # Words: 0 + 1 deletion + (1 substitution + 1 insertion), over 3 + 2 + 4 reference words.
    assert metrics.wer(references, hypotheses) == pytest.approx(3 / 9)
    assert metrics.wer([r.split() for r in references], [h.split() for h in hypotheses]) == pytest.approx(3 / 9)
    assert metrics.cer(["abc"], ["abd"]) == pytest.approx(1 / 3)
    assert metrics.cer(["ab", "cd"], ["ab", ""]) == pytest.approx(2 / 4)


# --- Perplexity, accuracy, F1, regression ------------------------------------

def test_perplexity_of_uniform_distribution_is_vocabulary_size():
    vocab = 37
    labels = np.random.default_rng(0).integers(1, vocab, size=(4, 9))
    logits = np.zeros((4, 9, vocab), "float32")
    assert metrics.perplexity(labels, logits) == pytest.approx(vocab, rel=1e-6)
    metric = metrics.Perplexity()
    metric.update_state(labels, logits)
    assert float(metric.result()) == pytest.approx(vocab, rel=1e-4)


def test_perplexity_ignores_masked_positions():
    labels = np.array([[5, 0, 0]])
    logits = np.zeros((1, 3, 8), "float32")
    logits[0, 0, 5] = 2.0  # confident only where the label is real
    logits[0, 1:, 1] = 50.0  # garbage at padded positions must not count
    expected = np.exp(-(2.0 - np.log(np.exp(2.0) + 7)))
    assert metrics.perplexity(labels, logits) == pytest.approx(expected)
    metric = metrics.Perplexity()
    metric.update_state(labels, logits)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)


def test_perplexity_metric_serializes_and_runs_in_fit(tmp_path):
    import rnnzoo

    model = rnnzoo.build_model("many_to_many", vocab_size=9, num_classes=5, units=4, embedding_dim=4)
    model.compile(metrics=[metrics.MaskedAccuracy(), metrics.Perplexity()])
    x = np.random.default_rng(0).integers(1, 9, size=(8, 6))
    history = model.fit(x, x % 4 + 1, epochs=2, verbose=0).history
    assert history["perplexity"][-1] < 5.5  # below uniform over 5 classes
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    scores = restored.evaluate(x, x % 4 + 1, verbose=0, return_dict=True)
    assert 1.0 < scores["perplexity"] < 5.5  # restored with the model, still below uniform


def test_token_accuracy_skips_padding():
    assert metrics.token_accuracy([[1, 2, 0]], [[1, 3, 3]]) == 0.5


def test_classification_report_matches_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    report = metrics.classification_report(y_true, y_pred, label_names=["a", "b", "c", "d"])
    for average in ("micro", "macro", "weighted"):
        assert report[average]["f1"] == pytest.approx(f1_score(y_true, y_pred, average=average))
    assert report["per_class"]["c"]["f1"] == pytest.approx(f1_score(y_true, y_pred, average=None)[2])
    assert np.sum(report["confusion_matrix"]) == 500
    assert report["accuracy"] == pytest.approx(np.mean(y_true == y_pred))


def test_regression_errors():
    assert metrics.mean_absolute_error([1, 2], [2, 4]) == 1.5
    assert metrics.mean_squared_error([1, 2], [2, 4]) == 2.5
