"""Recompile a model after its trainable set changed, carrying the optimizer state over."""

from __future__ import annotations

import keras
import numpy as np


def recompile_keeping_state(model) -> None:
    """Recompile ``model`` (same loss, metrics, optimizer config) and copy the optimizer state.

    Keras keeps training the old trainable set until ``compile`` runs again. The new optimizer is
    built on the new trainable set; its iteration count, learning rate and the slots (momenta,
    second moments) of variables that were already training are copied from the old one by
    variable path, so Adam's bias correction and LR schedules continue; new variables start with
    zero slots.
    """
    old = getattr(model, "optimizer", None)
    config = model.get_compile_config()
    if not config:
        raise ValueError("`model` must be compiled before its trainable set can change during fit.")
    state = {}
    if old is not None and old.built:
        state = {v.path: np.asarray(v) for v in old.variables}
    model.compile(**keras.saving.deserialize_keras_object(config))
    new = model.optimizer
    if not new.built:
        new.build(model.trainable_variables)
    for v in new.variables:
        value = state.get(v.path)
        if value is not None and tuple(value.shape) == tuple(v.shape):
            v.assign(value)
    model.make_train_function(force=True)
