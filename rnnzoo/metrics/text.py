"""Metrics on generated text: BLEU, ROUGE, WER and CER.

- BLEU: corpus and sentence BLEU on token lists through nltk (Papineni et
  al. 2002, up to 4-grams, uniform weights). Smoothing is nltk's `method1`
  (a count of epsilon=0.1 for n-gram orders with no match) by default,
  `None` for none. Translation reports use `sacrebleu_score`: sacreBLEU on
  detokenized text with its standard 13a tokenization, the number papers
  compare (0-100).
- ROUGE-N and ROUGE-L: F-measures (beta = 1) on token lists, averaged over
  examples (Lin 2004), by Google's `rouge-score` (the tokens are taken as
  given: no lowercasing or stemming).
- WER and CER: `jiwer` (Levenshtein edits summed over the corpus and divided
  by the summed reference length; CER strips each text's outer spaces). An
  empty reference contributes its hypothesis length as insertions; a corpus
  whose references are all empty raises `ValueError` (the rate is
  undefined; jiwer would return 1.0 or infinity).
"""

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


class _GivenTokens:
    """rouge-score's tokenizer interface, for texts that are already tokens."""

    def tokenize(self, text):
        return text.split("\x00") if text else []


def _rouge(name, references, hypotheses):
    from rouge_score import rouge_scorer

    _check_lengths(references, hypotheses)
    scorer = rouge_scorer.RougeScorer([name], tokenizer=_GivenTokens())
    return float(np.mean([scorer.score("\x00".join(r), "\x00".join(h))[name].fmeasure
                          for r, h in zip(references, hypotheses)]))


def rouge_n(references, hypotheses, n=2):
    """Mean ROUGE-N F-measure over examples (token lists)."""
    if not 1 <= n <= 9:
        raise ValueError(f"rouge_n: n must be 1-9, got {n!r}.")
    return _rouge(f"rouge{n}", references, hypotheses)


def rouge_l(references, hypotheses):
    """Mean ROUGE-L F-measure (longest common subsequence) over examples."""
    return _rouge("rougeL", references, hypotheses)


def _texts(texts):
    return [t if isinstance(t, str) else " ".join(t) for t in texts]


def _error_rate(measure, references, hypotheses):
    _check_lengths(references, hypotheses)
    references, hypotheses = _texts(references), _texts(hypotheses)
    if not any(r.strip() for r in references):
        raise ValueError("Every reference is empty: the error rate is undefined.")
    return float(measure(references, hypotheses))


def wer(references, hypotheses):
    """Word error rate of strings (split on whitespace) or token lists."""
    import jiwer

    return _error_rate(jiwer.wer, references, hypotheses)


def cer(references, hypotheses):
    """Character error rate of strings."""
    import jiwer

    return _error_rate(jiwer.cer, references, hypotheses)


def _check_lengths(references, hypotheses):
    if len(references) != len(hypotheses):
        raise ValueError(
            f"{len(references)} references but {len(hypotheses)} hypotheses; "
            "give one per example."
        )
