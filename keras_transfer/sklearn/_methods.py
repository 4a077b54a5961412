"""The adaptation methods `DomainAdaptationClassifier` offers, one plain dict entry each.

Every method shares the network ``backbone -> Dense(bottleneck, relu)`` (the adapted features)
``-> Dense(num_classes, softmax)`` and one training loop; they differ in the Keras model that adds
the adaptation term and in what happens after training (AdaBN). The two-domain methods are those
registered in `keras_transfer.models.ADAPTATION_METHODS` (a model class and its arguments each,
default adaptation weight included, used when ``adaptation_weight=None``); the estimator adds the
plain classifier (``"source_only"``) and AdaBN on it (``"adabn"``).
"""

from __future__ import annotations

import numpy as np

from keras_transfer.models import ADAPTATION_METHODS

SOURCE_ONLY = "source_only"

# name -> {"model": the registered keras_transfer.models.AdaptationMethod, or None for the plain
#          classifier; "adapt_batch_norm": True for AdaBN (target BatchNorm statistics at the end);
#          "feature_norm": True to put a BatchNormalization layer on the backbone's pooled features
#          and leave the frozen BatchNorm layers with their pretraining statistics (see `train`)}
METHODS = {
    "source_only": {"model": None},
    "adabn": {"model": None, "adapt_batch_norm": True, "feature_norm": True},
    **{name: {"model": method} for name, method in ADAPTATION_METHODS.items()},
    # source-free: the plain classifier, then SHOT / TENT on the target alone (`train`)
    "shot": {"model": None, "source_free": "shot"},
    "tent": {"model": None, "adapt_batch_norm": True, "source_free": "tent"},
}


def needs_rgb(method: str) -> bool:
    """Whether ``method`` trains on 3-channel images (grayscale inputs are then repeated)."""
    model = METHODS.get(method, {}).get("model")
    return bool(model is not None and model.needs_rgb)


def has_batch_norm(layer, trainable_only: bool = False) -> bool:
    """Whether ``layer`` or a layer nested in it is a BatchNormalization layer (a trainable one)."""
    from keras_transfer.policies import batch_norm_layers

    return bool(batch_norm_layers(layer, trainable=True if trainable_only else None))


def fitted_with_adabn(model) -> bool:
    """Whether ``model`` is a two-domain model whose ``fit`` ends with AdaBN (its own
    ``uses_adabn()``), so that after ``fit`` it holds target BatchNorm statistics."""
    uses_adabn = getattr(model, "uses_adabn", None)
    return bool(uses_adabn()) if callable(uses_adabn) else False


def feature_norm(method: str) -> bool:
    """Whether ``method``'s network has a BatchNormalization layer on the pooled backbone features
    (AdaBN: the layer whose statistics follow the domain when the backbone is frozen)."""
    return bool(METHODS.get(method, {}).get("feature_norm"))


def adapts_frozen_batch_norm(method: str) -> bool:
    """Whether ``method`` re-estimates frozen BatchNorm layers too (TENT), so that its source side
    is scored with every statistic re-estimated on the source."""
    spec = METHODS.get(method, {})
    return bool(spec.get("adapt_batch_norm")) and not spec.get("feature_norm")


def build(method: str, features, num_classes: int, adaptation_weight: float | None):
    """The Keras model of ``method`` on top of the ``features`` network."""
    import keras

    spec = METHODS[method]
    if spec["model"] is None:
        head = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="label_head")
        return keras.Sequential([features, head], name=method)
    kwargs = {} if adaptation_weight is None else {"adaptation_weight": float(adaptation_weight)}
    return spec["model"].build(features, num_classes, **kwargs)


