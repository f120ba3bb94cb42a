"""Runnable recipes: `python -m recipes.NAME` or `rnnzoo run NAME`.

Each trains on built-in data by default (one to a few minutes on 2 CPU cores),
takes `--data` for real datasets, and saves everything under
`saved_models/<recipe>/<run>/`. The machinery they share lives in
`rnnzoo.training`.
"""

RECIPES = {
    "sentiment": "many-to-one text classification; accuracy, precision/recall/F1",
    "document_classification": "documents as sentences of words: hierarchical attention network (or flat); "
                               "10-fold accuracy on movie reviews, attention pictures",
    "tagging": "POS / NER tagging (BiLSTM + character encoder + softmax or CRF); accuracy or span F1",
    "translation": "encoder-decoder with attention, beam search, string-to-string SavedModel; sacreBLEU",
    "captioning": "image -> caption (CNN or keras.applications encoder, attention decoder); BLEU-1..4, WER",
    "speech": "spoken digit strings: log-mel + conv front end + BiLSTM/GRU + CTC; WER",
    "language_model": "stateful character / word LSTM-GRU with truncated BPTT, sampling; perplexity",
    "forecasting": "multivariate time series (ETTh1): SegRNN with any cell, raw-window SavedModel; MSE / MAE",
    "global_forecasting": "one model for many series (M4 Hourly), ensembles, conformal intervals; sMAPE, MASE, OWA, "
                          "MSIS",
}
