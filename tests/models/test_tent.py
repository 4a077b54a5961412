"""TENT: only BatchNorm's gamma/beta change, on the entropy of test batches normalised with their
own statistics; online, episodic and one-call forms; save/load; induced collapses are caught."""

import warnings

import keras
import numpy as np
import pytest

from keras_transfer.adaptation import CollapseWarning
from keras_transfer.models import TENT, adapt_at_test_time
from tests.models._synthetic import blobs


def _network():
    return keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(16),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(16),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def shifted():
    keras.utils.set_random_seed(0)
    xs, ys, xt, yt = blobs(0, shift=1.5)
    net = _network()
    net.compile("adam", "sparse_categorical_crossentropy")
    net.fit(xs, ys, epochs=20, batch_size=32, verbose=0)
    return net, xt, yt


def _copy(net):
    clone = keras.models.clone_model(net)
    clone.set_weights(net.get_weights())
    return clone


def _affine(variable):
    return variable.path.endswith(("gamma", "beta"))


@pytest.mark.backend_neutral
def test_tent_changes_only_batch_norm_affine_parameters(shifted):
    net, xt, yt = shifted
    inner = _copy(net)
    before = {v.path: np.array(v.numpy()) for v in inner.weights}
    model = TENT(inner)
    model.compile()
    assert (
        sorted(v.path.rsplit("/", 1)[-1] for v in model.trainable_variables) == ["beta"] * 2 + ["gamma"] * 2
    )
    order = np.random.default_rng(0).permutation(len(xt))
    predictions = model.predict(xt[order], batch_size=64, verbose=0)
    assert int(model.optimizer.iterations) == len(xt) // 64  # one step per batch
    for v in inner.weights:
        changed = not np.allclose(before[v.path], v.numpy())
        assert changed == _affine(v), v.path  # moving statistics and every other weight unchanged
    accuracy = np.mean(predictions.argmax(1) == yt[order])
    source = np.mean(net.predict(xt[order], verbose=0).argmax(1) == yt[order])
    assert accuracy > source + 0.05
    assert not model.collapse_report.collapsed


@pytest.mark.backend_neutral
def test_tent_predicts_with_batch_statistics_and_minimises_their_entropy(shifted):
    net, xt, _ = shifted
    batch = xt[:64]
    model = TENT(_copy(net))
    model.compile(optimizer=keras.optimizers.SGD(2.5e-4, momentum=0.9))
    # first batch: the unadapted network, BatchNorm with the batch's statistics, no dropout
    first = model.predict(batch, batch_size=64, verbose=0)
    x = batch
    for layer in net.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            mean, var = x.mean(0), x.var(0)
            x = layer.gamma.numpy() * (x - mean) / np.sqrt(var + layer.epsilon) + layer.beta.numpy()
        elif not isinstance(layer, keras.layers.Dropout):
            x = np.asarray(layer(x))
    np.testing.assert_allclose(first, x, atol=1e-5)
    p = first.astype("float64")
    expected = np.mean(-np.sum(p * np.log(p + 1e-5), axis=1))
    assert float(model.compute_loss(y_pred=first)) == pytest.approx(expected, rel=1e-5)
    again = model.predict(batch, batch_size=64, verbose=0)  # after one step on that entropy
    q = again.astype("float64")
    assert np.mean(-np.sum(q * np.log(q + 1e-5), axis=1)) < expected


def test_tent_episodic_resets_before_every_batch(shifted):
    net, xt, _ = shifted
    model = TENT(_copy(net), episodic=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    predictions = model.predict(xt[:128], batch_size=64, verbose=0)
    fresh = TENT(_copy(net))
    for start in (0, 64):  # each batch predicted by the unadapted network with batch statistics
        np.testing.assert_allclose(
            predictions[start : start + 64], fresh.predict_on_batch(xt[start : start + 64]), atol=1e-5
        )


@pytest.mark.backend_neutral
def test_adapt_at_test_time_returns_an_adapted_copy(shifted):
    net, xt, yt = shifted
    before = [w.copy() for w in net.get_weights()]
    adapted = adapt_at_test_time(net, xt, batch_size=64)
    assert adapted is not net
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [layer.trainable for layer in adapted.layers] == [layer.trainable for layer in net.layers]
    source = np.mean(net.predict(xt, verbose=0).argmax(1) == yt)
    assert np.mean(adapted.predict(xt, verbose=0).argmax(1) == yt) > source + 0.05
    in_place = _copy(net)
    assert adapt_at_test_time(in_place, xt, copy=False) is in_place


@pytest.mark.backend_neutral
def test_tent_config_and_keras_round_trip(shifted, tmp_path):
    net, xt, _ = shifted
    model = TENT(_copy(net), steps=2, episodic=True)
    again = TENT.from_config(model.get_config())
    assert (again.steps, again.episodic) == (2, True)
    path = str(tmp_path / "tent.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, TENT) and (loaded.steps, loaded.episodic) == (2, True)
    names = [v.path.split("/")[-2:] for v in loaded.trainable_variables]
    assert names == [v.path.split("/")[-2:] for v in model.trainable_variables]
    np.testing.assert_allclose(loaded.predict_on_batch(xt[:32]), model.predict_on_batch(xt[:32]), atol=1e-6)


def test_tent_bad_inputs(shifted):
    net, xt, yt = shifted
    no_bn = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match="has none"):
        TENT(no_bn)
    model = TENT(_copy(net))
    with pytest.raises(ValueError, match="without `y`"):
        model.fit(xt, yt)
    with pytest.raises(TypeError, match="numpy array"):
        model.predict(list(xt))
    with pytest.raises(ValueError, match="`steps`"):
        TENT(_copy(net), steps=0)
    with pytest.raises(ValueError, match="NaN"):
        adapt_at_test_time(net, xt * np.nan)


def _predict_warned(model, x, batch_size):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predictions = model.predict(x, batch_size=batch_size, verbose=0)
    return predictions, [w for w in caught if issubclass(w.category, CollapseWarning)]


def test_guard_catches_tent_on_single_class_batches(shifted):
    """Batches of one class: per-batch normalisation erases the class, predictions fall to chance
    while their overall balance looks fine; the batch check says so. Shuffled, nothing is flagged."""
    net, xt, yt = shifted
    order = np.argsort(yt, kind="stable")
    model = TENT(_copy(net))
    model.compile()
    predictions, caught = _predict_warned(model, xt[order], 16)
    assert np.mean(predictions.argmax(1) == yt[order]) < 0.65  # near chance (source: ~0.84)
    assert model.collapse_report.collapsed and caught
    assert "single-class" in str(caught[0].message) and "TENT" in str(caught[0].message)

    shuffled = np.random.default_rng(0).permutation(len(xt))
    model = TENT(_copy(net))
    model.compile()
    _, caught = _predict_warned(model, xt[shuffled], 16)
    assert not model.collapse_report.collapsed and not caught


def test_guard_catches_tent_on_batches_of_one(shifted):
    """A batch of one example normalised with its own statistics loses everything: one class out."""
    net, xt, _ = shifted
    model = TENT(_copy(net))
    model.compile()
    predictions, caught = _predict_warned(model, xt[:48], 1)
    assert len(set(predictions.argmax(1))) == 1
    assert model.collapse_report.collapsed and caught
