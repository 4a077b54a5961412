"""``sample_weight`` in the two-domain models' ``fit``: one weight per source row, which stays with
its row when the source is the smaller domain and is cycled to the target's length."""

import keras
import numpy as np
import pytest

from keras_transfer.models import TargetRegularizedModel
from keras_transfer.models._two_domain_data import prepare_arrays


@pytest.mark.parametrize("num_source, num_target", [(6, 20), (20, 6), (7, 7)])
def test_prepare_arrays_indexes_the_weights_with_the_source_rows(num_source, num_target):
    xs = np.arange(num_source, dtype="float32")[:, None]  # row i holds i
    xt = np.zeros((num_target, 1), "float32")
    weights = 10.0 * np.arange(num_source) + 1.0  # row i weighs 10 i + 1
    (ps, _), py, pw, _ = prepare_arrays(
        (xs, xt), np.arange(num_source), 4, 1, None, seed=0, sample_weight=weights
    )
    assert len(pw) == len(ps) == max(num_source, num_target)
    np.testing.assert_array_equal(pw, 10.0 * ps[:, 0] + 1.0)
    np.testing.assert_array_equal(py, ps[:, 0].astype(int))
    if num_source < num_target:
        assert not np.array_equal(ps[:num_source, 0], xs[:, 0])  # shuffled, not just repeated


@pytest.mark.backend_neutral
@pytest.mark.parametrize("ignored", [0, 1])
def test_a_class_weighted_zero_is_never_learned_when_the_source_is_cycled(ignored):
    """Every row looks the same, so the classifier can only learn the weighted share of each
    class. Every row of class ``ignored`` weighs 0: its share is 0 and the other class's
    probability goes to 1. Weights that stayed at their index instead of travelling with their
    rows through the cycling would give class ``ignored`` about half the weight (and ~0.5)."""
    ys = np.tile([0, 1], 4)  # 8 source rows, cycled to the 40 target rows
    xs, xt = np.ones((8, 2), "float32"), np.ones((40, 2), "float32")
    weights = (ys != ignored).astype("float32")
    keras.utils.set_random_seed(0)
    model = TargetRegularizedModel(keras.layers.Dense(4, activation="relu"), 2, adaptation_weight=0.0)
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    history = model.fit(x=(xs, xt), y=ys, sample_weight=weights, epochs=5, batch_size=8, verbose=0)
    probability = model.predict(xs[:1], verbose=0)[0, 1 - ignored]
    assert probability > 0.8, probability  # measured 0.999 (TF), 0.89 (JAX); misaligned 0.4 (TF)
    assert history.history["label_accuracy"][-1] == 1.0  # weighted: only the kept class counts


def test_sample_weight_is_checked_against_the_source():
    xs, xt, ys = np.zeros((6, 2), "float32"), np.zeros((20, 2), "float32"), np.arange(6) % 2
    model = TargetRegularizedModel(keras.layers.Dense(4), 2)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"`sample_weight` must hold one weight per source example \(6"):
        model.fit(x=(xs, xt), y=ys, sample_weight=np.ones(20), verbose=0)
    with pytest.raises(ValueError, match="`sample_weight` must hold finite weights >= 0"):
        model.fit(x=(xs, xt), y=ys, sample_weight=-np.ones(6), verbose=0)
    with pytest.raises(ValueError, match="`sample_weight` must hold finite weights >= 0"):
        model.fit(x=(xs, xt), y=ys, sample_weight=np.full(6, np.nan), verbose=0)
    with pytest.raises(TypeError, match="`sample_weight` must hold real numbers"):
        model.fit(x=(xs, xt), y=ys, sample_weight=np.array(["a"] * 6), verbose=0)
