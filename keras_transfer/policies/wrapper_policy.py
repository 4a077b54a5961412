"""`WrapperPolicy`: a policy that delegates trainability to a ``base_policy`` and adds to it."""

from __future__ import annotations

import keras

from keras_transfer.policies.resolve import as_policy
from keras_transfer.policies.trainability_policy import TrainabilityPolicy


class WrapperPolicy(TrainabilityPolicy):
    """Base of `DiscriminativeLR` and `L2SP`: everything is delegated to ``base_policy`` (which
    groups train, BN mode unless ``bn`` overrides it, multipliers, optimizer, penalties);
    subclasses override the part they add and call ``super()`` for the rest.

    Args:
        base_policy: the wrapped policy; ``None`` is `UnfreezeAll` (see `as_policy`).
        bn: BN mode; ``None`` takes ``base_policy``'s.
    """

    def __init__(self, base_policy=None, bn: str | None = None):
        self.base_policy = as_policy(base_policy, "base_policy")
        self.bn = None if bn is None else TrainabilityPolicy(bn).bn

    @property
    def bn_mode(self) -> str:
        return self.bn or self.base_policy.bn_mode

    def trainable_groups(self, backbone, epoch: int = 0) -> list[str]:
        return self.base_policy.trainable_groups(backbone, epoch)

    def lr_multipliers(self, backbone) -> dict[str, float]:
        return self.base_policy.lr_multipliers(backbone)

    def make_optimizer(self, model, optimizer="adam"):
        return self.base_policy.make_optimizer(model, optimizer)

    def attach(self, model, backbone, eligible) -> None:
        self.base_policy.attach(model, backbone, eligible)

    def get_config(self) -> dict:
        return {"base_policy": keras.saving.serialize_keras_object(self.base_policy), "bn": self.bn}
