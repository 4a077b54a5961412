"""Trainability policies: which block groups learn, how fast, and how BatchNorm behaves.

Example:
    >>> from keras_transfer.backbones import get_backbone
    >>> from keras_transfer.policies import UnfreezeTop
    >>> bb = UnfreezeTop(2).apply(get_backbone("resnet50", input_shape=(32, 32, 3), weights=None))
    >>> bb.base.get_layer("conv5_block3_1_conv").trainable, bb.base.get_layer("conv2_block1_1_conv").trainable
    (True, False)
"""

from keras_transfer.policies._groups import find_backbone
from keras_transfer.policies.batch_norm import batch_norm_layers, recalibrate_batch_norm, walk_layers
from keras_transfer.policies.discriminative_lr import DiscriminativeLR
from keras_transfer.policies.freeze_all import FreezeAll
from keras_transfer.policies.gradual_unfreezing import GradualUnfreezing
from keras_transfer.policies.l2sp import L2SP
from keras_transfer.policies.optimizer_state import recompile_keeping_state
from keras_transfer.policies.resolve import as_policy
from keras_transfer.policies.trainability_policy import TrainabilityPolicy, policy_chain
from keras_transfer.policies.trainability_scheduler import TrainabilityScheduler
from keras_transfer.policies.trainability_table import trainability_table
from keras_transfer.policies.unfreeze_all import UnfreezeAll
from keras_transfer.policies.unfreeze_from import UnfreezeFrom
from keras_transfer.policies.unfreeze_top import UnfreezeTop
from keras_transfer.policies.wrapper_policy import WrapperPolicy

__all__ = [
    "DiscriminativeLR",
    "FreezeAll",
    "GradualUnfreezing",
    "L2SP",
    "TrainabilityPolicy",
    "UnfreezeAll",
    "UnfreezeFrom",
    "UnfreezeTop",
    "TrainabilityScheduler",
    "WrapperPolicy",
    "as_policy",
    "batch_norm_layers",
    "find_backbone",
    "policy_chain",
    "trainability_table",
    "recalibrate_batch_norm",
    "recompile_keeping_state",
    "walk_layers",
]
