"""`DiscriminativeLR`: layer-wise learning-rate decay over block groups."""

from __future__ import annotations

import re

import keras

from keras_transfer._validation import check_float, suggest
from keras_transfer.api_export import export
from keras_transfer.policies._groups import HEAD, TOP, find_backbone, group_weights, groups_top_down
from keras_transfer.policies.trainability_policy import TrainabilityPolicy
from keras_transfer.policies.wrapper_policy import WrapperPolicy


@export
class DiscriminativeLR(WrapperPolicy):
    """Lower learning rates for lower layers: ``base_lr * decay ** depth`` per block group.

    Depth counts groups from the top: the head and ``'top'`` have depth 0, the last named block
    depth 1, ..., ``'stem'`` depth ``num_blocks + 1`` (Howard & Ruder 2018; layer-wise LR decay).
    ``multipliers`` sets explicit (fastai-style) multipliers per group name (``'head'`` included)
    and overrides the decay for those groups. The learning rate itself is multiplied (one
    sub-optimizer per group in a `keras.optimizers.MultiOptimizer`, selected by a full-match regex
    on variable paths), so it is a true LR multiplier for Adam as for SGD; it saves in ``.keras``.
    Which groups train is decided by ``base_policy``.

    Args:
        base_lr: learning rate of the head (> 0).
        decay: factor per group of depth, in (0, 1].
        multipliers: optional ``{group: multiplier}`` overrides (each >= 0).
        base_policy: the trainability policy (default `UnfreezeAll`).
        bn: BN mode; ``None`` takes ``base_policy``'s.

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import DiscriminativeLR
        >>> bb = get_backbone("resnet50", input_shape=(32, 32, 3), weights=None)
        >>> m = DiscriminativeLR(1e-3, decay=0.5).lr_multipliers(bb)
        >>> m["head"], m["top"], m["conv5_block3"], m["conv5_block2"]
        (1.0, 1.0, 0.5, 0.25)
    """

    def __init__(
        self,
        base_lr: float = 1e-3,
        decay: float = 0.5,
        multipliers: dict | None = None,
        base_policy: TrainabilityPolicy | dict | None = None,
        bn: str | None = None,
    ):
        super().__init__(base_policy, bn)
        self.base_lr = check_float(base_lr, "base_lr", min_value=0, min_inclusive=False)
        self.decay = check_float(decay, "decay", min_value=0, max_value=1, min_inclusive=False)
        if not isinstance(multipliers, (dict, type(None))):
            raise TypeError(
                f"`multipliers` must be a dict {{group: multiplier}} or None; received {type(multipliers).__name__}."
            )
        self.multipliers = {
            str(k): check_float(v, f"multipliers[{k!r}]", min_value=0) for k, v in (multipliers or {}).items()
        }

    def lr_multipliers(self, backbone) -> dict[str, float]:
        order = groups_top_down(backbone)
        out = {HEAD: 1.0}
        depth = 0
        for group in order:
            if group != TOP:
                depth += 1
            out[group] = self.decay**depth
        valid = [HEAD, *backbone.block_groups]
        for group, value in self.multipliers.items():
            if group not in valid:
                raise ValueError(
                    f"`multipliers` keys must be block groups of the backbone or 'head' ({valid}); "
                    f"received {group!r}." + suggest(group, valid)
                )
            out[group] = value
        return out

    def make_optimizer(self, model, optimizer="adam"):
        """A `MultiOptimizer`: one copy of ``optimizer`` per group at ``base_lr * multiplier``."""
        backbone = find_backbone(model)
        template = keras.optimizers.get(optimizer)
        if isinstance(template, keras.optimizers.MultiOptimizer):
            return template
        config = template.get_config()
        name = config.get("name") or "optimizer"
        mults = self.lr_multipliers(backbone)

        def clone(group):
            return type(template).from_config(
                {**config, "learning_rate": self.base_lr * mults[group], "name": f"{name}_{group}"}
            )

        mapping = keras.optimizers.OptimizerMap(clone(HEAD))
        for group in backbone.block_groups:
            paths = sorted({v.path for v in group_weights(backbone, group)})
            if paths:
                mapping["(?:" + "|".join(re.escape(p) for p in paths) + ")"] = clone(group)
        return keras.optimizers.MultiOptimizer(mapping, name=f"discriminative_{name}")

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "decay": self.decay,
            "multipliers": self.multipliers,
            **super().get_config(),
        }
