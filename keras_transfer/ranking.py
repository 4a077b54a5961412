"""Rank pretrained backbones for a labelled target task before any fine-tuning.

Transferability scores computed on frozen features:

* LogME (You et al., "LogME: Practical Assessment of Pre-trained Models for Transfer Learning",
  ICML 2021): the log marginal evidence of a Bayesian linear model on the features, per class
  (one-vs-rest indicator targets), maximised over the prior/noise precisions (alpha, beta) by the
  paper's fixed-point iteration, averaged over classes and divided by N. Higher is better.
* H-score (Bao et al., "An Information-theoretic Approach to Transferability in Task Transfer
  Learning", ICIP 2019): ``tr(cov(f)^+ cov(E[f | y]))``. Higher is better.
* LEEP (Nguyen et al., ICML 2020), for when you have the source classifier's probabilities.

Example:
    >>> import numpy as np
    >>> from keras_transfer.ranking import logme
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 200)
    >>> good = np.eye(3)[y] + 0.1 * rng.normal(size=(200, 3))
    >>> bad = rng.normal(size=(200, 3))
    >>> bool(logme(good, y) > logme(bad, y))
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keras_transfer._validation import ArgumentTypeError, check_float, check_int, suggest

SCORES = ("logme", "h_score")


def _check_features(features, y, name: str = "features") -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(features)
    if f.dtype.kind not in "biuf":  # strings, objects, complex numbers are not features
        raise ArgumentTypeError(f"`{name}` must hold real numbers; received dtype={f.dtype}.")
    f = f.astype(np.float64)
    if f.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (n_samples, n_features); received shape={f.shape}.")
    if len(f) == 0:
        raise ValueError(f"`{name}` is empty: received shape={f.shape}. Pass at least one row per class.")
    if not np.isfinite(f).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(f):
        raise ValueError(
            f"`y` must be 1-D with one label per row of `{name}` ({len(f)}); received shape={y.shape}."
        )
    _, codes = np.unique(y, return_inverse=True)
    if codes.max(initial=0) < 1:
        raise ValueError("`y` must hold at least two classes to score transferability.")
    return f, codes


def _evidence(y_, f, fh, v, s, vh, N, D, max_iter, tol):
    """One target column: the fixed point of the reference code (thuml/LogME, ``each_evidence``)."""
    epsilon = 1e-5
    alpha, beta = 1.0, 1.0
    lam = alpha / beta
    tmp = vh @ (f @ y_)
    for _ in range(max_iter):
        gamma = (s / (s + lam)).sum()
        m = v @ (tmp * beta / (alpha + beta * s))
        alpha_de = (m * m).sum()
        alpha = gamma / (alpha_de + epsilon)
        beta_de = ((y_ - fh @ m) ** 2).sum()
        beta = (N - gamma) / (beta_de + epsilon)
        new_lam = alpha / beta
        if np.abs(new_lam - lam) / lam < tol:
            break
        lam = new_lam
    evidence = (
        D / 2.0 * np.log(alpha)
        + N / 2.0 * np.log(beta)
        - 0.5 * np.sum(np.log(alpha + beta * s))
        - beta / 2.0 * (beta_de + epsilon)
        - alpha / 2.0 * (alpha_de + epsilon)
        - N / 2.0 * np.log(2 * np.pi)
    )
    return evidence / N


def logme(features, y, *, max_iter: int = 11, tol: float = 0.01) -> float:
    """LogME transferability score (You et al., ICML 2021) of ``features`` for labels ``y``.

    For each class c, with target ``t = 1[y == c]``, the evidence of ``t = F w + noise``,
    ``w ~ N(0, alpha^-1 I)``, noise ``~ N(0, beta^-1)`` is maximised over (alpha, beta) with the
    fixed point ``gamma = sum(beta s_i / (alpha + beta s_i))``, ``alpha = gamma / m'm``,
    ``beta = (N - gamma) / ||t - F m||^2`` using the SVD of ``F'F``; the score is the mean over
    classes of the maximised log evidence divided by N. ``max_iter=11`` and the 1% relative
    tolerance on alpha/beta follow the paper's reference code.

    Args:
        features: ``(n_samples, n_features)`` frozen features.
        y: ``(n_samples,)`` labels of any type (at least two classes).
        max_iter: fixed-point iterations at most.
        tol: stop when alpha/beta changes by less than this fraction.

    Returns:
        The LogME score (higher means the features suit the task better).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.ranking import logme
        >>> x = np.random.default_rng(0).normal(size=(50, 4))
        >>> round(logme(x, (x[:, 0] > 0).astype(int)), 3) > round(logme(x, np.arange(50) % 2), 3)
        True
    """
    f, codes = _check_features(features, y)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    tol = check_float(tol, "tol", min_value=0.0)
    fh = f
    ft = f.T
    D, N = ft.shape
    v, s, vh = np.linalg.svd(ft @ fh, full_matrices=True)
    scores = [
        _evidence((codes == c).astype(np.float64), ft, fh, v, s, vh, N, D, max_iter, tol)
        for c in range(codes.max() + 1)
    ]
    return float(np.mean(scores))


def h_score(features, y, *, shrinkage: str | float | None = None) -> float:
    """H-score (Bao et al., ICIP 2019): ``tr(pinv(cov(f)) cov(E[f | y]))``.

    With fewer samples than features the plain estimate saturates at ``n_classes - 1`` for any
    features; ``shrinkage`` regularises ``cov(f)`` (Ibrahim et al., "Newer is not always
    better: rethinking transferability metrics", ICLR 2022): ``"auto"`` is Ledoit-Wolf, a float
    ``a`` in [0, 1] gives ``(1 - a) cov + a tr(cov)/d I``.

    Args:
        features: ``(n_samples, n_features)`` frozen features.
        y: ``(n_samples,)`` labels of any type (at least two classes).
        shrinkage: ``None`` (the original score), ``"auto"`` or a float in [0, 1].

    Returns:
        The H-score (higher is better; at most the number of classes minus one).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.ranking import h_score
        >>> y = np.arange(100) % 2
        >>> f = np.c_[y + 0.1 * np.random.default_rng(0).normal(size=100), np.ones(100)]
        >>> round(h_score(f, y), 2)  # between-class 0.25 / total 0.26 variance of the first feature
        0.97
    """
    f, codes = _check_features(features, y)
    f = f - f.mean(axis=0, keepdims=True)
    cov_f = f.T @ f / (len(f) - 1)
    if shrinkage == "auto":
        from sklearn.covariance import ledoit_wolf_shrinkage

        shrinkage = float(ledoit_wolf_shrinkage(f, assume_centered=True))
    if shrinkage is not None:
        if isinstance(shrinkage, str):
            raise ValueError(
                f"`shrinkage` must be None, 'auto' or a number in [0, 1]; received shrinkage={shrinkage!r}."
            )
        shrinkage = check_float(shrinkage, "shrinkage", min_value=0.0, max_value=1.0)
        mu = np.trace(cov_f) / cov_f.shape[0]
        cov_f = (1 - shrinkage) * cov_f + shrinkage * mu * np.eye(cov_f.shape[0])
    g = np.zeros_like(f)
    for c in range(codes.max() + 1):
        g[codes == c] = f[codes == c].mean(axis=0)
    cov_g = g.T @ g / (len(f) - 1)
    return float(np.trace(np.linalg.pinv(cov_f, rcond=1e-15, hermitian=True) @ cov_g))


def leep(source_probabilities, y) -> float:
    """LEEP (Nguyen et al., ICML 2020) from a source classifier's probabilities on target data.

    ``mean_i log sum_z P(y_i | z) theta(x_i)_z`` with the empirical conditional
    ``P(y | z) = P(y, z) / P(z)``, ``P(y, z) = mean_i theta(x_i)_z 1[y_i = y]``.

    Args:
        source_probabilities: ``(n_samples, n_source_classes)`` rows summing to one.
        y: ``(n_samples,)`` target labels.

    Returns:
        The LEEP score (a mean log-likelihood, <= 0; higher is better).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.ranking import leep
        >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.8, 0.2], [0.1, 0.9]])
        >>> round(leep(p, [0, 1, 0, 1]), 3)  # mean of log(0.78), log(0.71), log(0.71), log(0.78)
        -0.295
    """
    p, codes = _check_features(source_probabilities, y, "source_probabilities")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("`source_probabilities` must be non-negative rows that sum to 1.")
    onehot = np.eye(codes.max() + 1)[codes]
    joint = p.T @ onehot / len(p)  # (source classes, target classes)
    conditional = joint / np.maximum(joint.sum(axis=1, keepdims=True), 1e-300)
    return float(np.mean(np.log(np.sum(p * conditional[:, codes].T, axis=1))))


def rank_backbones(
    X,
    y,
    candidates: Sequence,
    *,
    scores: Sequence[str] = SCORES,
    input_shape: tuple[int, int, int] | None = None,
    batch_size: int = 32,
    verbose: int = 0,
):
    """Score candidate backbones on a labelled target task and sort them, best first (by LogME).

    Each candidate's frozen features are extracted with `keras_transfer.sklearn.FeatureExtractor`
    (cached, so re-ranking the same data is cheap) and scored.

    Args:
        X: images, in any form `FeatureExtractor` accepts (texts for ``"text:..."`` candidates,
            e.g. ``["text:minilm", "text:/path/to/another/preset"]``).
        y: labels (any type, at least two classes).
        candidates: backbone names (pretrained with ``weights="imagenet"``), ``(name, weights)``
            pairs, or ``FeatureExtractor`` instances (e.g. to compare weights=None vs "imagenet").
        scores: any of ``"logme"``, ``"h_score"`` (Ledoit-Wolf regularised, see `h_score`); the
            first one sorts the table.
        input_shape: passed to each extractor built from a name.
        batch_size: images per compiled call.
        verbose: progress of feature extraction.

    Returns:
        A pandas DataFrame (a list of dicts without pandas) with columns ``rank``, ``backbone``,
        ``weights``, ``num_features``, one per score, and ``seconds`` (extraction time).

    Example:
        >>> from sklearn.datasets import load_digits
        >>> from keras_transfer.ranking import rank_backbones
        >>> X, y = load_digits(return_X_y=True)
        >>> table = rank_backbones(X[:60] * 16, y[:60], [("mobilenet_v3_small", None)],
        ...                        input_shape=(32, 32, 3))
        >>> list(table.columns)[:3]
        ['rank', 'backbone', 'weights']
    """
    import time

    from keras_transfer.sklearn import FeatureExtractor

    unknown = [s for s in scores if s not in SCORES]
    if unknown or not scores or isinstance(scores, str):
        raise ValueError(
            f"`scores` must be a non-empty list drawn from {list(SCORES)}; received scores={scores!r}."
        )
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    verbose = check_int(verbose, "verbose", min_value=0, max_value=2)
    if isinstance(candidates, (str, bytes)) or not len(candidates):
        raise ValueError(
            f"`candidates` must be a non-empty list of backbone names, (name, weights) pairs or "
            f"FeatureExtractor instances; received candidates={candidates!r}."
        )
    from keras_transfer.backbones import HANDLE_PREFIXES, list_backbones

    known = set(list_backbones())
    for cand in candidates:
        name = cand[0] if isinstance(cand, (tuple, list)) and len(cand) == 2 else cand
        # handles (hub:, kerashub:, text:) are checked when they load
        if isinstance(name, str) and not name.startswith(HANDLE_PREFIXES) and name not in known:
            raise ValueError(
                f"`candidates` names an unknown backbone {name!r}.{suggest(name, known)} See "
                "keras_transfer.backbones.list_backbones()."
            )
    functions = {"logme": logme, "h_score": lambda f, labels: h_score(f, labels, shrinkage="auto")}
    rows = []
    for cand in candidates:
        if isinstance(cand, FeatureExtractor):
            extractor = cand
        elif isinstance(cand, str):
            extractor = FeatureExtractor(
                backbone=cand, input_shape=input_shape, batch_size=batch_size, verbose=verbose
            )
        elif isinstance(cand, (tuple, list)) and len(cand) == 2:
            extractor = FeatureExtractor(
                backbone=cand[0],
                weights=cand[1],
                input_shape=input_shape,
                batch_size=batch_size,
                verbose=verbose,
            )
        else:
            raise ValueError(
                f"`candidates` entries must be names, (name, weights) pairs or FeatureExtractor "
                f"instances; received {cand!r}."
            )
        start = time.perf_counter()
        features = extractor.fit(X).transform(X)
        row = {
            "backbone": extractor.backbone,
            "weights": str(extractor.weights),
            "num_features": int(features.shape[1]),
        }
        row["seconds"] = time.perf_counter() - start
        for name in scores:
            row[name] = functions[name](features, y)
        rows.append(row)
    rows.sort(key=lambda r: -r[scores[0]])
    for i, row in enumerate(rows, 1):
        row["rank"] = i
    columns = ["rank", "backbone", "weights", "num_features", *scores, "seconds"]
    rows = [{c: r[c] for c in columns} for r in rows]
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows, columns=columns)


def plot_ranking(table, score: str = "logme"):
    """A horizontal bar chart of one score per backbone (best on top) as a matplotlib Figure.

    Args:
        table: the result of `rank_backbones` (DataFrame or list of dicts).
        score: which score column to plot.

    Returns:
        ``matplotlib.figure.Figure``.

    Example:
        >>> from keras_transfer.ranking import plot_ranking
        >>> fig = plot_ranking([{"backbone": "a", "weights": "imagenet", "logme": 1.0},
        ...                     {"backbone": "a", "weights": None, "logme": 0.5}])
        >>> len(fig.axes)
        1
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plot_ranking needs matplotlib: pip install matplotlib") from exc
    rows = table.to_dict("records") if hasattr(table, "to_dict") else list(table)
    if not rows or score not in rows[0]:
        raise ValueError(
            f"`score`={score!r} is not a column of `table`; columns: {list(rows[0]) if rows else []}."
        )
    rows = sorted(rows, key=lambda r: r[score])
    labels = [f"{r['backbone']} ({r.get('weights')})" for r in rows]
    fig = Figure(figsize=(6, 0.5 + 0.4 * len(rows)))
    ax = fig.add_subplot()
    ax.barh(labels, [r[score] for r in rows], color="tab:blue")
    ax.set_xlabel(score)
    ax.set_title("Backbone transferability (higher is better)")
    fig.tight_layout()
    return fig
