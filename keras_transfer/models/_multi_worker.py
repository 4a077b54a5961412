"""`fit` and `evaluate` under `tf.distribute.MultiWorkerMirroredStrategy` with several workers.

Keras 3.15's TensorFlow trainer fails there for every model, in two places:

1. before the first step it reduces the whole first batch ``(x, y)`` with one
   ``strategy.reduce("MEAN", batch)`` call; with more than one worker the strategy reduces one
   value at a time, and a nested batch fails with "Attempt to convert a value (PerReplica:...)
   to a Tensor";
2. each step it reduces the logs with ``strategy.reduce("MEAN", value, axis=0)``, which fails on
   the scalar metric results ("Invalid reduction dimension 0 for input with 0 dimensions").

`MultiWorkerFit` sidesteps both without changing single-worker training: it builds from one
replica's part of the first batch (only its shapes matter), and inside a replica it returns the
metric results as one-element vectors, which the axis-0 mean turns back into scalars (outside a
replica, e.g. the epoch-end logs that History records, they stay scalars). The check
is ``len(strategy.extended.worker_devices) < strategy.num_replicas_in_sync``: some replicas live
in other processes.
"""

from __future__ import annotations

import keras
from keras import ops, tree


def _is_multi_worker(strategy) -> bool:
    try:
        devices = strategy.extended.worker_devices
    except (AttributeError, RuntimeError):  # the default strategy has no worker devices
        return False
    return len(devices) < strategy.num_replicas_in_sync


class MultiWorkerFit:
    """Mixin for `keras.Model` subclasses: see the module docstring."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self.distribute_strategy
        if iterator is not None and _is_multi_worker(strategy):
            for _, _, batches in iterator:
                batch = next(batches)
                break
            data_batch = tree.map_structure(lambda v: strategy.experimental_local_results(v)[0], batch)
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def get_metrics_result(self):
        result = super().get_metrics_result()
        if keras.backend.backend() != "tensorflow":
            return result
        import tensorflow as tf

        # Only inside ``strategy.run`` (a replica of a non-default strategy): the epoch-end logs
        # that `fit` reads outside any strategy (History, callbacks) stay scalars, as in one process.
        in_replica = tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context()
        if not in_replica or not _is_multi_worker(self.distribute_strategy):
            return result
        return {name: ops.reshape(value, (1,)) for name, value in result.items()}