def train(
    method: str,
    model,
    source: np.ndarray,
    codes: np.ndarray,
    weights: np.ndarray | None,
    target: np.ndarray | None,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    validation=None,
    callbacks=(),
    verbose: int = 0,
    seed: int | None = None,
):
    """Compile and fit ``model`` (built by `build`); returns the Keras ``History``.

    An epoch covers the larger domain: when the target is larger, the source rows (with their
    labels and weights) are shuffled and cycled to its length here, so that every method, the
    plain classifier included, takes the same number of steps and the weights stay aligned.

    After training, the moving statistics of the trainable BatchNorm layers are re-estimated on
    the images the network trained on (precise BN: Wu and Johnson, "Rethinking 'Batch' in
    BatchNorm", 2021): source images for the plain classifier, shuffled source and target images
    in double batches for two-domain models whose steps normalise both domains together. A short
    training otherwise predicts with statistics far from those it trained with. Two-domain models
    fitted with AdaBN (`fitted_with_adabn`: each domain normalised with its own statistics, the
    models' default when the network has a trainable BatchNorm layer) already end ``fit`` with
    target statistics and are left as they are.

    AdaBN (``"adabn"``) re-estimates, after training, every *trainable* BatchNorm layer on the
    target: the BatchNormalization layer its network has on the pooled backbone features
    (`feature_norm`), and the backbone's own layers when the backbone trains. A frozen
    backbone keeps its pretraining statistics in both domains, so the features entering that
    layer are those source-only sees. TENT (``"tent"``) first sets every BatchNorm layer, frozen
    ones included, to the source statistics (it re-estimates all of them on the target).
    """
    import keras

    from keras_transfer.adaptation import adapt_batch_norm
    from keras_transfer.policies import recalibrate_batch_norm
    from keras_transfer.streaming import cycled_index

    if target is not None and len(target) > len(source):
        index = cycled_index(len(source), len(target), np.random.default_rng(seed))
        source, codes = source[index], codes[index]
        weights = None if weights is None else weights[index]
    fit_kwargs = dict(
        epochs=epochs,
        batch_size=batch_size,
        sample_weight=None if weights is None else weights.astype("float32"),
        validation_data=validation,
        callbacks=list(callbacks),
        verbose=verbose,
    )
    adabn = bool(METHODS[method].get("adapt_batch_norm")) and target is not None
    include_frozen = adapts_frozen_batch_norm(method)
    if adabn and include_frozen:
        # AdaBN's rule (Li et al.): a layer may take target statistics only when what follows it
        # trained on source-normalised values. A frozen pretrained backbone holds its pretraining
        # (ImageNet) statistics, not the source's: a head trained on those, then fed
        # target-normalised features, fell below chance on a digit pair. A method that swaps
        # frozen statistics (TENT) therefore first sets every one of them to the source's.
        # AdaBN does not swap them at all: measured on Fashion-MNIST -> Fashion-MNIST-M with the
        # frozen Lite0, a head trained on source-normalised frozen layers lost 13-17 points of
        # target accuracy against the pretraining statistics, more than target statistics won back.
        adapt_batch_norm(model, source, batch_size=batch_size, include_frozen=True, collapse_check=False)
    optimizer = keras.optimizers.Adam(learning_rate)
    plain = METHODS[method]["model"] is None
    if plain:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(source, codes, shuffle=True, **fit_kwargs)
    else:
        model.compile(optimizer=optimizer)
        history = model.fit(x=(source, target), y=codes, collapse_check=False, **fit_kwargs)
    if epochs and has_batch_norm(model, trainable_only=True) and not fitted_with_adabn(model):
        if plain:
            seen, size = source, batch_size
        else:
            seen = np.concatenate([source, target])
            seen, size = seen[np.random.default_rng(seed).permutation(len(seen))], 2 * batch_size
        recalibrate_batch_norm(model, seen, batch_size=size, verbose=0)
    if adabn:
        adapt_batch_norm(
            model, target, batch_size=batch_size, include_frozen=include_frozen, collapse_check=False
        )
    source_free = METHODS[method].get("source_free")
    if source_free and target is not None and epochs:
        # SHOT / TENT on the target alone, in place (the estimator runs its own collapse check
        # against the source class balance afterwards, so theirs is silenced here)
        import warnings

        from keras_transfer.adaptation import CollapseWarning
        from keras_transfer.sklearn.source_free import adapt_keras_model

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CollapseWarning)
            adapt_keras_model(
                model,
                target,
                source_free,
                epochs=epochs if source_free == "shot" else 1,
                batch_size=batch_size,
                copy_model=False,
                verbose=verbose,
            )
    return history
