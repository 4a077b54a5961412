"""L2-SP (Li et al., ICML 2018): zero at the pretrained point, grows with distance, pulls back."""

import keras
import numpy as np
import pytest

from keras_transfer.models import TransferClassifier
from keras_transfer.policies import L2SP, UnfreezeAll, UnfreezeTop
from tests.policies._helpers import X, Y, tiny_backbone


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeAll(), dropout=0.0)


def test_l2sp_penalty_zero_at_start_and_quadratic_in_distance(model):
    policy = L2SP(alpha=0.5, beta=0.0)
    model.set_policy(policy)
    assert float(policy.penalty(model)) == 0.0
    kernel = model.backbone.base.get_layer("b2_conv").kernel
    start = np.array(kernel)
    for delta in (0.1, 0.2):
        kernel.assign(start + delta)
        expected = 0.5 * 0.5 * delta**2 * np.prod(kernel.shape)
        np.testing.assert_allclose(float(policy.penalty(model)), expected, rtol=1e-4)
        np.testing.assert_allclose(float(sum(model.losses)), expected, rtol=1e-4)  # what fit adds
    kernel.assign(start)


def test_l2sp_beta_is_plain_l2_on_head_and_frozen_groups_are_free(model):
    policy = L2SP(alpha=1.0, beta=0.2, base_policy=UnfreezeTop(1))
    model.set_policy(policy)
    head = sum(float(np.sum(np.square(v))) for v in model.classifier.weights)
    np.testing.assert_allclose(float(policy.penalty(model)), 0.1 * head, rtol=1e-4)
    model.set_policy(UnfreezeAll())  # another policy removes the penalty
    assert float(sum(model.losses) if model.losses else 0.0) == 0.0


def _distance_after_fit(model, policy):
    initial = model.get_weights()
    start = {v.path: np.array(v) for v in model.backbone.trainable_weights}
    model.set_policy(policy)
    model.compile(optimizer=keras.optimizers.SGD(0.01), run_eagerly=True)
    model.fit(
        np.concatenate([X] * 3), np.concatenate([Y] * 3), batch_size=4, epochs=1, verbose=0, shuffle=False
    )
    dist = sum(float(np.sum((np.array(v) - start[v.path]) ** 2)) for v in model.backbone.trainable_weights)
    model.set_weights(initial)
    return dist


def test_l2sp_pulls_weights_back_compared_with_no_penalty(model):
    free = _distance_after_fit(model, UnfreezeAll())
    held = _distance_after_fit(model, L2SP(alpha=50.0, beta=0.0))
    assert 0 < held < 0.7 * free


def test_l2sp_rejects_negative_strengths():
    with pytest.raises(ValueError, match="`alpha`"):
        L2SP(alpha=-1.0)
    with pytest.raises(ValueError, match="`beta`"):
        L2SP(beta=float("nan"))
