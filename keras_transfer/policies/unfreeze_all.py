"""`UnfreezeAll`: full fine-tuning."""

from __future__ import annotations

from keras_transfer.api_export import export
from keras_transfer.policies.trainability_policy import TrainabilityPolicy


@export
class UnfreezeAll(TrainabilityPolicy):
    """Full fine-tuning: every block group trains (BN frozen unless ``bn="train"``).

    Args:
        bn: ``"frozen"`` (default; BN layers stay in inference mode) or ``"train"``.

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import UnfreezeAll
        >>> bb = get_backbone("resnet50", input_shape=(32, 32, 3), weights=None)
        >>> UnfreezeAll().trainable_groups(bb) == bb.block_names
        True
    """

    def trainable_groups(self, backbone, epoch: int = 0) -> list[str]:
        return list(backbone.block_groups)
