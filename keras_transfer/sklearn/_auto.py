"""``method="auto"``: choose among source-only, AdaBN and adaptation methods without target labels.

The rule (its settings are the constants below) was chosen on the pairs of
``benchmarks/validator_benchmark.py`` only, from a leaderboard of every validator and several
combinations (benchmarks/README.md, "Choosing among methods without target labels"); it is
checked there, not on data it was not chosen on:

1. Hold out ``SOURCE_HOLDOUT`` of the labelled source images (stratified) and ``TARGET_HOLDOUT``
   of the target images. Candidates train on the rest.
2. Train source-only first. **Shift gate**: a domain classifier (standardised logistic
   regression, ``GATE_FOLDS``-fold cross-validated) tries to tell held-out source from held-out
   target in source-only's adapted features, on equal numbers of rows of each. If its accuracy is
   not above chance by ``SHIFT_Z`` binomial standard errors, there is no detectable shift: the
   choice is source-only and no other candidate trains.
3. Otherwise train every other candidate of ``CANDIDATES`` (AdaBN is source-only with its
   BatchNorm statistics re-estimated on the target; skipped when the network has no BatchNorm)
   and score each on held-out data: ``source_accuracy`` (labels of the held-out source) and the
   label-free target scores of `keras_transfer.adaptation` (``reverse_validation``, ``dev``,
   ``snd``, ``entropy``, ``bnm``, ``im``, ``class_ami``, ``mixval``), all reported.
4. **Refusals**: a candidate whose target predictions look collapsed
   (`keras_transfer.adaptation.check_collapse`) is refused, and so is one whose held-out source
   accuracy falls below source-only's by more than ``max(ACCURACY_TOLERANCE, one standard
   error of the paired difference)`` (adaptation that hurts the task it was trained on).
5. Among source-only and the candidates left, the best **mean rank** over the validators of
   ``RULE`` wins (each ranked in its own direction; ties go to the earlier candidate, so
   source-only wins a tie).

With a few labelled target images (``X_target_val``/``y_target_val``) the estimator does not use
this rule: see `labelled_scores` and `better_by_labels`.
"""

from __future__ import annotations

import math

import numpy as np

from keras_transfer.sklearn._methods import SOURCE_ONLY
from keras_transfer.sklearn._splits import held_out_split

CANDIDATES = ("source_only", "adabn", "coral", "mcc", "dann", "dann_self_training")
# rank-averaged among the guarded candidates; chosen on the validator benchmark's pairs only
# (reverse validation alone: the best of the rules compared there over 10 pair-seeds)
RULE = ("reverse_validation",)
SOURCE_HOLDOUT = 0.2
TARGET_HOLDOUT = 0.25
GATE_FOLDS = 5
SHIFT_Z = 2.33  # one-sided 1% false alarm rate of the shift gate
ACCURACY_TOLERANCE = 0.02
MIN_HELD_OUT = 8  # fewer held-out rows of either domain than this: no selection, source-only


def split(codes: np.ndarray, num_target: int, seed: int | None):
    """(source train, source held-out, target train, target held-out) indices; None if too small."""
    n_held = max(int(round(SOURCE_HOLDOUT * len(codes))), len(np.unique(codes)))
    t_held = int(round(TARGET_HOLDOUT * num_target))
    if n_held < MIN_HELD_OUT or t_held < MIN_HELD_OUT or len(codes) - n_held < 2 or num_target - t_held < 1:
        return None
    s_train, s_held = held_out_split(codes, n_held, seed)  # n_held covers every class, leaves 2 rows
    rng = np.random.default_rng(seed)
    t_index = rng.permutation(num_target)
    return s_train, s_held, np.sort(t_index[t_held:]), np.sort(t_index[:t_held])


