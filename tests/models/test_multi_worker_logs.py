"""Metric results under the multi-worker workaround (`keras_transfer.models._multi_worker`): one-element
vectors only inside ``strategy.run`` (for Keras' axis-0 mean over replicas); everywhere else, in
particular the epoch-end logs `fit` hands to History outside any strategy, scalars as in one
process (they were one-element arrays there, e.g. ``history["reversal_scale"]``).

A cluster of worker processes is what tests/distributed runs; here the multi-worker switch is
forced on in one process, which is enough to tell where the results are reshaped."""

import keras
import numpy as np
import pytest

from keras_transfer.models import DANN, _multi_worker


@pytest.fixture
def model(monkeypatch):
    monkeypatch.setattr(_multi_worker, "_is_multi_worker", lambda strategy: True)
    model = DANN(
        keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu")]), label_head=2
    )
    model.compile(optimizer="sgd")
    return model


def test_metric_results_are_scalars_outside_a_replica(model):
    import tensorflow as tf

    results = model.get_metrics_result()
    assert "reversal_scale" in results
    assert {name: tuple(np.shape(v)) for name, v in results.items()} == {name: () for name in results}
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        assert all(np.shape(v) == () for v in model.get_metrics_result().values())


def test_metric_results_are_one_element_vectors_inside_strategy_run(model):
    import tensorflow as tf

    results = tf.distribute.MirroredStrategy(["/cpu:0"]).run(model.get_metrics_result)
    assert {name: tuple(np.shape(v)) for name, v in results.items()} == {name: (1,) for name in results}
