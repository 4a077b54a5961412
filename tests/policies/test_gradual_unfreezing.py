"""Gradual unfreezing in graph mode: the set of changing weights grows on the scheduled epochs."""

import keras
import numpy as np
import pytest

from keras_transfer.models import TransferClassifier
from keras_transfer.policies import DiscriminativeLR, GradualUnfreezing
from keras_transfer.policies import TrainabilityScheduler as Schedule
from tests.policies._helpers import X, Y, group_change_recorder, tiny_backbone


def _fit(policy, epochs):
    backbone = tiny_backbone()
    model = TransferClassifier(backbone, num_classes=3, policy=policy, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))  # graph mode: recompiling matters here
    recorder = group_change_recorder(backbone)
    model.fit(X, Y, batch_size=4, epochs=epochs, verbose=0, callbacks=[Schedule(policy), recorder])
    return model, recorder.groups


def test_gradual_unfreezing_grows_changing_set_every_epoch():
    model, groups = _fit(GradualUnfreezing(every=1), epochs=4)
    assert groups == [
        {"head", "top"},
        {"head", "top", "block3"},
        {"head", "top", "block3", "block2"},
        {"head", "top", "block3", "block2", "block1"},
    ]
    assert int(model.optimizer.iterations) == 4  # optimizer state carried over the recompiles
    assert model.policy_epoch == 3


def test_gradual_unfreezing_at_epochs_and_with_discriminative_lr():
    policy = DiscriminativeLR(1e-2, decay=0.5, base_policy=GradualUnfreezing(at_epochs=[2]))
    model, groups = _fit(policy, epochs=3)
    assert groups == [{"head", "top"}, {"head", "top"}, {"head", "top", "block3"}]
    assert isinstance(model.optimizer, keras.optimizers.MultiOptimizer)


def test_gradual_unfreezing_schedule_and_stem():
    backbone = tiny_backbone()
    policy = GradualUnfreezing(every=2, start_blocks=1)
    assert [policy.num_blocks_at(e, backbone) for e in range(8)] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert policy.trainable_groups(backbone, 6) == ["stem", "block1", "block2", "block3", "top"]
    assert GradualUnfreezing(every=1, max_blocks=2).trainable_groups(backbone, 9) == [
        "block2",
        "block3",
        "top",
    ]


def test_gradual_unfreezing_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`every`"):
        GradualUnfreezing(every=0)
    with pytest.raises(ValueError, match="`at_epochs`"):
        GradualUnfreezing(at_epochs=[-1])
    with pytest.raises(ValueError, match="`max_blocks`"):
        GradualUnfreezing(start_blocks=3, max_blocks=1)
    with pytest.raises(TypeError, match="`policy`"):
        Schedule("gradual")


def test_recompile_keeps_slots_of_training_variables_and_zeroes_new_ones():
    from keras_transfer.policies import UnfreezeTop, recompile_keeping_state

    model = TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeTop(0), dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    slots = {v.path: np.array(v) for v in model.optimizer.variables}
    model.set_policy(UnfreezeTop(1))
    recompile_keeping_state(model)
    new = {v.path: np.array(v) for v in model.optimizer.variables}
    kept = [p for p in new if p in slots]
    fresh = [p for p in new if p not in slots]
    assert any("head_classifier_kernel" in p for p in kept) and any("b3_conv_kernel" in p for p in fresh)
    for p in kept:
        np.testing.assert_array_equal(new[p], slots[p])
    assert all(not new[p].any() for p in fresh)
    assert int(model.optimizer.iterations) == 1


def test_scheduler_arguments_are_checked():
    with pytest.raises(ValueError, match="`start_epoch` must be an integer >= 0"):
        Schedule(GradualUnfreezing(), start_epoch=-1)
    with pytest.raises(TypeError, match="`start_epoch` must be an integer"):
        Schedule(GradualUnfreezing(), start_epoch="abc")
    with pytest.raises(TypeError, match="`verbose` must be an integer"):
        Schedule(GradualUnfreezing(), verbose="loud")
    assert Schedule(GradualUnfreezing(), start_epoch=np.int64(2), verbose=True).start_epoch == 2
