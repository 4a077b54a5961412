"""Array input of the two-domain models: every source and target example is used in an epoch."""

import numpy as np
import pytest

from keras_transfer.models._two_domain_data import prepare_arrays


@pytest.mark.parametrize("num_source, num_target", [(10, 4), (4, 10), (7, 7)])
def test_prepare_arrays_cycles_the_smaller_domain_and_keeps_every_example(num_source, num_target):
    xs = np.arange(num_source, dtype="float32")[:, None]
    xt = 100 + np.arange(num_target, dtype="float32")[:, None]
    ys = np.arange(num_source)
    (ps, pt), py, _, steps = prepare_arrays(
        (xs, xt), ys, batch_size=4, epochs=3, steps_per_epoch=None, seed=0
    )
    length = max(num_source, num_target)
    assert len(ps) == len(pt) == len(py) == length
    assert set(ps[:, 0]) == set(xs[:, 0]) and set(pt[:, 0]) == set(xt[:, 0])  # nothing left out
    np.testing.assert_array_equal(ps[:, 0].astype(int), py)  # labels travel with their images
    assert steps == 3 * -(-length // 4)


def test_prepare_arrays_empty_target_is_refused():
    with pytest.raises(ValueError, match="`x` must hold at least one target example"):
        prepare_arrays((np.zeros((3, 1)), np.zeros((0, 1))), np.zeros(3), 2, 1, None, 0)


def test_prepare_arrays_does_not_pair_rows_given_in_corresponding_order():
    x = np.arange(50, dtype="float32")[:, None]  # e.g. digits and their -M versions, same order
    (ps, pt), _, _, _ = prepare_arrays((x, x + 1000), np.zeros(50), 10, 1, None, seed=0)
    np.testing.assert_array_equal(ps[:, 0], x[:, 0])
    assert np.mean(pt[:, 0] - 1000 == ps[:, 0]) < 0.2


def test_validation_split_holds_out_source_rows_before_the_smaller_domain_is_cycled():
    from keras_transfer.models._two_domain_data import training_input

    xs = np.arange(10, dtype="float32").reshape(10, 1)  # every row unique
    ys, xt = np.arange(10) % 2, np.zeros((23, 1), "float32")
    data = training_input((xs, xt), ys, 4, 1, None, {"validation_split": 0.5}, image_size=None, num_classes=2)
    val_x, val_y = data.fit_kwargs["validation_data"]
    assert "validation_split" not in data.fit_kwargs
    np.testing.assert_array_equal(val_x[:, 0], [5, 6, 7, 8, 9])  # Keras' rule: the last rows
    assert not set(val_x[:, 0]) & set(data.x[0][:, 0])  # was: 13 of 23 validation rows trained on
    assert len(data.x[0]) == 23 and len(data.y) == 23
    with pytest.raises(ValueError, match="validation_split"):
        training_input(
            (xs[:1], xt), ys[:1], 4, 1, None, {"validation_split": 0.5}, image_size=None, num_classes=2
        )
