"""`adapt_source_free`: adapt a fitted estimator to target images without its source data."""

from __future__ import annotations

import copy

from sklearn.utils.validation import check_is_fitted

from keras_transfer._validation import check_choice, check_int, check_random_state

SOURCE_FREE_METHODS = ("shot", "tent")


def adapt_keras_model(
    model, x, method: str, *, epochs: int, batch_size: int, copy_model: bool, verbose: int = 0
):
    """SHOT or TENT on a Keras classifier ``model`` with target inputs ``x``; returns
    ``(adapted model, collapse report)``. SHOT: beta 0.3, SGD momentum 0.9 with the paper's
    annealing from 0.01; TENT: `keras_transfer.models.adapt_at_test_time` (Adam 1e-3)."""
    import keras

    from keras_transfer.models import SHOT, adapt_at_test_time
    from keras_transfer.schedules import DANNLearningRate

    if method == "tent":
        adapted = adapt_at_test_time(
            model, x, batch_size=batch_size, epochs=epochs, copy=copy_model, verbose=verbose
        )
        return adapted, adapted.collapse_report
    shot = SHOT.from_model(model, copy=copy_model)
    steps = -(-len(x) // batch_size) * epochs
    shot.compile(optimizer=keras.optimizers.SGD(DANNLearningRate(steps), momentum=0.9))
    shot.fit(x, epochs=epochs, batch_size=batch_size, verbose=verbose)
    return (shot if copy_model else model), shot.collapse_report


def adapt_source_free(
    estimator,
    X_target,
    *,
    method: str = "shot",
    epochs: int | None = None,
    batch_size: int | None = None,
    random_state: int | None = None,
    verbose: int = 0,
):
    """Adapt a fitted image classifier to unlabelled target images, without the source data.

    "I only have a trained model and target images": the estimator's Keras model is adapted on
    ``X_target`` alone, by SHOT (`keras_transfer.models.SHOT`: the classifier head frozen, the
    feature layers trained by information maximisation and centroid pseudo-labels) or TENT
    (`keras_transfer.models.adapt_at_test_time`: BatchNorm's gamma/beta trained on the target
    prediction entropy, then target BatchNorm statistics). The estimator is not changed: a copy
    with the adapted ``model_`` is returned, so ``predict`` works as before on target images. Works
    on a fitted `DomainAdaptationClassifier` (any method) or `FineTunedClassifier`.

    Cost: SHOT trains the feature layers for ``epochs`` passes over ``X_target`` plus one
    inference pass per epoch (pseudo-labels); TENT, ``epochs`` passes updating only BatchNorm
    parameters (cheap), then one inference pass. When it fails: both assume the source model is
    already roughly right on the target and that the target classes are roughly balanced (SHOT's
    diversity term pushes towards uniform class shares; TENT's batches must mix classes); on a
    small or class-imbalanced target they can collapse. The collapse check runs on the result (a
    `keras_transfer.adaptation.CollapseWarning`; the report is ``collapse_report_``). Measured
    numbers: benchmarks/README.md, "Source-free and test-time adaptation".

    Args:
        estimator: a fitted `keras_transfer.sklearn` image classifier (with ``model_``).
        X_target: unlabelled target images, in any form the estimator's ``predict`` takes as an
            array (a numpy array, or flattened rows).
        method: ``"shot"`` or ``"tent"``.
        epochs: passes over ``X_target`` (None: 10 for SHOT, 1 for TENT).
        batch_size: None for the estimator's ``batch_size``.
        random_state: None or an int >= 0, seeds Keras and numpy for the adaptation.
        verbose: 1 shows Keras progress, 0 is silent.

    Returns:
        A fitted copy of ``estimator`` whose ``model_`` is adapted, with ``source_free_method_``
        (the method) and ``collapse_report_`` set.

    Raises:
        ValueError: ``method`` unknown; TENT on a network without BatchNormalization; SHOT on a
            network whose feature layers are all frozen.
        sklearn.exceptions.NotFittedError: ``estimator`` is not fitted.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.sklearn import DomainAdaptationClassifier, adapt_source_free
        >>> rng = np.random.default_rng(0)
        >>> Xs, ys = rng.integers(0, 255, (32, 32, 32, 3)), np.array(["a", "b"] * 16)
        >>> clf = DomainAdaptationClassifier(method="source_only", backbone="mobilenet_v3_small",
        ...     weights=None, input_shape=(32, 32, 3), epochs=1, batch_size=16).fit(Xs, ys)
        >>> Xt = rng.integers(0, 255, (32, 32, 32, 3))
        >>> adapted = adapt_source_free(clf, Xt, method="shot", epochs=1)
        >>> adapted.predict(Xt).shape, adapted is clf
        ((32,), False)
    """
    import keras

    check_is_fitted(estimator, "model_")
    method = check_choice(method, SOURCE_FREE_METHODS, "method")
    epochs = check_int(
        epochs if epochs is not None else (10 if method == "shot" else 1), "epochs", min_value=1
    )
    batch_size = check_int(
        batch_size if batch_size is not None else estimator.batch_size, "batch_size", min_value=1
    )
    seed = check_random_state(random_state, "random_state")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    size = getattr(estimator, "input_size_", None)
    images = estimator._images(X_target, reset=False, size=size, argument="X_target")
    x = estimator._model_inputs(images)
    model, report = adapt_keras_model(
        estimator.model_, x, method, epochs=epochs, batch_size=batch_size, copy_model=True, verbose=verbose
    )
    adapted = copy.copy(estimator)
    adapted.model_ = model
    adapted.source_free_method_ = method
    adapted.collapse_report_ = report
    return adapted
