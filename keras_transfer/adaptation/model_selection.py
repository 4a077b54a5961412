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
    "bnm": True,
    "im": True,
    "class_ami": True,
    "mixval": True,
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


def batch_nuclear_norm(target_probabilities) -> float:
    """Batch nuclear-norm (BNM) of the target predictions; higher is better.

    Cui et al., "Towards Discriminability and Diversity: Batch Nuclear-norm Maximization under
    Label Insufficient Situations", CVPR 2020; used as a validator by Musgrave et al., "Three
    New Validators and a Large-Scale Benchmark Ranking for Unsupervised Domain Adaptation"
    (2022): the nuclear norm (sum of singular values) of the ``(n, num_classes)`` prediction
    matrix divided by ``n``. It grows with both confidence and diversity: ``n`` one-hot rows
    spread over ``k`` classes in equal parts score ``sqrt(k / n)``; all rows in one class score
    ``1 / sqrt(n)``.

    Args:
        target_probabilities: ``(n, num_classes)`` predicted probabilities on target data.

    Returns:
        The BNM score, in ``(0, sqrt(min(n, num_classes) / n)]``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import batch_nuclear_norm
        >>> diverse = np.repeat(np.eye(4), 25, axis=0)  # 100 confident rows, 4 classes
        >>> round(batch_nuclear_norm(diverse), 4)
        0.2
        >>> round(batch_nuclear_norm(np.tile([[1.0, 0, 0, 0]], (100, 1))), 4)
        0.1
    """
    p = _check_probabilities(target_probabilities, "target_probabilities")
    return float(np.linalg.svd(p, compute_uv=False).sum() / len(p))


def information_maximization_score(target_probabilities) -> float:
    """Information maximisation (IM) of the target predictions; higher is better.

    The mutual information between inputs and predicted classes estimated on the target rows,
    ``H(mean_i p_i) - mean_i H(p_i)`` (Gomes, Krause and Perona, NeurIPS 2010; the objective of
    SHOT, Liang et al., ICML 2020; a validator in Musgrave et al. 2022): confident (low
    per-row entropy) and diverse (high entropy of the average prediction) scores high.

    Args:
        target_probabilities: ``(n, num_classes)`` predicted probabilities on target data.

    Returns:
        The IM score in nats, in ``[-log(num_classes), log(num_classes)]`` (>= 0 in practice).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import information_maximization_score
        >>> round(information_maximization_score(np.repeat(np.eye(2), 5, axis=0)), 4)  # log 2
        0.6931
        >>> round(information_maximization_score(np.full((10, 2), 0.5)), 4)
        0.0
    """
    p = _check_probabilities(target_probabilities, "target_probabilities")
    mean = p.mean(axis=0)
    diversity = -np.sum(mean * np.log(np.clip(mean, 1e-12, 1.0)))
    return float(diversity - np.mean(-np.sum(p * np.log(np.clip(p, 1e-12, 1.0)), axis=1)))


