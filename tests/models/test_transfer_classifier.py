"""TransferClassifier: compile defaults, two-phase fine_tune with phases in the history."""

import keras
import numpy as np
import pytest

from keras_transfer.models import TransferClassifier
from keras_transfer.policies import FreezeAll, GradualUnfreezing, UnfreezeTop
from tests.policies._helpers import X, Y, group_change_recorder, tiny_backbone


def test_fine_tune_runs_head_phase_then_policy_phase():
    backbone = tiny_backbone()
    model = TransferClassifier(backbone, num_classes=3, policy=UnfreezeTop(1), dropout=0.0)
    changes = group_change_recorder(backbone)
    history = model.fine_tune(
        X, Y, head_epochs=2, epochs=1, learning_rate=1e-3, batch_size=4, verbose=0, callbacks=[changes]
    )
    assert history.history["phase"] == ["head", "head", "fine_tune"]
    assert len(history.history["loss"]) == 3 and history.epoch == [0, 1, 2]
    assert model.phases == [("head", 0, 1), ("fine_tune", 2, 2)]
    assert changes.groups == [{"head"}, {"head"}, {"head", "top", "block3"}]
    assert model.policy == UnfreezeTop(1)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    probs = model.predict(X, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_fine_tune_drives_gradual_unfreezing_from_the_second_phase():
    backbone = tiny_backbone()
    model = TransferClassifier(backbone, num_classes=3, policy=GradualUnfreezing(every=1), dropout=0.0)
    changes = group_change_recorder(backbone)
    history = model.fine_tune(
        X, Y, head_epochs=1, epochs=2, learning_rate=1e-2, batch_size=4, verbose=0, callbacks=[changes]
    )
    assert history.history["phase"] == ["head", "fine_tune", "fine_tune"]
    assert changes.groups == [{"head"}, {"head", "top"}, {"head", "top", "block3"}]


def test_compile_defaults_and_bad_arguments():
    model = TransferClassifier(tiny_backbone(), num_classes=4)
    assert model.policy == FreezeAll()
    model.compile()
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.compute_output_shape((None, 32, 32, 3)) == (None, 4)
    with pytest.raises(ValueError, match="`dropout`"):
        TransferClassifier(tiny_backbone(), 2, dropout=1.0)
    with pytest.raises(ValueError, match="`head_epochs`"):
        model.fine_tune(X, Y, head_epochs=-1)
