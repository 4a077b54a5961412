"""Unsupervised model selection for domain adaptation: scores that need no target labels.

Each function takes numpy arrays and returns a Python float. Direction differs by score:
``HIGHER_IS_BETTER`` says which way each one ranks models.
"""

from __future__ import annotations

import numpy as np

from keras_transfer._validation import ArgumentTypeError, check_feature_pair, check_finite, check_random_state

HIGHER_IS_BETTER = {
    "entropy": False,
    "snd": True,
    "dev": False,
    "reverse_validation": True,
}


def _check_probabilities(probabilities, name="probabilities") -> np.ndarray:
    p = np.asarray(probabilities, dtype="float64")
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(
            f"`{name}` must be class probabilities of shape (n > 0, num_classes >= 2); "
            f"received shape={p.shape}."
        )
    if not np.all(np.isfinite(p)) or p.min() < 0 or np.abs(p.sum(axis=1) - 1).max() > 1e-3:
        raise ValueError(
            f"`{name}` must hold probabilities (non-negative rows that sum to 1); apply a "
            "softmax to logits first."
        )
    return p


def prediction_entropy(target_probabilities) -> float:
    """Mean Shannon entropy (nats) of the target predictions; lower is better.

    Args:
        target_probabilities: ``(n, num_classes)`` predicted class probabilities on target data.

    Returns:
        The mean entropy, in ``[0, log(num_classes)]``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import prediction_entropy
        >>> round(prediction_entropy(np.array([[0.5, 0.5], [1.0, 0.0]])), 4)
        0.3466
    """
    p = _check_probabilities(target_probabilities, "target_probabilities")
    return float(np.mean(-np.sum(p * np.log(np.clip(p, 1e-12, 1.0)), axis=1)))


def soft_neighborhood_density(target_probabilities, temperature: float = 0.05) -> float:
    """Soft neighbourhood density (SND) of the target predictions; higher is better.

    Saito et al., "Tune it the Right Way: Unsupervised Validation of Domain Adaptation via
    Soft Neighborhood Density", ICCV 2021: L2-normalise the predictions, take their cosine
    similarities (self-similarity excluded), softmax each row with ``temperature``, and
    average the row entropies. Dense, well-clustered target predictions score high.

    Args:
        target_probabilities: ``(n >= 2, num_classes)`` predicted probabilities on target data.
        temperature: softmax temperature, > 0 (0.05 in the paper).

    Returns:
        The SND score, in ``[0, log(n - 1)]``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import soft_neighborhood_density
        >>> clustered = np.repeat(np.eye(3), 10, axis=0) * 0.97 + 0.01
        >>> soft_neighborhood_density(clustered) > 2.0
        True
    """
    if not temperature > 0:
        raise ValueError(f"`temperature` must be > 0; received temperature={temperature!r}.")
    p = _check_probabilities(target_probabilities, "target_probabilities")
    if p.shape[0] < 2:
        raise ValueError(
            f"`target_probabilities` needs at least 2 rows for neighbours; received shape={p.shape}."
        )
    unit = p / np.linalg.norm(p, axis=1, keepdims=True)
    logits = unit @ unit.T / temperature
    np.fill_diagonal(logits, -np.inf)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    entropy = -np.sum(np.where(weights > 0, weights * np.log(np.clip(weights, 1e-300, 1)), 0), axis=1)
    return float(np.mean(entropy))


def _domain_probabilities(source_features, target_features, random_state):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xs = np.asarray(source_features, "float64")
    xt = np.asarray(target_features, "float64")
    x = np.concatenate([xs, xt])
    d = np.concatenate([np.zeros(len(xs)), np.ones(len(xt))])
    folds = int(min(5, len(xs), len(xt)))
    if folds < 2:
        raise ValueError(
            "Need at least 2 source and 2 target rows to fit the domain classifier; received "
            f"{len(xs)} source and {len(xt)} target rows."
        )
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    from sklearn.model_selection import StratifiedKFold

    cv = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    return cross_val_predict(classifier, x, d, cv=cv, method="predict_proba")[: len(xs), 1]


