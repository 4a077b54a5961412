"""`TrainabilityScheduler`: the callback that re-applies a policy each epoch, recompiling when the
trainable set changes (it drives `GradualUnfreezing`)."""

from __future__ import annotations

import keras

from keras_transfer._validation import check_int
from keras_transfer.policies._groups import find_backbone
from keras_transfer.policies.optimizer_state import recompile_keeping_state
from keras_transfer.policies.trainability_policy import TrainabilityPolicy


class TrainabilityScheduler(keras.callbacks.Callback):
    """Drive a `keras_transfer.policies.GradualUnfreezing` schedule (or any policy) during ``fit``.

    At the start of each epoch the policy's trainable groups for ``epoch - start_epoch`` are
    computed; when they differ from the current ones the policy is re-applied and the model is
    recompiled with `keras_transfer.policies.recompile_keeping_state` (Keras keeps training the old
    trainable set until you recompile; iterations and the slots of already-training variables carry
    over). Tested with the TensorFlow backend; on JAX run one ``fit`` per stage instead.

    Not registered for ``.keras`` saving: callbacks are not part of a saved model. Also exported as
    ``keras_transfer.callbacks.TrainabilityScheduler``.

    Args:
        policy: the policy applied to the model (it may wrap a schedule, e.g. ``L2SP(base_policy=
            GradualUnfreezing(every=2))``).
        start_epoch: the ``fit`` epoch at which the schedule's epoch 0 begins.
        verbose: 1 prints the groups each time they change.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.models import TransferClassifier
        >>> from keras_transfer.policies import GradualUnfreezing
        >>> policy = GradualUnfreezing(every=1)
        >>> model = TransferClassifier(get_backbone("resnet50", input_shape=(32, 32, 3), weights=None), 2, policy=policy)
        >>> model.compile()
        >>> x, y = np.zeros((4, 32, 32, 3)), np.array([0, 1, 0, 1])
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[policy.callback()])
    """

    def __init__(self, policy, start_epoch: int = 0, verbose: int = 0):
        super().__init__()
        if not isinstance(policy, TrainabilityPolicy):
            raise TypeError(
                f"`policy` must be a keras_transfer.policies policy; received {type(policy).__name__}."
            )
        self.policy = policy
        self.start_epoch = check_int(start_epoch, "start_epoch", min_value=0)
        self.verbose = verbose if isinstance(verbose, bool) else check_int(verbose, "verbose", min_value=0)
        self.groups_by_epoch: dict[int, list[str]] = {}

    def on_epoch_begin(self, epoch, logs=None):
        backbone = find_backbone(self.model)
        step = max(epoch - self.start_epoch, 0)
        groups = self.policy.trainable_groups(backbone, step)
        previous = self.groups_by_epoch.get(max(self.groups_by_epoch, default=-1))
        self.groups_by_epoch[epoch] = groups
        if groups == previous:
            return
        self.policy.apply(self.model, epoch=step)
        if hasattr(self.model, "policy_epoch"):
            self.model.policy_epoch = step
        recompile_keeping_state(self.model)
        if self.verbose:
            print(f"TrainabilityScheduler: epoch {epoch}: training {groups}")
