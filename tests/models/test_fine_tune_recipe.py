"""TransferClassifier.fine_tune's default recipe: auto validation split, head on cached features,
the warm-up + cosine schedule, and the guard that keeps the head-only model when fine-tuning does not beat it."""

import keras
import numpy as np
import pytest

from keras_transfer.models import TransferClassifier
from keras_transfer.policies import UnfreezeAll
from tests.policies._helpers import tiny_backbone


def _separable(n_per_class=10, num_classes=3, seed=0):
    """Images whose class is their brightness (plus noise): a linear head separates them."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(num_classes), n_per_class)
    x = rng.normal(0, 20, (len(y), 32, 32, 3)) + 40 + 70 * y[:, None, None, None]
    return np.clip(x, 0, 255).astype("float32"), y


class _WreckBackbone(keras.callbacks.Callback):
    """In the fine-tuning phase only (backbone trainable), replace the backbone's weights by noise:
    a fine-tuning run that certainly ends worse than the head-only model it started from."""

    def on_epoch_end(self, epoch, logs=None):
        backbone = self.model.backbone
        if any(w.trainable for w in backbone.weights):
            rng = np.random.default_rng(epoch)
            for w in backbone.trainable_weights:
                w.assign(rng.normal(0, 1, w.shape).astype("float32"))


@pytest.mark.backend_neutral
def test_fine_tune_keeps_the_head_only_model_when_fine_tuning_loses_on_validation():
    x, y = _separable()
    model = TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeAll(), dropout=0.0)
    before = [keras.ops.convert_to_numpy(w) for w in model.backbone.weights]
    history = model.fine_tune(
        x,
        y,
        head_epochs=10,
        head_learning_rate=0.05,
        validation_split=0.2,
        epochs=1,
        batch_size=8,
        verbose=0,
        callbacks=[_WreckBackbone()],
    )
    selection = model.fine_tune_selection
    assert "val_loss" in history.history  # the stratified 20% split was used
    assert selection["kept"] == "head"
    assert selection["fine_tune_val_accuracy"] < selection["head_val_accuracy"]
    # the head-only weights are back: the frozen backbone of the head phase, untouched
    for w, b in zip(model.backbone.weights, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), b)


@pytest.mark.backend_neutral
def test_fine_tune_recipe_head_on_features_and_auto_split_rules():
    x, y = _separable(n_per_class=10)
    model = TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeAll(), dropout=0.0)
    history = model.fine_tune(x, y, batch_size=8, verbose=0)  # epochs="auto": split, 10 epochs
    # the head phase is the linear probe: logistic regression on the cached features
    assert history.history["phase"].count("head") == 1
    selection = model.fine_tune_selection
    # three models scored on the split: head only, fine-tuned, fine-tuned + a refitted probe
    scores = {k: selection[f"{k}_val_accuracy"] for k in ("head", "fine_tune", "fine_tune_probe")}
    assert selection["kept"] in scores and scores[selection["kept"]] == max(scores.values())
    tuned = history.history["phase"].count("fine_tune")
    assert tuned == 10  # the whole warm-up + cosine schedule, no early stopping
    if selection["kept"] == "head":  # the probe is refitted on all 30 images
        assert selection["refit_epochs"] == 0 and "head_refit" in history.history["phase"]
    else:  # the validated fine-tuned model is kept as it is
        assert "refit_epochs" not in selection and "head_refit" not in history.history["phase"]
    # the head trained on cached features learned the classes (chance: 1/3)
    assert np.mean(model.predict(x, verbose=0).argmax(-1) == y) > 0.5
    # fewer than 5 images in some class: no split, no validation-driven steps
    few = TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeAll(), dropout=0.0)
    history = few.fine_tune(x[::3], y[::3], epochs=1, head_epochs=2, batch_size=4, verbose=0)
    assert few.fine_tune_selection is None and "val_loss" not in history.history
    assert history.history["phase"] == ["head", "head", "fine_tune"]


def test_fine_tune_recipe_bad_arguments():
    x, y = _separable(n_per_class=2)
    model = TransferClassifier(tiny_backbone(), num_classes=3)
    with pytest.raises(ValueError, match="`schedule`"):
        model.fine_tune(x, y, schedule="linear", verbose=0)
    with pytest.raises(ValueError, match="`epochs`"):
        model.fine_tune(x, y, epochs="many", verbose=0)
    with pytest.raises(ValueError, match="`time_budget`"):
        model.fine_tune(x, y, time_budget=0, verbose=0)
    with pytest.raises(ValueError, match="`validation_split`"):
        model.fine_tune(x, y, validation_split=1.5, verbose=0)


@pytest.mark.backend_neutral
def test_a_winning_fine_tuned_probe_is_refitted_on_every_label(monkeypatch):
    """When the fine-tuned backbone under a refitted probe wins on the split, the head ends as
    scikit-learn's LogisticRegression(C=1) fitted on the fine-tuned features of every image."""
    from sklearn.linear_model import LogisticRegression

    from keras_transfer.models import _fine_tune_recipe as recipe

    real = recipe.validation_score
    calls = []

    def only_the_third_can_win(model, validation):  # scored in order: head, fine-tuned, + probe
        calls.append(None)
        accuracy, neg_loss = real(model, validation)
        return (accuracy - 1.0, neg_loss) if len(calls) < 3 else (accuracy, neg_loss)

    monkeypatch.setattr(recipe, "validation_score", only_the_third_can_win)
    keras.utils.set_random_seed(0)
    x, y = _separable(n_per_class=10)
    model = TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeAll(), dropout=0.0)
    pretrained = [keras.ops.convert_to_numpy(w) for w in model.backbone.trainable_weights]
    model.fine_tune(x, y, epochs="auto", learning_rate=1e-2, batch_size=8, verbose=0)
    selection = model.fine_tune_selection
    assert len(calls) == 3  # head only, fine-tuned, fine-tuned + probe
    assert selection["kept"] == "fine_tune_probe" and selection["refit_probe"]
    # the backbone is the fine-tuned one ...
    assert any(
        not np.allclose(keras.ops.convert_to_numpy(w), p)
        for w, p in zip(model.backbone.trainable_weights, pretrained)
    )
    # ... and the head is the probe on its features of all 30 images, not of the 24 of the split
    features = model.backbone.predict(x, verbose=0)
    probe = LogisticRegression(C=1.0, max_iter=2000).fit(features, y)
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.classifier.weights)
    np.testing.assert_allclose(kernel, probe.coef_.T, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(bias, probe.intercept_, rtol=1e-3, atol=1e-4)


def test_a_kept_probe_is_refitted_and_the_history_stays_one_value_per_epoch(monkeypatch):
    """The head-only model wins: it is refitted on every label (a phase without validation), and
    every metric still has one value per epoch (None where the phase had none), so the history
    plots (the demo's --quick run failed here before)."""
    import matplotlib

    matplotlib.use("Agg")
    from keras_transfer.models import _fine_tune_recipe as recipe
    from keras_transfer.plots import plot_history

    real = recipe.validation_score
    calls = []

    def only_the_first_can_win(model, validation):  # scored in order: head, fine-tuned, + probe
        calls.append(None)
        accuracy, neg_loss = real(model, validation)
        return (accuracy, neg_loss) if len(calls) == 1 else (accuracy - 1.0, neg_loss)

    monkeypatch.setattr(recipe, "validation_score", only_the_first_can_win)
    x, y = _separable(n_per_class=10)
    model = TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeAll(), dropout=0.0)
    history = model.fine_tune(x, y, epochs="auto", batch_size=8, verbose=0)
    assert model.fine_tune_selection["kept"] == "head"
    assert history.history["phase"] == ["head"] + ["fine_tune"] * 10 + ["head_refit"]
    assert {len(v) for v in history.history.values()} == {len(history.epoch)} == {12}
    assert history.history["val_accuracy"][-1] is None and history.history["accuracy"][-1] is not None
    fig = plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