def class_ami(target_features, target_probabilities, random_state: int = 0) -> float:
    """ClassAMI: agreement of the predicted classes with clusters of the target features; higher
    is better.

    Musgrave et al., "Three New Validators and a Large-Scale Benchmark Ranking for Unsupervised
    Domain Adaptation" (2022): k-means with ``k = num_classes`` on the target features (here
    L2-normalised rows), then the adjusted mutual information between the cluster assignments
    and the predicted labels (``sklearn.metrics.adjusted_mutual_info_score``). A model whose
    predicted classes follow the structure of its own target features scores high.

    Args:
        target_features: ``(n, d)`` target features (e.g. the layer the label head reads).
        target_probabilities: ``(n, num_classes)`` predicted probabilities on the same rows.
        random_state: seed of k-means.

    Returns:
        The adjusted mutual information, at most 1 (about 0 for unrelated labellings).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import class_ami
        >>> rng = np.random.default_rng(0)
        >>> y = rng.integers(0, 3, 150)
        >>> x = rng.normal(size=(150, 4)) + 6 * np.eye(4)[y]
        >>> class_ami(x, np.eye(3)[y]) > 0.9
        True
        >>> abs(class_ami(x, np.eye(3)[rng.integers(0, 3, 150)])) < 0.05
        True
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_mutual_info_score

    p = _check_probabilities(target_probabilities, "target_probabilities")
    features = np.asarray(target_features)
    if features.dtype.kind not in "biuf" or features.ndim != 2 or len(features) != len(p):
        raise ValueError(
            "`target_features` must be real numbers of shape (n, d), one row per row of "
            f"`target_probabilities` ({len(p)}); received dtype={features.dtype}, shape={features.shape}."
        )
    features = features.astype("float64")
    check_finite(features, "target_features")
    random_state = check_random_state(random_state)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.where(norms > 0, norms, 1.0)
    k = min(p.shape[1], len(np.unique(unit, axis=0)))
    if k < 2:
        return 0.0  # every row has the same feature: no cluster structure to agree with
    clusters = KMeans(k, n_init=3, random_state=random_state).fit_predict(unit)
    return float(adjusted_mutual_info_score(clusters, p.argmax(axis=1)))


def mix_validation(predict, target_x, alpha: float = 0.55, random_state: int = 0) -> float:
    """MixVal: how consistently the model labels mixed target inputs; higher is better.

    Hu et al., "Mixed Samples as Probes for Unsupervised Model Selection in Domain Adaptation",
    NeurIPS 2023 (as in SKADA-Bench's ``MixValScorer``): pair every target input with a random
    other one (never itself), mix them ``alpha * x_a + (1 - alpha) * x_b`` (``alpha > 0.5``), and check whether
    the model predicts ``x_a``'s predicted label for the mix. The score averages this accuracy
    over pairs with the same predicted label (intra-cluster) and pairs with different ones
    (inter-cluster); a group with no pair is left out of the average.

    Args:
        predict: a callable mapping a batch of inputs to ``(n, num_classes)`` probabilities
            (e.g. a Keras model, or ``estimator.predict_proba``).
        target_x: ``(n >= 2, ...)`` unlabelled target inputs (images or features).
        alpha: mixing weight of the first input, in (0.5, 1).
        random_state: seed of the pairing.

    Returns:
        The interpolation consistency, in [0, 1].

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import mix_validation
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(scale=0.3, size=(200, 2)) + 5 * rng.choice([-1, 1], (200, 1))
        >>> def rule(boundary):
        ...     return lambda z: np.stack([z[:, 0] < boundary, z[:, 0] >= boundary], 1).astype(float)
        >>> good, shifted = mix_validation(rule(0.0), x), mix_validation(rule(2.0), x)
        >>> bool(good > 0.9 and shifted < 0.8)  # the boundary between the clusters wins
        True
    """
    alpha = float(alpha)
    if not 0.5 < alpha < 1.0:
        raise ValueError(f"`alpha` must be in (0.5, 1); received alpha={alpha!r}.")
    if not callable(predict):
        raise ArgumentTypeError(
            f"`predict` must be a callable returning class probabilities; received {type(predict).__name__}."
        )
    x = np.asarray(target_x)
    if x.dtype.kind not in "biuf" or x.ndim < 2 or len(x) < 2:
        raise ValueError(
            "`target_x` must be at least 2 rows of real-valued inputs; received "
            f"dtype={x.dtype}, shape={x.shape}."
        )
    random_state = check_random_state(random_state)
    x = x.astype("float32")
    labels = _check_probabilities(np.asarray(predict(x)), "predict(target_x)").argmax(axis=1)
    order = np.random.default_rng(random_state).permutation(len(x))
    pair = np.empty_like(order)
    pair[order] = np.roll(order, -1)  # a random pairing in which no input is mixed with itself
    mixed = alpha * x + (1.0 - alpha) * x[pair]
    agree = _check_probabilities(np.asarray(predict(mixed)), "predict(mixed)").argmax(axis=1) == labels
    same = labels == labels[pair]
    groups = [agree[same].mean()] if same.any() else []
    groups += [agree[~same].mean()] if (~same).any() else []
    return float(np.mean(groups))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (e.g. accuracy on ``n`` labelled images).

    Wilson, "Probable inference, the law of succession, and statistical inference", JASA 1927:
    the ``p`` whose normal test ``|successes / n - p| <= z * sqrt(p (1 - p) / n)`` is not
    rejected, with ``z`` the two-sided normal quantile of ``confidence``. Unlike the Wald interval
    it stays inside [0, 1] and is not empty at 0 or ``n`` successes, which matters for the
    20-100 labels of few-label validation.

    Args:
        successes: correct predictions, an int in ``[0, n]``.
        n: labelled rows, an int >= 1.
        confidence: coverage, in (0, 1).

    Returns:
        ``(low, high)``, with ``0 <= low <= successes / n <= high <= 1``.

    Example:
        >>> from keras_transfer.adaptation import wilson_interval
        >>> low, high = wilson_interval(45, 50)
        >>> round(low, 3), round(high, 3)
        (0.786, 0.957)
    """
    from statistics import NormalDist

    if isinstance(successes, bool) or not isinstance(successes, (int, np.integer)):
        raise ArgumentTypeError(f"`successes` must be an int; received {type(successes).__name__}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ArgumentTypeError(f"`n` must be an int; received {type(n).__name__}.")
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"`successes` must be in [0, n] with n >= 1; received successes={successes}, n={n}.")
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"`confidence` must be in (0, 1); received confidence={confidence!r}.")
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p, z2 = successes / n, z * z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == n else min(1.0, center + half)
    return float(low), float(high)
