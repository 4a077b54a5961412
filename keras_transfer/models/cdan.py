"""Conditional domain adversarial network (CDAN, CDAN+E), trained with plain ``fit``."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import check_bool, check_int
from keras_transfer.adaptation.conditional import (
    entropy_conditioning_weights,
    multilinear_map,
    randomized_multilinear_map,
)
from keras_transfer.api_export import export
from keras_transfer.models.adaptation_methods import register_adaptation_method
from keras_transfer.models.dann import DANN

RANDOMIZED_THRESHOLD = 4096


@export
class CDAN(DANN):
    """Conditional domain adversarial network (Long, Cao, Wang and Jordan, "Conditional
    Adversarial Domain Adaptation", NeurIPS 2018).

    `keras_transfer.models.DANN` whose discriminator sees the multilinear map ``g ⊗ f`` of the
    features ``f`` and the class predictions ``g`` (`keras_transfer.adaptation.multilinear_map`),
    so that it aligns features *per class* rather than the feature distributions as a whole.
    The predictions are detached (no gradient flows from the discriminator into the label head
    through ``g``). When ``d * num_classes`` exceeds 4096, the map is the randomized one
    (`keras_transfer.adaptation.randomized_multilinear_map`) of size ``randomized_dim``, with
    random matrices ``R_f``, ``R_g`` drawn once at build time, kept fixed (non-trainable) and
    saved with the weights. CDAN+E (``entropy_conditioning=True``) weights each row's domain
    loss by ``1 + exp(-H(g))``, normalised within each domain as in the paper's code
    (`keras_transfer.adaptation.entropy_conditioning_weights`; the Transfer-Learning-Library
    normalises over the whole batch instead, which is the same when both domains have equal
    batch sizes and equal weight sums).

    Same data convention, schedule, options and history as `keras_transfer.models.DANN`
    (``adaptation_loss`` is the weighted domain loss under CDAN+E). The paper's setup for images is
    ``bottleneck=256, domain_head="tllib", head_lr_multiplier=10`` with SGD.

    Args:
        feature_extractor: any Keras model or layer mapping inputs to ``(batch, d)`` features.
        label_head: a Keras layer/model producing class probabilities, or an int ``num_classes``.
        domain_head: ``"small"`` (default), ``"tllib"``, ``"paper"`` or a Keras layer/model
            mapping the (randomized) multilinear map to one domain logit per row (see `DANN`).
        adaptation_weight: the reversal weight, a float or a
            `keras_transfer.schedules.ReversalSchedule` (None: the paper's ramp, as in `DANN`;
            ``scale``, its old name, is accepted until the next release).
        entropy_conditioning: CDAN+E: weight the domain loss by the prediction certainty.
        randomized: use the randomized multilinear map; None (default) chooses it when
            ``d * num_classes > 4096`` (``d``: the feature size after the bottleneck).
        randomized_dim: output size of the randomized map, a positive int (1024 in the paper).
        **kwargs: ``bottleneck``, ``label_smoothing``, ``head_lr_multiplier`` and
            ``adapt_batch_norm`` as in `DANN` (AdaBN is on by default when the feature
            extractor, bottleneck or label head has a trainable BatchNorm layer, as with the
            paper's ``bottleneck=256``: the reasons and the measurement are in `DANN`), and the
            arguments of `keras.Model` (e.g. ``name``).

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import CDAN
        >>> rng = np.random.default_rng(0)
        >>> xs, ys = rng.normal(size=(64, 2)).astype("float32"), rng.integers(0, 3, 64)
        >>> xt = (rng.normal(size=(48, 2)) + 1.0).astype("float32")
        >>> features = keras.Sequential([keras.layers.Dense(16, activation="relu")])
        >>> model = CDAN(features, 3, entropy_conditioning=True)
        >>> model.compile(optimizer="adam")
        >>> history = model.fit(x=(xs, xt), y=ys, epochs=2, batch_size=16, verbose=0)
        >>> model.predict(xt, verbose=0).shape, model.use_randomized
        ((48, 3), False)
    """

    def __init__(
        self,
        feature_extractor,
        label_head,
        domain_head=None,
        adaptation_weight=None,
        entropy_conditioning: bool = False,
        randomized: bool | None = None,
        randomized_dim: int = 1024,
        **kwargs,
    ):
        adaptation_weight = self._renamed_weight(adaptation_weight, None, kwargs)
        super().__init__(
            feature_extractor,
            label_head,
            domain_head=domain_head,
            adaptation_weight=adaptation_weight,
            **kwargs,
        )
        self.entropy_conditioning = check_bool(entropy_conditioning, "entropy_conditioning")
        self.randomized = None if randomized is None else check_bool(randomized, "randomized")
        self.randomized_dim = check_int(randomized_dim, "randomized_dim", min_value=1)
        self.use_randomized = None  # decided in build from the feature and class counts
        self.random_features = None
        self.random_predictions = None

    # ----- graph -------------------------------------------------------------------------------
    def _discriminator_input_spec(self, features, predictions):
        d, c = features.shape[-1], predictions.shape[-1]
        if d is None or c is None:
            raise ValueError(
                "CDAN needs a known feature size and number of classes; received features of "
                f"shape {features.shape} and predictions of shape {predictions.shape}."
            )
        self.use_randomized = d * c > RANDOMIZED_THRESHOLD if self.randomized is None else self.randomized
        if not self.use_randomized:
            return keras.KerasTensor((None, d * c), dtype=features.dtype)
        normal = keras.initializers.RandomNormal(stddev=1.0)
        self.random_features = self.add_weight(
            shape=(d, self.randomized_dim), initializer=normal, trainable=False, name="random_features"
        )
        self.random_predictions = self.add_weight(
            shape=(c, self.randomized_dim), initializer=normal, trainable=False, name="random_predictions"
        )
        return keras.KerasTensor((None, self.randomized_dim), dtype=features.dtype)

    def _discriminator_input(self, features, predictions):
        g = ops.stop_gradient(ops.cast(predictions, features.dtype))
        if self.use_randomized:
            return randomized_multilinear_map(features, g, self.random_features, self.random_predictions)
        return multilinear_map(features, g)

    def _domain_weights(self, predictions, domain_labels):
        if not self.entropy_conditioning:
            return None
        return entropy_conditioning_weights(predictions, domain_labels)

    # ----- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "entropy_conditioning": self.entropy_conditioning,
            "randomized": self.randomized,
            "randomized_dim": self.randomized_dim,
        }


register_adaptation_method("cdan", CDAN)
register_adaptation_method("cdan+e", CDAN, entropy_conditioning=True)
