"""`GradualUnfreezing`: ULMFiT-style schedule, one more block group every k epochs."""

from __future__ import annotations

from keras_transfer._validation import ArgumentTypeError, check_int
from keras_transfer.api_export import export
from keras_transfer.policies._groups import named_blocks
from keras_transfer.policies.trainability_policy import TrainabilityPolicy
from keras_transfer.policies.trainability_scheduler import TrainabilityScheduler
from keras_transfer.policies.unfreeze_top import top_groups


@export
class GradualUnfreezing(TrainabilityPolicy):
    """Unfreeze the backbone from the top, one more named block at each scheduled epoch.

    ULMFiT (Howard & Ruder, ACL 2018). At epoch ``e`` (0-based, counted from the start of the
    schedule) the top ``start_blocks + e // every`` named blocks train, or, with ``at_epochs``,
    ``start_blocks + (number of scheduled epochs <= e)``. ``'top'`` always trains (as in
    `UnfreezeTop`); one step past the last named block also unfreezes ``'stem'``. The schedule is
    driven by the `TrainabilityScheduler` callback (``policy.callback()``), which
    re-applies the policy, recompiles and carries the optimizer state over.

    Args:
        every: unfreeze one more block every ``every`` epochs (ignored when ``at_epochs`` is set).
        at_epochs: explicit epochs at which one more block unfreezes, e.g. ``[1, 3, 6]``.
        start_blocks: named blocks trainable at epoch 0.
        max_blocks: stop growing at this many blocks (default: everything, stem included).
        bn: ``"frozen"`` (default) or ``"train"``.

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import GradualUnfreezing
        >>> bb = get_backbone("resnet50", input_shape=(32, 32, 3), weights=None)
        >>> policy = GradualUnfreezing(every=2)
        >>> [policy.num_blocks_at(e, bb) for e in range(5)]
        [0, 0, 1, 1, 2]
    """

    def __init__(
        self,
        every: int = 1,
        at_epochs: list[int] | None = None,
        start_blocks: int = 0,
        max_blocks: int | None = None,
        bn: str = "frozen",
    ):
        super().__init__(bn=bn)
        every = check_int(every, "every", min_value=1)
        start_blocks = check_int(start_blocks, "start_blocks", min_value=0)
        if at_epochs is not None:
            if not isinstance(at_epochs, (list, tuple)):
                raise ArgumentTypeError(
                    f"`at_epochs` must be a list of epoch numbers >= 0 or None; received {type(at_epochs).__name__}."
                )
            at_epochs = sorted(check_int(e, "at_epochs", min_value=0) for e in at_epochs)
        max_blocks = check_int(max_blocks, "max_blocks", min_value=start_blocks, allow_none=True)
        self.every = every
        self.at_epochs = at_epochs
        self.start_blocks = start_blocks
        self.max_blocks = max_blocks

    def num_blocks_at(self, epoch: int, backbone) -> int:
        """Named blocks trainable at ``epoch`` (``len(blocks) + 1`` means the stem too)."""
        if self.at_epochs is not None:
            n = self.start_blocks + sum(1 for e in self.at_epochs if e <= epoch)
        else:
            n = self.start_blocks + max(epoch, 0) // self.every
        limit = len(named_blocks(backbone)) + 1
        if self.max_blocks is not None:
            limit = min(limit, self.max_blocks)
        return min(n, limit)

    def trainable_groups(self, backbone, epoch: int = 0) -> list[str]:
        return top_groups(
            backbone, self.num_blocks_at(epoch, backbone), allow_stem=True, argument="start_blocks"
        )

    def callback(self, start_epoch: int = 0, verbose: int = 0):
        """The Keras callback that drives this schedule during ``fit``."""
        return TrainabilityScheduler(self, start_epoch=start_epoch, verbose=verbose)

    def get_config(self):
        return {
            **super().get_config(),
            "every": self.every,
            "at_epochs": self.at_epochs,
            "start_blocks": self.start_blocks,
            "max_blocks": self.max_blocks,
        }
