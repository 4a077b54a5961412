"""`UnfreezeFrom`: train from a named block (or the block holding a named layer) upwards."""

from __future__ import annotations

from keras_transfer._validation import suggest
from keras_transfer.api_export import export
from keras_transfer.policies._groups import group_of_layer
from keras_transfer.policies.trainability_policy import TrainabilityPolicy


@export
class UnfreezeFrom(TrainabilityPolicy):
    """Fine-tune the group ``name`` and every group above it (head included).

    Args:
        name: a block group name (``backbone.block_names``, e.g. ``"block6a"`` or ``"stem"``) or the
            name of a layer of the base model; a layer name selects the group that contains it.
        bn: ``"frozen"`` (default) or ``"train"``.

    Raises:
        ValueError: when applied, if ``name`` is neither a group nor a layer (the message lists
            the valid group names).

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import UnfreezeFrom
        >>> bb = get_backbone("resnet50", input_shape=(32, 32, 3), weights=None)
        >>> UnfreezeFrom("conv5_block2").trainable_groups(bb)
        ['conv5_block2', 'conv5_block3', 'top']
    """

    def __init__(self, name: str, bn: str = "frozen"):
        super().__init__(bn=bn)
        if not isinstance(name, str) or not name:
            raise ValueError(f"`name` must be a block group or layer name (str); received name={name!r}.")
        self.name = name

    def trainable_groups(self, backbone, epoch: int = 0) -> list[str]:
        groups = list(backbone.block_groups)
        group = self.name if self.name in groups else group_of_layer(backbone, self.name)
        if group is None:
            raise ValueError(
                f"`name` must be a block group of backbone {getattr(backbone, 'name', '')!r} (one of "
                f"{groups}) or one of its layer names; received name={self.name!r}."
                + suggest(self.name, groups)
            )
        return groups[groups.index(group) :]

    def get_config(self):
        return {**super().get_config(), "name": self.name}
