"""A callback that logs label-free model-selection scores on the target domain each epoch."""

from __future__ import annotations

import keras
import numpy as np

from keras_transfer.adaptation import model_selection as ms

SCORES = ("entropy", "snd", "dev", "reverse_validation")
_NEEDS_SOURCE = ("dev", "reverse_validation")


class UnsupervisedValidation(keras.callbacks.Callback):
    """Log unsupervised model-selection scores at the end of every epoch.

    Adds ``entropy`` (`keras_transfer.adaptation.prediction_entropy`, lower is better),
    ``snd`` (soft neighbourhood density, higher is better), ``dev`` (deep embedded validation
    risk, lower is better) and ``reverse_validation`` (higher is better) to the epoch logs,
    so they appear in ``History`` and can drive ``ModelCheckpoint(monitor="snd", mode="max")``.
    ``dev`` and ``reverse_validation`` need held-out labelled source data and a feature
    extractor (default ``model.feature_extractor``, as on `keras_transfer.models.DANN`).

    Args:
        target_x: unlabelled target inputs.
        source_x: held-out labelled source inputs (for ``dev`` and ``reverse_validation``).
        source_y: their integer labels.
        scores: which scores to log, a subset of ``("entropy", "snd", "dev",
            "reverse_validation")``.
        feature_extractor: a Keras model/layer giving features; default ``model.feature_extractor``.
        batch_size: prediction batch size.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.callbacks import UnsupervisedValidation
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(64, 3)), rng.integers(0, 2, 64)
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        >>> model.compile("adam", "sparse_categorical_crossentropy")
        >>> callback = UnsupervisedValidation(x + 1.0, scores=("entropy", "snd"))
        >>> history = model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
        >>> sorted(k for k in history.history if k != "loss")
        ['entropy', 'snd']
    """

    def __init__(
        self,
        target_x,
        source_x=None,
        source_y=None,
        scores=SCORES,
        feature_extractor=None,
        batch_size: int = 256,
    ):
        super().__init__()
        scores = tuple(scores)
        unknown = [s for s in scores if s not in SCORES]
        if unknown or not scores:
            raise ValueError(f"`scores` must be a non-empty subset of {SCORES}; received {scores!r}.")
        if len(target_x) == 0:
            raise ValueError("`target_x` is empty: pass at least two unlabelled target examples.")
        needs_source = [s for s in scores if s in _NEEDS_SOURCE]
        if needs_source and (source_x is None or source_y is None):
            raise ValueError(
                f"Scores {needs_source} need held-out labelled source data: pass source_x= and "
                "source_y=, or use scores=('entropy', 'snd')."
            )
        if source_x is not None and source_y is not None and len(source_x) != len(source_y):
            raise ValueError(
                f"`source_y` must have one label per `source_x` row; received {len(source_y)} "
                f"labels for {len(source_x)} rows."
            )
        self.target_x = target_x
        self.source_x = source_x
        self.source_y = None if source_y is None else np.asarray(source_y).reshape(-1)
        self.scores = scores
        self.feature_extractor = feature_extractor
        self.batch_size = batch_size

    def _features(self, x):
        extractor = self.feature_extractor or getattr(self.model, "feature_extractor", None)
        if extractor is None:
            raise ValueError(
                "Scores 'dev' and 'reverse_validation' need features: pass feature_extractor= "
                "or train a model with a `feature_extractor` attribute (e.g. DANN)."
            )
        out = keras.ops.convert_to_numpy(
            keras.ops.concatenate(
                [extractor(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
            )
        )
        return out.reshape(len(out), -1)

    def compute_scores(self) -> dict:
        """Return ``{score: value}`` for the current model."""
        probs_t = self.model.predict(self.target_x, batch_size=self.batch_size, verbose=0)
        results = {}
        if "entropy" in self.scores:
            results["entropy"] = ms.prediction_entropy(probs_t)
        if "snd" in self.scores:
            results["snd"] = ms.soft_neighborhood_density(probs_t)
        if any(s in _NEEDS_SOURCE for s in self.scores):
            feats_t = self._features(self.target_x)
            feats_s = self._features(self.source_x)
            if "dev" in self.scores:
                probs_s = self.model.predict(self.source_x, batch_size=self.batch_size, verbose=0)
                picked = probs_s[np.arange(len(probs_s)), self.source_y]
                losses = -np.log(np.clip(picked, 1e-7, 1.0))
                results["dev"] = ms.deep_embedded_validation(feats_s, losses, feats_t)
            if "reverse_validation" in self.scores:
                results["reverse_validation"] = ms.reverse_validation(
                    feats_t, probs_t.argmax(axis=1), feats_s, self.source_y
                )
        return results

    def on_epoch_end(self, epoch, logs=None):
        values = self.compute_scores()
        if logs is not None:
            logs.update(values)
