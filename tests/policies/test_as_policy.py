"""`as_policy`: one meaning of ``policy=None`` everywhere, names, dicts, and errors."""

import numpy as np
import pytest

from keras_transfer.models import TransferClassifier
from keras_transfer.policies import (
    L2SP,
    DiscriminativeLR,
    FreezeAll,
    UnfreezeAll,
    UnfreezeTop,
    as_policy,
)
from tests.policies._helpers import tiny_backbone


def test_none_means_unfreeze_all_everywhere():
    assert as_policy(None) == UnfreezeAll()
    assert DiscriminativeLR().base_policy == UnfreezeAll()
    assert L2SP().base_policy == UnfreezeAll()
    model = TransferClassifier(tiny_backbone(), 2, policy=None)
    assert model.policy == UnfreezeAll()
    assert len(model.backbone.trainable_weights) > 0


def test_transfer_classifier_default_freezes_the_backbone():
    model = TransferClassifier(tiny_backbone(), 2)
    assert model.policy == FreezeAll()
    assert model.backbone.trainable_weights == []
    assert len(model.trainable_weights) == 2  # the head's kernel and bias


def test_names_dicts_and_objects_resolve():
    assert as_policy("freeze_all") == FreezeAll()
    assert as_policy("unfreeze_all") == UnfreezeAll()
    policy = UnfreezeTop(1, bn="train")
    assert as_policy(policy) is policy
    import keras

    assert as_policy(keras.saving.serialize_keras_object(policy)) == policy


def test_bad_policies_name_the_argument():
    with pytest.raises(
        ValueError, match=r"`policy`.*received policy='freeze-all'.*Did you mean 'freeze_all'"
    ):
        as_policy("freeze-all")
    with pytest.raises(TypeError, match="`base_policy`.*received int"):
        as_policy(3, "base_policy")


def test_numpy_scalars_are_accepted():
    policy = DiscriminativeLR(np.float32(1e-3), decay=np.float64(0.5), multipliers={"head": np.float32(2)})
    assert isinstance(policy.base_lr, float) and policy.decay == 0.5 and policy.multipliers == {"head": 2.0}
    assert L2SP(alpha=np.float32(0.1)).alpha == pytest.approx(0.1)
