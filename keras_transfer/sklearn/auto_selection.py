"""The rule of ``DomainAdaptationClassifier(method="auto")``, public for notebooks and benchmarks
that apply it to candidates of their own.

The estimator's ``method="auto"`` holds out part of both domains, trains the candidates, scores
each on the held-out rows and picks one without target labels; the steps and their settings are
documented in the module that implements them (``keras_transfer/sklearn/_auto.py``). These are
its functions under public names, the same objects the estimator calls:

- `CANDIDATES`, `RULE`: the methods ``auto`` trains and the validators it rank-averages;
- `split(codes, num_target, seed)`: the held-out rows of both domains (or None when too few);
- `domain_shift(source_features, target_features, seed)`: the shift gate;
- `scores(probs_s, codes_s, feats_s, probs_t, feats_t, seed)`: every score of one candidate;
- `choose(table, correct, num_source)`: the guard and the rule over a table of scores;
- `choose_with_labels(table, correct, labelled_correct)`: the rule with a few target labels;
- `rank_average(rows, validators=None)`: the rule's mean rank of each candidate;
- `labelled_scores`, `better_by_labels`: the few-label path (``X_target_val``);
- `fitted_with_adabn(model)`: whether a trained candidate holds target BatchNorm statistics
  (``auto`` then scores its held-out source rows under source statistics).

Example:
    >>> import numpy as np
    >>> from keras_transfer.sklearn.auto_selection import choose
    >>> correct = {"source_only": np.ones(40, bool), "coral": np.ones(40, bool)}
    >>> table = {
    ...     "source_only": {"source_accuracy": 0.9, "reverse_validation": 0.6, "im": 0.5},
    ...     "coral": {"source_accuracy": 0.9, "reverse_validation": 0.7, "im": 0.6},
    ... }
    >>> choose(table, correct, num_source=40), table["source_only"]["status"][:8]
    ('coral', 'eligible')
"""

from keras_transfer.sklearn._auto import (
    CANDIDATES,
    RULE,
    better_by_labels,
    choose,
    choose_with_labels,
    domain_shift,
    labelled_scores,
    rank_average,
    scores,
    split,
)
from keras_transfer.sklearn._methods import fitted_with_adabn

__all__ = [
    "CANDIDATES",
    "RULE",
    "better_by_labels",
    "choose",
    "choose_with_labels",
    "domain_shift",
    "fitted_with_adabn",
    "labelled_scores",
    "rank_average",
    "scores",
    "split",
]
