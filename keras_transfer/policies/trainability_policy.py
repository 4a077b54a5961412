"""`TrainabilityPolicy`: the base of every policy (which groups learn, how fast, BN mode)."""

from __future__ import annotations

import keras

from keras_transfer.api_export import export
from keras_transfer.policies._groups import HEAD, check_bn, find_backbone, is_batch_norm
from keras_transfer.policies.penalty import Penalty
from keras_transfer.policies.trainability_table import format_table, trainability_table


@export
class TrainabilityPolicy:
    """Base class: decides which block groups of a backbone train and how BatchNorm behaves.

    Subclasses implement `trainable_groups`; wrappers (`DiscriminativeLR`, `L2SP`) take a
    ``base_policy`` that decides trainability and add learning-rate multipliers or a penalty.
    Layers outside the backbone (the head) always train. ``apply`` sets ``trainable`` flags, the
    only freezing Keras honours during ``fit`` (``base(x, training=False)`` in a functional model
    does not hold BN in inference mode); recompile after applying a policy to a compiled model.

    Args:
        bn: ``"frozen"`` (default): every BatchNormalization layer of the backbone stays in
            inference mode with fixed moving statistics and fixed gamma/beta, even in unfrozen
            blocks. ``"train"`` (fastai style): BN layers of unfrozen blocks train and update their
            statistics. LayerNormalization (ConvNeXt) has no statistics and trains with its block.

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import UnfreezeTop
        >>> bb = get_backbone("resnet50", input_shape=(32, 32, 3), weights=None)
        >>> UnfreezeTop(1).trainable_groups(bb)
        ['conv5_block3', 'top']
    """

    def __init__(self, bn: str | None = "frozen"):
        self.bn = check_bn(bn)

    # -- what subclasses decide -------------------------------------------------------------
    def trainable_groups(self, backbone, epoch: int = 0) -> list[str]:
        """Names of the block groups that train at ``epoch`` (bottom to top)."""
        raise NotImplementedError

    @property
    def bn_mode(self) -> str:
        return self.bn

    def lr_multipliers(self, backbone) -> dict[str, float]:
        """Learning-rate multiplier per group (and ``'head'``); missing groups mean 1.0."""
        return {}

    def make_optimizer(self, model, optimizer="adam") -> keras.optimizers.Optimizer:
        """The optimizer to compile ``model`` with under this policy (plain policies: unchanged)."""
        return keras.optimizers.get(optimizer)

    def attach(self, model, backbone, eligible: dict) -> None:
        """Hook run after the trainable flags are set (penalties live here)."""

    # -- what every policy does the same way ------------------------------------------------
    def apply(self, model, epoch: int = 0):
        """Set the trainable flags (and penalties) of ``model``'s backbone and head; returns ``model``.

        Raises:
            ValueError: ``model`` has no backbone with block groups, or the policy does not fit it.
        """
        backbone = find_backbone(model)
        groups = self.trainable_groups(backbone, epoch)
        eligible = set_trainable(model, backbone, groups, self.bn_mode)
        clear_penalties(model)
        self.attach(model, backbone, eligible)
        return model

    def summary(self, model, print_fn=print) -> str:
        """Print (and return) a table: block group, layers, trainable params, lr multiplier, BN mode.

        The table reads the model's actual trainable flags; apply the policy first.
        """
        text = format_table(trainability_table(model, policy=self), title=repr(self))
        if print_fn is not None:
            print_fn(text)
        return text

    def get_config(self) -> dict:
        return {"bn": self.bn}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        # Constructor arguments as the user would write them: nested policies by their own repr,
        # arguments left at None (meaning "inherit") omitted.
        values = {k: getattr(self, k, v) for k, v in self.get_config().items()}
        args = ", ".join(f"{k}={v!r}" for k, v in values.items() if v is not None and v != {})
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


def set_trainable(model, backbone, groups, bn: str) -> dict:
    """Make the head and ``groups`` trainable, freeze the rest; returns eligible variables.

    Returns ``{"backbone": [...], "head": [...]}``: every variable that *can* train (trainable
    when everything is unfrozen), captured before freezing.
    """
    groups = set(groups)
    model.trainable = True
    backbone.trainable = True
    for group in backbone.block_groups:  # explicitly: a reloaded functional base does not
        for item in backbone.group_layers(group):  # always pass `trainable` down to its layers
            item.trainable = True
    backbone_ids = {id(v) for v in backbone.weights}
    eligible = {
        "backbone": [v for v in backbone.trainable_weights],
        "head": [v for v in model.trainable_weights if id(v) not in backbone_ids]
        if model is not backbone
        else [],
    }
    for group in backbone.block_groups:
        train = group in groups
        for item in backbone.group_layers(group):
            item.trainable = train
            if train and bn == "frozen":
                for sub in item._flatten_layers(include_self=True):
                    if is_batch_norm(sub):
                        sub.trainable = False
    return eligible


def clear_penalties(model) -> None:
    """Remove penalties a previous policy attached to the variables of ``model``."""
    for v in model.weights:
        while isinstance(v.regularizer, Penalty):
            v.regularizer = v.regularizer.previous


def policy_chain(policy):
    """``policy`` and the ``base_policy`` it wraps, outermost first."""
    while policy is not None:
        yield policy
        policy = getattr(policy, "base_policy", None)


__all__ = ["HEAD", "TrainabilityPolicy"]
