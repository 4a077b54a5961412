"""Shift diagnostics: how far apart are the source and target features?"""

from __future__ import annotations

import numpy as np

from keras_transfer._validation import check_choice, check_feature_pair, check_float, check_random_state

EMBED_METHODS = ("pca", "tsne")


def proxy_a_distance(
    source_features, target_features, estimator=None, test_size: float = 0.5, random_state: int = 0
) -> float:
    """Proxy A-distance ``PAD = 2 (1 - 2 err)`` between two feature sets.

    Ben-David et al., "Analysis of Representations for Domain Adaptation", NIPS 2006: train a
    domain classifier on half the pooled rows and measure its error ``err`` on the other half.
    About 0 when the domains are indistinguishable, 2 when perfectly separable (values just
    below 0 are noise).

    Args:
        source_features: ``(n_s, d)`` source features.
        target_features: ``(n_t, d)`` target features.
        estimator: a scikit-learn classifier (cloned); default a standardised linear SVM.
        test_size: fraction of rows held out to measure the error.
        random_state: seed of the split.

    Returns:
        The proxy A-distance, a float in [-2, 2].

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import proxy_a_distance
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(200, 5))
        >>> proxy_a_distance(xs, xs + 5.0) > 1.9
        True
    """
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    check_feature_pair(source_features, target_features, "source_features", "target_features")
    test_size = check_float(
        test_size, "test_size", min_value=0, max_value=1, min_inclusive=False, max_inclusive=False
    )
    random_state = check_random_state(random_state)
    xs = np.asarray(source_features, "float64")
    xt = np.asarray(target_features, "float64")
    x = np.concatenate([xs, xt])
    d = np.concatenate([np.zeros(len(xs)), np.ones(len(xt))])
    x_fit, x_test, d_fit, d_test = train_test_split(
        x, d, test_size=test_size, random_state=random_state, stratify=d
    )
    if estimator is None:
        model = make_pipeline(StandardScaler(), LinearSVC(C=1.0))
    else:
        model = clone(estimator)
    model.fit(x_fit, d_fit)
    err = float(np.mean(model.predict(x_test) != d_test))
    return 2.0 * (1.0 - 2.0 * err)


def embed_domains(source_features, target_features, method: str = "pca", random_state: int = 0, **kwargs):
    """2-D coordinates of source and target features in one shared embedding.

    Fits PCA or t-SNE on the pooled rows and splits the result back. Plot it with
    ``keras_transfer.plots`` or matplotlib's ``scatter``.

    Args:
        source_features: ``(n_s, d)`` source features.
        target_features: ``(n_t, d)`` target features.
        method: ``"pca"`` or ``"tsne"``.
        random_state: seed for t-SNE (and randomized PCA).
        **kwargs: passed to ``sklearn.decomposition.PCA`` or ``sklearn.manifold.TSNE``.

    Returns:
        ``(source_2d, target_2d)``, arrays of shape ``(n_s, 2)`` and ``(n_t, 2)``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import embed_domains
        >>> rng = np.random.default_rng(0)
        >>> s2, t2 = embed_domains(rng.normal(size=(30, 8)), rng.normal(size=(20, 8)))
        >>> s2.shape, t2.shape
        ((30, 2), (20, 2))
    """
    check_feature_pair(source_features, target_features, "source_features", "target_features")
    check_choice(method, EMBED_METHODS, "method")
    random_state = check_random_state(random_state)
    xs = np.asarray(source_features, "float64")
    xt = np.asarray(target_features, "float64")
    x = np.concatenate([xs, xt])
    if x.shape[0] < 3:
        raise ValueError(f"Need at least 3 rows in total to embed; received {x.shape[0]}.")
    if method == "pca":
        from sklearn.decomposition import PCA

        coords = PCA(n_components=2, random_state=random_state, **kwargs).fit_transform(x)
    else:
        from sklearn.manifold import TSNE

        kwargs.setdefault("perplexity", float(min(30.0, (x.shape[0] - 1) / 3.0)))
        kwargs.setdefault("init", "pca")
        coords = TSNE(n_components=2, random_state=random_state, **kwargs).fit_transform(x)
    return coords[: len(xs)], coords[len(xs) :]
