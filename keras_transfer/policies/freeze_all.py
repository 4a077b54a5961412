"""`FreezeAll`: feature extraction (backbone frozen, head trains)."""

from __future__ import annotations

from keras_transfer.api_export import export
from keras_transfer.policies.trainability_policy import TrainabilityPolicy


@export
class FreezeAll(TrainabilityPolicy):
    """Feature extraction: every backbone layer is frozen (BN in inference mode); the head trains.

    Args:
        bn: ``"frozen"`` or ``"train"``; with every block frozen both keep BN in inference mode.

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import FreezeAll
        >>> bb = FreezeAll().apply(get_backbone("resnet50", input_shape=(32, 32, 3), weights=None))
        >>> len(bb.trainable_weights)
        0
    """

    def trainable_groups(self, backbone, epoch: int = 0) -> list[str]:
        return []
