"""`L2SP`: penalise the distance to the pretrained weights (Li, Grandvalet & Davoine, ICML 2018)."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import check_float
from keras_transfer.api_export import export
from keras_transfer.policies.penalty import Penalty
from keras_transfer.policies.trainability_policy import TrainabilityPolicy
from keras_transfer.policies.wrapper_policy import WrapperPolicy


@export
class L2SP(WrapperPolicy):
    """L2-SP regularisation: keep the fine-tuned backbone close to its starting point.

    Adds ``alpha / 2 * ||w - w0||^2`` over the trainable backbone weights (``w0``: their values
    when the policy is first applied, normally the pretrained weights) and ``beta / 2 * ||w||^2``
    over the head's weights (Li, Grandvalet & Davoine, "Explicit inductive bias for transfer
    learning with convolutional networks", ICML 2018). The terms are attached as variable
    regularizers, so they enter ``model.losses`` and every ``fit`` with any backend. Which groups
    train is decided by ``base_policy``. `TransferClassifier` saves the anchors ``w0`` with the
    model; on other models they live in this object.

    Args:
        alpha: strength of the pull to the pretrained weights (>= 0).
        beta: plain L2 strength on the head (>= 0).
        base_policy: the trainability policy (default `UnfreezeAll`).
        bn: BN mode; ``None`` takes ``base_policy``'s.

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import L2SP
        >>> bb = get_backbone("resnet50", input_shape=(32, 32, 3), weights=None)
        >>> policy = L2SP(alpha=0.1, beta=0.01)
        >>> float(policy.penalty(policy.apply(bb)))  # zero at the pretrained point
        0.0
    """

    def __init__(
        self,
        alpha: float = 0.01,
        beta: float = 0.01,
        base_policy: TrainabilityPolicy | dict | None = None,
        bn: str | None = None,
    ):
        super().__init__(base_policy, bn)
        self.alpha = check_float(alpha, "alpha", min_value=0)
        self.beta = check_float(beta, "beta", min_value=0)
        self._anchors: dict[int, keras.Variable] = {}

    def anchors_for(self, variables) -> list:
        """The anchor (pretrained copy) of each variable, created on first use."""
        out = []
        for v in variables:
            if id(v) not in self._anchors:
                self._anchors[id(v)] = keras.Variable(
                    ops.convert_to_tensor(v), trainable=False, name=f"l2sp_anchor_{len(self._anchors)}"
                )
            out.append(self._anchors[id(v)])
        return out

    def attach(self, model, backbone, eligible):
        self.base_policy.attach(model, backbone, eligible)
        for v, anchor in zip(eligible["backbone"], self.anchors_for(eligible["backbone"])):
            if self.alpha > 0:
                v.regularizer = Penalty(self.alpha, anchor, v.regularizer)
        if self.beta > 0:
            for v in eligible["head"]:
                v.regularizer = Penalty(self.beta, None, v.regularizer)

    def penalty(self, model):
        """The current L2-SP term of ``model`` (sum over its trainable weights)."""
        terms = [v.regularizer(v) for v in model.trainable_weights if isinstance(v.regularizer, Penalty)]
        return ops.sum(ops.stack(terms)) if terms else ops.convert_to_tensor(0.0)

    def get_config(self):
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            **super().get_config(),
        }