def deep_embedded_validation(source_features, source_losses, target_features, random_state: int = 0) -> float:
    """Deep embedded validation (DEV) risk of a model on the target domain; lower is better.

    You et al., "Towards Accurate Model Selection in Deep Unsupervised Domain Adaptation",
    ICML 2019. A domain classifier (logistic regression, cross-fitted) on the features gives
    density ratios ``w = n_s/n_t * P(target|x) / P(source|x)`` for held-out labelled source
    rows; the importance-weighted source validation loss ``w * loss`` is combined with the
    control variate ``w`` to reduce variance:
    ``DEV = mean(w*l) + eta*mean(w) - eta`` with ``eta = -Cov(w*l, w) / Var(w)``.

    Args:
        source_features: ``(n_s, d)`` features of held-out labelled source rows.
        source_losses: ``(n_s,)`` the model's per-row loss on those rows.
        target_features: ``(n_t, d)`` features of unlabelled target rows.
        random_state: seed of the cross-fitting split.

    Returns:
        The DEV risk estimate (same units as ``source_losses``).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import deep_embedded_validation
        >>> rng = np.random.default_rng(0)
        >>> xs, xt = rng.normal(size=(100, 2)), rng.normal(size=(100, 2))
        >>> risk = deep_embedded_validation(xs, np.full(100, 0.3), xt)
        >>> abs(risk - 0.3) < 1e-6
        True
    """
    check_feature_pair(source_features, target_features, "source_features", "target_features")
    losses = np.asarray(source_losses)
    if losses.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"`source_losses` must hold real numbers; received dtype={losses.dtype}.")
    losses = losses.astype("float64").reshape(-1)
    check_finite(losses, "source_losses")
    random_state = check_random_state(random_state)
    if len(losses) != len(source_features):
        raise ValueError(
            "`source_losses` must hold one loss per row of `source_features`; received "
            f"{len(losses)} losses for {len(source_features)} rows."
        )
    p = np.clip(_domain_probabilities(source_features, target_features, random_state), 1e-6, 1 - 1e-6)
    weights = len(source_features) / len(target_features) * p / (1.0 - p)
    weighted = weights * losses
    var = np.var(weights, ddof=1)
    eta = 0.0 if var < 1e-12 else -np.cov(weighted, weights)[0, 1] / var
    return float(np.mean(weighted) + eta * np.mean(weights) - eta)


def reverse_validation(
    target_features,
    target_predictions,
    source_features,
    source_labels,
    estimator=None,
) -> float:
    """Reverse validation accuracy; higher is better.

    Zhong et al., ECML-PKDD 2010, as used for model selection by Ganin et al., JMLR 2016:
    fit a classifier on the target features with the model's predicted (pseudo) labels, then
    score it on labelled held-out source rows. A model whose target predictions are
    consistent with the class structure transfers back well.

    Args:
        target_features: ``(n_t, d)`` target features.
        target_predictions: ``(n_t,)`` predicted labels, or ``(n_t, num_classes)`` probabilities.
        source_features: ``(n_s, d)`` held-out source features.
        source_labels: ``(n_s,)`` their true labels.
        estimator: a scikit-learn classifier (cloned); default logistic regression.

    Returns:
        Accuracy of the reverse classifier on the source rows, in [0, 1].

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import reverse_validation
        >>> rng = np.random.default_rng(0)
        >>> y = rng.integers(0, 2, 200)
        >>> x = rng.normal(size=(200, 2)) + 4 * y[:, None]
        >>> reverse_validation(x[:100], y[:100], x[100:], y[100:]) > 0.95
        True
    """
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression

    check_feature_pair(target_features, source_features, "target_features", "source_features")
    pred = np.asarray(target_predictions)
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    if len(pred) != len(target_features):
        raise ValueError(
            "`target_predictions` must have one entry per row of `target_features`; received "
            f"{len(pred)} for {len(target_features)} rows."
        )
    source_labels = np.asarray(source_labels).reshape(-1)
    if len(source_labels) != len(source_features):
        raise ValueError(
            "`source_labels` must have one entry per row of `source_features`; received "
            f"{len(source_labels)} for {len(source_features)} rows."
        )
    if len(np.unique(pred)) < 2:
        # a collapsed model predicts one class: the reverse classifier can only say that class
        return float(np.mean(source_labels == pred[0]))
    model = clone(estimator) if estimator is not None else LogisticRegression(max_iter=1000)
    model.fit(np.asarray(target_features), pred)
    return float(np.mean(model.predict(np.asarray(source_features)) == source_labels))