def domain_shift(source_features: np.ndarray, target_features: np.ndarray, seed: int | None) -> dict:
    """The shift gate: cross-validated accuracy of a domain classifier on balanced rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    m = min(len(source_features), len(target_features))
    xs = source_features[rng.permutation(len(source_features))[:m]]
    xt = target_features[rng.permutation(len(target_features))[:m]]
    x = np.concatenate([xs, xt]).astype(np.float64)
    d = np.r_[np.zeros(m), np.ones(m)]
    folds = int(min(GATE_FOLDS, m))
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    accuracy = float(np.mean(cross_val_predict(classifier, x, d, cv=cv) == d))
    threshold = 0.5 + SHIFT_Z * 0.5 / math.sqrt(2 * m)
    return {
        "domain_accuracy": accuracy,
        "threshold": threshold,
        "proxy_a_distance": 2.0 * (1.0 - 2.0 * (1.0 - accuracy)),
        "rows_per_domain": m,
        "detected": bool(accuracy > threshold),
    }


def scores(
    probs_s, codes_s, feats_s, probs_t, feats_t, seed: int | None, predict=None, target_inputs=None
) -> dict:
    """Every score of one candidate on the held-out source (labelled) and target (unlabelled) rows.

    ``predict`` (inputs -> probabilities) and ``target_inputs`` (the held-out target inputs) give
    MixVal, which probes the model on mixed inputs; without them it is NaN.
    """
    from keras_transfer.adaptation import (
        batch_nuclear_norm,
        class_ami,
        deep_embedded_validation,
        information_maximization_score,
        mix_validation,
        prediction_entropy,
        reverse_validation,
        soft_neighborhood_density,
    )

    eps = 1e-7
    losses = -np.log(np.clip(probs_s[np.arange(len(codes_s)), codes_s], eps, 1.0))
    out = {
        "source_accuracy": float(np.mean(probs_s.argmax(1) == codes_s)),
        "reverse_validation": reverse_validation(feats_t, probs_t, feats_s, codes_s),
        "entropy": prediction_entropy(probs_t),
        "snd": soft_neighborhood_density(probs_t),
        "bnm": batch_nuclear_norm(probs_t),
        "im": information_maximization_score(probs_t),
        "class_ami": class_ami(feats_t, probs_t, random_state=seed or 0),
        "mixval": float("nan"),
    }
    if predict is not None and target_inputs is not None and len(target_inputs) >= 2:
        out["mixval"] = mix_validation(predict, target_inputs, random_state=seed or 0)
    try:
        out["dev"] = deep_embedded_validation(feats_s, losses, feats_t, random_state=seed or 0)
    except ValueError:  # too few rows to cross-fit the domain classifier
        out["dev"] = float("nan")
    return out


def rank_average(rows: dict, validators=None) -> dict:
    """name -> mean over ``validators`` (default ``RULE``) of the candidate's rank among ``rows``
    (0 = worst, ``len(rows) - 1`` = best; tied scores share their mean rank), each validator
    ranked in its own direction (``keras_transfer.adaptation.HIGHER_IS_BETTER``)."""
    from scipy.stats import rankdata

    from keras_transfer.adaptation import HIGHER_IS_BETTER

    validators = RULE if validators is None else validators
    names = list(rows)
    total = np.zeros(len(names))
    for v in validators:
        values = np.array([rows[n][v] for n in names], dtype=np.float64)
        sign = 1.0 if HIGHER_IS_BETTER.get(v, True) else -1.0
        total += rankdata(sign * values) - 1.0
    return {n: float(t / len(validators)) for n, t in zip(names, total)}


def _refuse(table: dict, correct: dict) -> list:
    """The guard: mark refused rows, return the names still eligible (source-only first).

    A row that already has a ``status`` (refused as collapsed, skipped) takes no part.
    """
    base = table[SOURCE_ONLY]
    base["status"] = "baseline"
    eligible = [SOURCE_ONLY]
    for name, row in table.items():
        if name == SOURCE_ONLY or "status" in row:
            continue
        diff = correct[name].astype(float) - correct[SOURCE_ONLY].astype(float)
        tolerance = max(
            ACCURACY_TOLERANCE, float(np.std(diff, ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else 1.0
        )
        undefined = [v for v in RULE if not np.isfinite(row[v])]
        if row["source_accuracy"] < base["source_accuracy"] - tolerance:
            row["status"] = "refused: held-out source accuracy dropped"
        elif undefined:
            row["status"] = f"refused: {', '.join(undefined)} undefined"
        else:
            eligible.append(name)
    if any(not np.isfinite(base[v]) for v in RULE):  # source-only's own score is undefined
        for name in eligible[1:]:
            table[name]["status"] = "not compared: source_only's score is undefined"
        return [SOURCE_ONLY]
    return eligible


def _rank_and_mark(table: dict, names: list) -> str:
    """The best rank average over ``RULE`` among ``names`` (ties: the earlier); marks statuses."""
    ranks = rank_average({n: table[n] for n in names})
    best = max(names, key=lambda n: ranks[n])  # max keeps the first of equal ranks
    for name in names:
        table[name]["rank_average"] = ranks[name]
        if name != best:
            table[name]["status"] = f"eligible: lower rank average ({ranks[name]:.2f} vs {ranks[best]:.2f})"
    table[best]["status"] = "selected"
    return best


def choose(table: dict, correct: dict, num_source: int) -> str:
    """Apply the guard and the rule to ``table`` (name -> scores); mark each row's status.

    ``correct`` maps each candidate to its per-row correctness on the held-out source (for the
    paired standard error of the guard). A row that already has a ``status`` (refused as
    collapsed, skipped) takes no part. Ties go to the earlier candidate of ``table`` (source-only
    first).
    """
    del num_source  # the rule compares ranks; kept for the callers' signature
    return _rank_and_mark(table, _refuse(table, correct))


# ----- few-label validation ----------------------------------------------------------------------
TARGET_VAL_CONFIDENCE = 0.95  # coverage of the Wilson interval reported with target-label accuracy
LABEL_Z = 1.0  # candidates within this many paired standard errors of the most accurate: a tie


def labelled_scores(probabilities: np.ndarray, codes: np.ndarray) -> dict:
    """Accuracy (with its Wilson interval) and log-loss of ``probabilities`` on labelled target rows."""
    from keras_transfer.adaptation import wilson_interval

    probabilities = np.asarray(probabilities, dtype=np.float64)
    correct = int(np.sum(probabilities.argmax(axis=1) == codes))
    n = len(codes)
    picked = np.clip(probabilities[np.arange(n), codes], 1e-7, 1.0)
    return {
        "target_val_accuracy": correct / n,
        "target_val_interval": wilson_interval(correct, n, TARGET_VAL_CONFIDENCE),
        "target_val_log_loss": float(-np.mean(np.log(picked))),
        "num_target_labels": n,
    }


def better_by_labels(row: dict, other: dict | None) -> bool:
    """Whether ``row`` beats ``other`` on the labelled target rows: higher accuracy, and on equal
    accuracy (frequent with 20-100 labels) lower log-loss. ``other=None``: True."""
    if other is None:
        return True
    if row["target_val_accuracy"] != other["target_val_accuracy"]:
        return row["target_val_accuracy"] > other["target_val_accuracy"]
    return row["target_val_log_loss"] < other["target_val_log_loss"]


def choose_with_labels(table: dict, correct: dict, labelled_correct: dict) -> str:
    """`choose` with a few labelled target images: the labels decide where they are conclusive.

    After the same refusals as `choose`, the candidate most accurate on the labelled rows (equal
    accuracy: lower log-loss, see `better_by_labels`) is found; every eligible candidate whose
    accuracy is within ``LABEL_Z`` standard errors of the paired difference from it is "as good
    as the labels can tell", and among those the label-free rule (the best rank average over
    ``RULE``) chooses. ``labelled_correct`` maps each candidate to its per-row correctness on the
    labelled rows; rows need ``target_val_accuracy`` and ``target_val_log_loss``.
    """
    eligible = _refuse(table, correct)
    top = None
    for name in eligible:
        if top is None or better_by_labels(table[name], table[top]):
            top = name
    close = []
    for name in eligible:
        diff = labelled_correct[top].astype(float) - labelled_correct[name].astype(float)
        se = float(np.std(diff, ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else 0.0
        if diff.mean() <= LABEL_Z * se:
            close.append(name)
        else:
            table[name]["status"] = (
                f"eligible: less accurate on the target labels than {top} by more than {LABEL_Z:g} "
                "paired standard error"
            )
    return _rank_and_mark(table, close)
