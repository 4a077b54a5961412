"""`UnfreezeTop`: the top N named blocks (and the ``'top'`` layers after them) train."""

from __future__ import annotations

from keras_transfer._validation import check_int
from keras_transfer.api_export import export
from keras_transfer.policies._groups import STEM, TOP, named_blocks
from keras_transfer.policies.trainability_policy import TrainabilityPolicy


@export
class UnfreezeTop(TrainabilityPolicy):
    """Fine-tune the top ``num_blocks`` named blocks; everything below stays frozen.

    ``'top'`` (the layers after the last named block, e.g. EfficientNet's ``top_conv``/``top_bn``)
    is not counted as a block: it always trains with this policy, so ``UnfreezeTop(0)`` trains
    ``'top'`` and the head. ``'stem'`` is not a block either; it trains only under `UnfreezeAll` or
    ``UnfreezeFrom("stem")``.

    Args:
        num_blocks: how many named blocks, counted from the top, train (0 to the number of
            named blocks of the backbone; checked when applied).
        bn: ``"frozen"`` (default) or ``"train"``.

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import UnfreezeTop
        >>> bb = get_backbone("efficientnet_b0", input_shape=(32, 32, 3), weights=None)
        >>> UnfreezeTop(2).trainable_groups(bb)
        ['block6d', 'block7a', 'top']
    """

    def __init__(self, num_blocks: int = 1, bn: str = "frozen"):
        super().__init__(bn=bn)
        num_blocks = check_int(num_blocks, "num_blocks", min_value=0)
        self.num_blocks = num_blocks

    def trainable_groups(self, backbone, epoch: int = 0) -> list[str]:
        return top_groups(backbone, self.num_blocks, allow_stem=False)

    def get_config(self):
        return {**super().get_config(), "num_blocks": self.num_blocks}


def top_groups(backbone, num_blocks: int, allow_stem: bool, argument: str = "num_blocks") -> list[str]:
    """``'top'`` plus the top ``num_blocks`` named blocks (plus ``'stem'`` at num_blocks = n + 1)."""
    blocks = named_blocks(backbone)
    limit = len(blocks) + (1 if allow_stem and STEM in backbone.block_groups else 0)
    if num_blocks > limit:
        raise ValueError(
            f"`{argument}` must be between 0 and {limit} (the number of named blocks of backbone "
            f"{getattr(backbone, 'name', '')!r}: {blocks[0]}..{blocks[-1] if blocks else ''}); "
            f"received {argument}={num_blocks}. Use UnfreezeAll() to train the stem as well."
        )
    chosen = blocks[len(blocks) - min(num_blocks, len(blocks)) :]
    if num_blocks > len(blocks):
        chosen = [STEM, *chosen]
    if TOP in backbone.block_groups:
        chosen.append(TOP)
    return chosen
