"""Metrics on generated text: BLEU, ROUGE, WER and CER.

- BLEU: corpus and sentence BLEU on token lists through nltk (Papineni et
  al. 2002, up to 4-grams, uniform weights). Smoothing is nltk's `method1`
  (a count of epsilon=0.1 for n-gram orders with no match) by default,
  `None` for none. Translation reports use `sacrebleu_score`: sacreBLEU on
  detokenized text with its standard 13a tokenization, the number papers
  compare (0-100).
- ROUGE-N and ROUGE-L: F-measures (beta = 1) on token lists, averaged over
  examples (Lin 2004).
- WER and CER: Levenshtein edits (rapidfuzz, the engine of jiwer) summed over
  the corpus and divided by the summed reference length. An empty reference
  contributes its hypothesis length as insertions; a corpus whose
  references are all empty raises `ValueError` (the rate is undefined).
"""

import collections

import numpy as np

_SMOOTHING = ("method0", "method1", "method2", "method3", "method4", "method5",
              "method7")


def _smoothing_function(smoothing):
    from nltk.translate.bleu_score import SmoothingFunction

    if smoothing is None:
        return SmoothingFunction().method0
    if smoothing not in _SMOOTHING:
        raise ValueError(
            f"`smoothing` must be None or one of {', '.join(_SMOOTHING)}, got {smoothing!r}."
        )
    return getattr(SmoothingFunction(), smoothing)


def corpus_bleu(references, hypotheses, max_order=4, smoothing="method1"):
    """Corpus BLEU in [0, 1].

    Args:
        references: per example, a list of reference token lists.
        hypotheses: per example, a hypothesis token list.
    """
    from nltk.translate import bleu_score

    _check_lengths(references, hypotheses)
    weights = tuple([1.0 / max_order] * max_order)
    return float(bleu_score.corpus_bleu(
        references, hypotheses, weights=weights,
        smoothing_function=_smoothing_function(smoothing),
    ))


def sentence_bleu(references, hypothesis, max_order=4, smoothing="method1"):
    """BLEU of one hypothesis token list against its reference token lists."""
    from nltk.translate import bleu_score

    weights = tuple([1.0 / max_order] * max_order)
    return float(bleu_score.sentence_bleu(
        references, hypothesis, weights=weights,
        smoothing_function=_smoothing_function(smoothing),
    ))


def sacrebleu_score(hypotheses, references):
    """sacreBLEU (13a tokenization, 0-100) of detokenized strings.

    `references`: one reference string per hypothesis, or a list of such
    lists (one list per reference set)."""
    import sacrebleu

    if references and isinstance(references[0], str):
        references = [references]
    for reference_set in references:
        _check_lengths(reference_set, hypotheses)
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(r) for r in references]).score)


def _ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _f_measure(overlap, reference_count, hypothesis_count):
    if overlap == 0:
        return 0.0
    precision, recall = overlap / hypothesis_count, overlap / reference_count
    return 2 * precision * recall / (precision + recall)


def rouge_n(references, hypotheses, n=2):
    """Mean ROUGE-N F-measure over examples (token lists)."""
    _check_lengths(references, hypotheses)
    scores = []
    for reference, hypothesis in zip(references, hypotheses):
        reference_ngrams, hypothesis_ngrams = _ngrams(reference, n), _ngrams(hypothesis, n)
        overlap = sum((reference_ngrams & hypothesis_ngrams).values())
        scores.append(_f_measure(
            overlap, sum(reference_ngrams.values()), sum(hypothesis_ngrams.values())
        ))
    return float(np.mean(scores))


def _lcs_length(a, b):
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(references, hypotheses):
    """Mean ROUGE-L F-measure (longest common subsequence) over examples."""
    _check_lengths(references, hypotheses)
    return float(np.mean([
        _f_measure(_lcs_length(r, h), len(r), len(h)) for r, h in zip(references, hypotheses)
    ]))


def _edit_rate(references, hypotheses):
    from rapidfuzz.distance import Levenshtein

    _check_lengths(references, hypotheses)
    edits = sum(Levenshtein.distance(r, h) for r, h in zip(references, hypotheses))
    reference_length = sum(len(r) for r in references)
    if reference_length == 0:
        raise ValueError("Every reference is empty: the error rate is undefined.")
    return edits / reference_length


def wer(references, hypotheses):
    """Word error rate of strings (split on whitespace) or token lists."""
    split = lambda texts: [t.split() if isinstance(t, str) else list(t) for t in texts]  # noqa: E731
    return _edit_rate(split(references), split(hypotheses))


def cer(references, hypotheses):
    """Character error rate of strings."""
    return _edit_rate(list(references), list(hypotheses))


def _check_lengths(references, hypotheses):
    if len(references) != len(hypotheses):
        raise ValueError(
            f"{len(references)} references but {len(hypotheses)} hypotheses; "
            "give one per example."
        )
