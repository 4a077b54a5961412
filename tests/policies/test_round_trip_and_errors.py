"""Policies serialize, survive .keras save/load with the model, explain themselves, fail clearly."""

import os

import keras
import matplotlib
import numpy as np
import pytest

from keras_transfer.backbones import get_backbone
from keras_transfer.models import TransferClassifier
from keras_transfer.plots import plot_trainability
from keras_transfer.policies import (
    L2SP,
    DiscriminativeLR,
    FreezeAll,
    GradualUnfreezing,
    UnfreezeAll,
    UnfreezeFrom,
    UnfreezeTop,
)
from tests.policies._helpers import X, Y, tiny_backbone

matplotlib.use("Agg")

POLICIES = [
    FreezeAll(),
    UnfreezeTop(2, bn="train"),
    UnfreezeFrom("block2"),
    UnfreezeAll(),
    GradualUnfreezing(every=2, at_epochs=None, start_blocks=1),
    DiscriminativeLR(1e-3, decay=0.7, multipliers={"stem": 0.01}, base_policy=UnfreezeTop(1)),
    L2SP(0.1, 0.01, base_policy=DiscriminativeLR(1e-3, 0.5)),
]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: type(p).__name__)
def test_policy_config_round_trip(policy):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(policy))
    assert type(restored) is type(policy) and restored.get_config() == policy.get_config()
    assert restored == policy


def _flags(model):
    return {layer.name: layer.trainable for layer in model.backbone.base.layers}


def test_transfer_classifier_config_round_trip_reapplies_policy():
    model = TransferClassifier(tiny_backbone(), 3, policy=UnfreezeTop(1, bn="train"), dropout=0.3)
    clone = TransferClassifier.from_config(model.get_config())
    assert clone.policy == model.policy and clone.dropout == 0.3 and clone.num_classes == 3
    assert _flags(clone) == _flags(model)
    assert (
        not clone.backbone.base.get_layer("b2_conv").trainable
        and clone.backbone.base.get_layer("b3_bn").trainable
    )


def test_keras_save_load_preserves_policy_trainable_state_optimizer_and_anchors(tmp_path):
    policy = L2SP(alpha=0.1, beta=0.0, base_policy=DiscriminativeLR(1e-2, 0.5, base_policy=UnfreezeTop(2)))
    model = TransferClassifier(tiny_backbone(), 3, policy=policy, dropout=0.0)
    anchors = [np.array(a) for a in model.l2sp_anchors]
    model.compile(run_eagerly=True)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    path = os.fspath(tmp_path / "clf.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, TransferClassifier) and loaded.policy == model.policy
    assert _flags(loaded) == _flags(model)
    assert len(loaded.trainable_weights) == len(model.trainable_weights)
    np.testing.assert_allclose(
        loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )
    for saved, restored in zip(anchors, loaded.l2sp_anchors):  # anchors are the pretrained point,
        np.testing.assert_array_equal(saved, np.array(restored))  # not the fine-tuned weights
    assert float(loaded.policy.penalty(loaded)) > 0
    assert isinstance(loaded.optimizer, keras.optimizers.MultiOptimizer)
    assert int(loaded.optimizer.iterations) == 1


def test_backbone_save_load_keeps_freeze_flags(tmp_path):
    backbone = UnfreezeTop(1).apply(get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=None))
    path = os.fspath(tmp_path / "bb.keras")
    backbone.save(path)
    loaded = keras.saving.load_model(path)
    assert [la.trainable for la in loaded.base.layers] == [la.trainable for la in backbone.base.layers]
    assert len(loaded.trainable_weights) == len(backbone.trainable_weights) > 0


def test_summary_and_plot_describe_the_model(capsys):
    model = TransferClassifier(
        tiny_backbone(), 3, policy=DiscriminativeLR(1e-3, 0.5, base_policy=UnfreezeTop(1))
    )
    text = model.policy.summary(model)
    assert capsys.readouterr().out.strip() == text.strip()
    lines = {line.split()[0]: line.split() for line in text.splitlines()[3:]}
    assert list(lines) == ["stem", "block1", "block2", "block3", "top", "head"]
    assert lines["block3"][3:] == ["0.5", "frozen"] and lines["block2"][3:] == ["-", "frozen"]
    assert lines["block2"][2].startswith("0/") and lines["top"][-1] == "-"
    fig = plot_trainability(model)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(lines)


def test_unknown_block_name_lists_valid_names():
    backbone = tiny_backbone()
    with pytest.raises(
        ValueError, match=r"`name`.*\['stem', 'block1', 'block2', 'block3', 'top'\].*Did you mean 'block2'"
    ):
        UnfreezeFrom("blok2").apply(backbone)
    assert UnfreezeFrom("b2_bn").trainable_groups(backbone) == ["block2", "block3", "top"]  # a layer name


def test_num_blocks_out_of_range_and_bad_bn():
    with pytest.raises(ValueError, match=r"`num_blocks` must be between 0 and 3.*received num_blocks=4"):
        UnfreezeTop(4).apply(tiny_backbone())
    with pytest.raises(ValueError, match="`num_blocks`"):
        UnfreezeTop(-1)
    with pytest.raises(ValueError, match="`bn` must be one of"):
        FreezeAll(bn="eval")


def test_policy_on_model_without_block_groups_names_the_argument():
    inputs = keras.Input((4,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match=r"`model` must be a Backbone.*block_groups"):
        UnfreezeTop(1).apply(plain)
    with pytest.raises(TypeError, match="`backbone`"):
        TransferClassifier(plain, 3)
    with pytest.raises(ValueError, match="`num_classes`"):
        TransferClassifier(tiny_backbone(), 1)
    with pytest.raises(ValueError, match="`policy`.*Did you mean .freeze_all."):
        TransferClassifier(tiny_backbone(), 2, policy="freeze")


def test_policy_repr_reads_like_the_constructor_call():
    assert repr(UnfreezeTop(2)) == "UnfreezeTop(bn='frozen', num_blocks=2)"
    policy = DiscriminativeLR(1e-3, decay=0.5, base_policy=UnfreezeTop(1))
    assert (
        repr(policy)
        == "DiscriminativeLR(base_lr=0.001, decay=0.5, base_policy=UnfreezeTop(bn='frozen', num_blocks=1))"
    )
    assert "bn=None" not in repr(L2SP())
