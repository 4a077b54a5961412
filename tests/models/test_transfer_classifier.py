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


def _mixed_precision_model(kind):
    from keras_transfer.models import DANN, DiscrepancyModel

    if kind == "transfer_classifier":
        return TransferClassifier(tiny_backbone(), num_classes=3), X
    features = np.random.default_rng(0).random((4, 4)).astype("float32")
    cls = DANN if kind == "dann" else DiscrepancyModel
    return cls(keras.Sequential([keras.layers.Dense(8, activation="relu")]), 3), features


@pytest.mark.parametrize("kind", ["transfer_classifier", "dann", "discrepancy_model"])
def test_outputs_are_float32_under_mixed_float16(kind):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model, x = _mixed_precision_model(kind)
        probs = model.predict(x, verbose=0)
        assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    if kind == "transfer_classifier":  # the head computes in float16, the softmax in float32
        assert model.classifier.compute_dtype == "float16" and model.softmax.compute_dtype == "float32"


def test_backup_and_restore_resumes_like_uninterrupted_training(tmp_path):
    """Lite0's drop-connect and the head's dropout draw the same masks after a resume: their seed
    generator states are saved with the weights (without them the weights differ by ~6 here)."""
    from keras_transfer.backbones import get_backbone
    from keras_transfer.policies import UnfreezeAll

    def make():
        keras.utils.set_random_seed(7)
        bb = get_backbone("efficientnet_lite0", input_shape=(32, 32, 3), weights="imagenet")
        model = TransferClassifier(bb, num_classes=3, policy=UnfreezeAll(), dropout=0.5)
        assert model.built  # BackupAndRestore refuses unbuilt models
        model.compile(optimizer=keras.optimizers.SGD(0.05))
        return model

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("interrupted")

    fit = dict(x=X, y=Y, epochs=3, batch_size=2, shuffle=False, verbose=0)  # shuffling is not restored
    uninterrupted = make()
    uninterrupted.fit(**fit)
    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        make().fit(**fit, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt()])
    resumed = make()
    history = resumed.fit(**fit, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert history.epoch == [2]  # only the epoch that was lost ran again
    assert len(resumed._seed_states()) > 1
    for a, b in zip(uninterrupted.weights, resumed.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(b), keras.ops.convert_to_numpy(a), atol=1e-6)


def test_from_config_refuses_a_backbone_name_under_safe_mode(tmp_path):
    model = TransferClassifier(tiny_backbone(), num_classes=3)
    config = {
        "class_name": "TransferClassifier",
        "module": None,
        "registered_name": "keras_transfer>TransferClassifier",
    }
    config["config"] = {**model.get_config(), "backbone": "resnet50"}  # a tampered file: weights download
    with pytest.raises(ValueError, match="TransferClassifier.*backbone='resnet50'.*safe_mode=False"):
        keras.saving.deserialize_keras_object(config)


def _compiled():
    model = TransferClassifier(tiny_backbone(), 2)
    model.compile()
    return model


def test_fit_predict_and_evaluate_check_numpy_inputs():
    x, y = np.asarray(X, "float32"), np.asarray(Y) % 2
    model = _compiled()
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="`x` contains NaN or infinite pixels"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match="`x` contains NaN or infinite pixels"):
        model.predict(bad, verbose=0)
    with pytest.raises(ValueError, match="`x` is empty"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match="`y` must hold integer class labels; received non-integer values"):
        model.fit(x, y * 0.5 + 0.25, verbose=0)
    with pytest.raises(ValueError, match=r"`y` must hold class labels in \[0, 1\]"):
        model.fit(x, y + 2, verbose=0)
    with pytest.raises(ValueError, match="`y` must hold class labels >= 0"):
        model.evaluate(x, y - 1, verbose=0)
    with pytest.raises(TypeError, match="`y`.*strings.*LabelEncoder"):
        model.fit(x, np.where(y == 0, "cat", "dog"), verbose=0)
    with pytest.raises(ValueError, match="`y`.*one-hot.*argmax"):
        model.fit(x, np.eye(2)[y], verbose=0)
    with pytest.raises(ValueError, match="`y` must have one label per example"):
        model.fit(x, y[:3], verbose=0)
    with pytest.raises(ValueError, match="`learning_rate` must be a finite number > 0"):
        model.fine_tune(x, y, learning_rate=-1e-3, verbose=0)
    with pytest.raises(ValueError, match="`head_learning_rate` must be a finite number > 0"):
        model.fine_tune(x, y, head_learning_rate=0.0, verbose=0)
    history = model.fit(x, y.astype("float64"), epochs=1, verbose=0)  # whole-number floats are labels
    assert len(history.history["loss"]) == 1


def test_training_stops_with_a_warning_on_a_non_finite_loss():
    x, y = np.asarray(X, "float32"), np.asarray(Y) % 2
    model = TransferClassifier(tiny_backbone(), 2, policy="unfreeze_all")
    model.compile(optimizer=keras.optimizers.SGD(1e30))  # diverges at once
    with pytest.warns(RuntimeWarning, match="loss became .*non-finite"):
        history = model.fit(x, y, epochs=5, batch_size=2, verbose=0)
    assert len(history.history["loss"]) < 5
