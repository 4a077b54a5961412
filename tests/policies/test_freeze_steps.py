"""One real fit step per family: exactly the groups a policy names change; BN statistics do not."""

import keras
import pytest

from keras_transfer.backbones import get_backbone
from keras_transfer.models import TransferClassifier
from keras_transfer.policies import FreezeAll, UnfreezeTop
from keras_transfer.policies._groups import group_weights, is_batch_norm, named_blocks
from tests.policies._helpers import X, Y, bn_statistics, changed_groups, changed_ids, snapshot

FAMILIES = ["mobilenet_v3_small", "efficientnet_b0", "resnet50", "convnext_tiny"]


@pytest.fixture(scope="module", params=FAMILIES)
def model(request):
    keras.utils.set_random_seed(0)
    backbone = get_backbone(request.param, input_shape=(32, 32, 3), weights=None)
    return TransferClassifier(backbone, num_classes=3, dropout=0.0)


def _step(model, policy):
    model.set_policy(policy)
    # run_eagerly: one step costs ~1 s instead of a ~20 s trace; flags and BN modes act the same
    # (the graph path, where recompiling matters, is tested in test_gradual_unfreezing.py)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    before = snapshot(model)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    return before


def test_freeze_all_changes_head_only(model):
    before = _step(model, FreezeAll())
    assert changed_groups(model, model.backbone, before) == {"head"}
    changed = changed_ids(model, before)
    assert not any(id(v) in changed for v in model.backbone.weights)  # weights and BN statistics
    assert all(id(v) in changed for v in model.classifier.weights)


def test_unfreeze_top_two_changes_exactly_top_two_groups(model):
    backbone = model.backbone
    before = _step(model, UnfreezeTop(2))
    top_two = named_blocks(backbone)[-2:]
    expected = {*top_two, "head"} | (
        {"top"} if any(v.trainable for v in group_weights(backbone, "top")) else set()
    )
    assert changed_groups(model, backbone, before) == expected
    # at least half the non-BN weights of each block moved (Adam's first step is lr * sign(g); a few
    # random-init squeeze-excite units are saturated and get exactly zero gradient)
    changed = changed_ids(model, before)
    for group in top_two:
        weights = [
            v
            for layer in backbone.group_layers(group)
            if not is_batch_norm(layer)
            for v in layer.trainable_weights
        ]
        assert sum(id(v) in changed for v in weights) >= 0.5 * len(weights), group
    # BN layers of the unfrozen blocks stayed in inference mode (bn='frozen')
    assert not any(id(v) in changed for v in bn_statistics(backbone))
