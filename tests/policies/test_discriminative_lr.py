"""Discriminative LR: update sizes per group follow base_lr * decay**depth with SGD and Adam."""

import keras
import numpy as np
import pytest

from keras_transfer.models import TransferClassifier
from keras_transfer.policies import DiscriminativeLR, UnfreezeAll
from keras_transfer.policies._groups import group_weights
from tests.policies._helpers import X, Y, snapshot, tiny_backbone


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeAll(), dropout=0.0)


def _deltas(model, policy, optimizer):
    initial = model.get_weights()
    model.set_policy(policy)
    model.compile(optimizer=optimizer, run_eagerly=True)
    before = snapshot(model)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    deltas = {id(v): np.array(v) - before[id(v)] for v in model.trainable_weights}
    model.set_weights(initial)
    return deltas


def _kernel(model, group):
    return next(v for v in group_weights(model.backbone, group) if v.path.endswith("conv/kernel"))


def test_discriminative_lr_sgd_update_ratio_matches_multiplier(model):
    policy = DiscriminativeLR(0.1, decay=0.5)
    plain = _deltas(model, UnfreezeAll(), keras.optimizers.SGD(0.1))
    scaled = _deltas(model, policy, keras.optimizers.SGD(0.123))  # lr comes from base_lr
    mults = policy.lr_multipliers(model.backbone)
    assert mults["block3"] == 0.5 and mults["block1"] == 0.125 and mults["stem"] == 0.0625
    for group in ("top", "block3", "block1", "stem"):
        v = _kernel(model, group)
        big = np.abs(plain[id(v)]) > 1e-3 * np.abs(plain[id(v)]).max()
        ratio = scaled[id(v)][big] / plain[id(v)][big]
        # float32 rounding of w_new - w_old scatters single elements by ~1%; the median is exact
        np.testing.assert_allclose(np.median(ratio), mults[group], rtol=2e-3, err_msg=group)
        np.testing.assert_allclose(ratio, mults[group], rtol=5e-2, err_msg=group)
    head = model.classifier.kernel
    np.testing.assert_allclose(scaled[id(head)], plain[id(head)], rtol=1e-4, atol=1e-7)


def test_discriminative_lr_adam_update_size_is_lr(model):
    policy = DiscriminativeLR(1e-2, decay=0.5, multipliers={"stem": 0.01})
    deltas = _deltas(model, policy, "adam")
    mults = policy.lr_multipliers(model.backbone)
    sizes = {g: np.median(np.abs(deltas[id(_kernel(model, g))])) for g in ("top", "block3", "block1", "stem")}
    for group, size in sizes.items():  # Adam's first step is about lr * sign(g)
        np.testing.assert_allclose(size, 1e-2 * mults[group], rtol=0.1, err_msg=group)
    np.testing.assert_allclose(sizes["block1"] / sizes["top"], 0.125, rtol=0.1)
    assert mults["stem"] == 0.01


def test_discriminative_lr_rejects_bad_arguments(model):
    with pytest.raises(ValueError, match="`decay`"):
        DiscriminativeLR(1e-3, decay=-0.5)
    with pytest.raises(ValueError, match="`base_lr`"):
        DiscriminativeLR(0.0)
    with pytest.raises(ValueError, match=r"`multipliers\['stem'\]` must be a finite number >= 0"):
        DiscriminativeLR(multipliers={"stem": -1})
    with pytest.raises(ValueError, match="`base_lr`.*received base_lr=inf"):
        DiscriminativeLR(float("inf"))
    with pytest.raises(TypeError, match="`decay`.*str"):
        DiscriminativeLR(decay="0.5")
    with pytest.raises(ValueError, match="`multipliers`.*Did you mean 'block1'"):
        DiscriminativeLR(multipliers={"blok1": 0.1}).lr_multipliers(model.backbone)
    with pytest.raises(ValueError, match="`base_policy` as a string must be one of"):
        DiscriminativeLR(base_policy="all")
    with pytest.raises(TypeError, match="`base_policy`"):
        DiscriminativeLR(base_policy=2)
