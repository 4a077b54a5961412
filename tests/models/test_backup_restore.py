"""`keras.callbacks.BackupAndRestore` with every two-domain model's ``fit`` and with
`TransferClassifier.fine_tune`: a training interrupted at epoch k and resumed from the backup ends
where the uninterrupted training ends (same history from epoch k, same weights)."""

import keras
import numpy as np
import pytest

from keras_transfer.models import CDAN, DANN, DiscrepancyModel, SelfTraining, TargetRegularizedModel

EPOCHS, INTERRUPT_AT = 4, 2
# measured: the resumed weights equal the uninterrupted ones exactly (difference 0.0)
ATOL = 1e-6

MODELS = {
    "dann": lambda f: DANN(f, 3, bottleneck=6),
    "cdan": lambda f: CDAN(f, 3, bottleneck=6, entropy_conditioning=True),
    "discrepancy_model": lambda f: DiscrepancyModel(f, 3, bottleneck=6),
    "target_regularized_model": lambda f: TargetRegularizedModel(f, 3, bottleneck=6),
    "self_training": lambda f: SelfTraining(
        f,
        3,
        bottleneck=6,
        threshold=0.3,
        weak_augmentation=keras.layers.GaussianNoise(0.1),
        strong_augmentation=keras.layers.GaussianNoise(0.5),
    ),
}


def _data():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(20, 4)).astype("float32")  # the smaller domain: cycled to 36 rows
    xt = (rng.normal(size=(36, 4)) + 1.0).astype("float32")
    return xs, rng.integers(0, 3, 20), xt


def _make(kind):
    """Seeded right before each ``fit``: the weights, the dropout/noise seeds and numpy's draw of
    the cycled source rows are then those of the interrupted run, as after a restart."""
    keras.utils.set_random_seed(3)
    features = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dropout(0.3)])
    model = MODELS[kind](features)  # the bottleneck's BatchNorm: AdaBN by default, reversal ramp
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    return model


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def _assert_same_weights(model, reference):
    assert len(model.weights) == len(reference.weights)
    for a, b in zip(reference.weights, model.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(b), keras.ops.convert_to_numpy(a), atol=ATOL)


@pytest.mark.parametrize(
    "kind",
    [
        "dann",
        "self_training",
        *(
            pytest.param(k, marks=pytest.mark.slow)
            for k in ("cdan", "discrepancy_model", "target_regularized_model")
        ),
    ],
)
def test_two_domain_fit_resumes_like_uninterrupted_training(kind, tmp_path):
    xs, ys, xt = _data()
    fit = dict(x=(xs, xt), y=ys, epochs=EPOCHS, batch_size=8, verbose=0)
    if keras.backend.backend() != "tensorflow":  # JAX draws each epoch's order from numpy: see fit
        fit["shuffle"] = False
    reference = _make(kind)
    expected = reference.fit(**fit).history
    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        _make(kind).fit(**fit, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(INTERRUPT_AT)])
    resumed = _make(kind)  # a fresh model, as in a new process; built by fit before the restore
    history = resumed.fit(**fit, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert history.epoch == list(range(INTERRUPT_AT, EPOCHS))  # only the lost epochs ran
    for key, values in history.history.items():
        np.testing.assert_allclose(values, expected[key][INTERRUPT_AT:], rtol=1e-5, atol=ATOL, err_msg=key)
    _assert_same_weights(resumed, reference)
    assert resumed._seed_states()  # dropout (and noise views) drew the uninterrupted masks
    # Keras keeps the resumed epoch in the model; the next fit must start at epoch 0 again
    assert resumed.fit(**{**fit, "epochs": 1}).epoch == [0]


@pytest.mark.parametrize("kind", list(MODELS))
def test_two_domain_fit_builds_before_the_callbacks_run(kind, tmp_path):
    xs, ys, xt = _data()
    model = _make(kind)
    model.compile(optimizer="adam", run_eagerly=True)  # one eager step: no tracing to wait for
    assert not model.built
    seen = []
    check = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append(model.built))
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=36, verbose=0, callbacks=[backup, check])
    assert seen == [True]


def test_two_domain_fit_on_a_dataset_builds_before_the_callbacks_run(tmp_path):
    import tensorflow as tf

    xs, ys, xt = _data()
    data = tf.data.Dataset.from_tensor_slices(((xs, xt[:20]), ys)).batch(10)
    model = _make("dann")
    model.compile(optimizer="adam", run_eagerly=True)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    model.fit(data, epochs=1, verbose=0, callbacks=[backup])
    assert model.built


def test_seed_generator_states_travel_with_the_weights(tmp_path):
    xs, _, xt = _data()
    model = _make("self_training")
    model((xs, xt), training=True)  # advances the dropout and noise generators
    states = [keras.ops.convert_to_numpy(s) for s in model._seed_states()]
    assert len(states) == 3  # Dropout, weak view, strong view
    path = str(tmp_path / "model.weights.h5")
    model.save_weights(path)
    other = _make("self_training")
    other((xs, xt))  # builds it
    other.load_weights(path)
    for a, b in zip(states, other._seed_states()):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(b), a)


@pytest.mark.parametrize(
    "interrupt_at",
    [
        pytest.param(1, id="in_the_head_phase", marks=pytest.mark.slow),
        pytest.param(3, id="in_the_fine_tuning_phase"),
    ],
)
def test_fine_tune_resumes_in_the_phase_it_was_interrupted_in(tmp_path, interrupt_at):
    """Phases of 2 + 2 epochs. Interrupted in the fine-tuning phase, the resumed call skips the
    head phase (the backup holds the fine-tuning optimizer's state); interrupted in the head phase,
    the fine-tuning phase then starts at its own first epoch."""
    from keras_transfer.models import TransferClassifier
    from keras_transfer.policies import UnfreezeTop
    from tests.policies._helpers import X, Y, tiny_backbone

    def make():
        keras.utils.set_random_seed(7)
        return TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeTop(1), dropout=0.5)

    fit = dict(head_epochs=2, epochs=2, learning_rate=1e-2, batch_size=4, verbose=0, shuffle=False)
    reference = make()
    expected = reference.fine_tune(X, Y, **fit).history
    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        make().fine_tune(
            X, Y, **fit, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(interrupt_at)]
        )
    resumed = make()
    history = resumed.fine_tune(X, Y, **fit, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert history.epoch == list(range(interrupt_at, 4))
    assert history.history["phase"] == expected["phase"][interrupt_at:]
    np.testing.assert_allclose(history.history["loss"], expected["loss"][interrupt_at:], rtol=1e-5)
    _assert_same_weights(resumed, reference)
