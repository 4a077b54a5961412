"""What the task models need for `keras.callbacks.BackupAndRestore` to resume training exactly
(private).

- `SeedStateSaving`: the saved weights include the states of the model's random seed generators
  (dropout, noise, augmentation, drop-connect), which Keras leaves out of ``save_weights``; a
  resumed training then draws the random numbers the uninterrupted one would have drawn.
- `reset_initial_epoch`: Keras 3.15 keeps the epoch a `BackupAndRestore` backup resumed from in
  ``model._initial_epoch`` after that ``fit`` ends, so every later ``fit`` of the model starts at
  that epoch; the task models' ``fit`` clears it first.
- `backup_epoch`: the epoch the backup of a `BackupAndRestore` among the callbacks resumes at.
"""

from __future__ import annotations

import json
import os

import keras

_SEED_PREFIX = "seed_generator_"


class SeedStateSaving:
    """Mixin for `keras.Model` subclasses: see the module docstring. Files written without the
    seed states still load (the generators then keep their current states)."""

    def _seed_states(self) -> list:
        """The state variables of every random seed generator inside the model, in layer order."""
        weights = {id(w) for w in self.weights}
        return [v for v in self.variables if id(v) not in weights]  # `variables` = weights + seeds

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for i, state in enumerate(self._seed_states()):
            store[f"{_SEED_PREFIX}{i}"] = state

    def load_own_variables(self, store):
        keys = list(store.keys())
        super().load_own_variables({k: store[k] for k in keys if not k.startswith(_SEED_PREFIX)})
        states = self._seed_states()
        saved = [k for k in keys if k.startswith(_SEED_PREFIX)]
        if len(saved) == len(states):  # files written before seeds were saved hold none
            for i, state in enumerate(states):
                state.assign(store[f"{_SEED_PREFIX}{i}"])


def reset_initial_epoch(model) -> None:
    """Forget the epoch an earlier ``fit`` resumed at (see the module docstring)."""
    if getattr(model, "_initial_epoch", None) is not None:
        model._initial_epoch = None


def backup_epoch(callbacks) -> int | None:
    """The epoch at which the backup of a `keras.callbacks.BackupAndRestore` in ``callbacks``
    resumes training, or None when there is no such callback or no backup."""
    if callbacks is None:
        return None
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.BackupAndRestore):
            path = os.path.join(str(callback.backup_dir), "training_metadata.json")
            if os.path.exists(path):
                with open(path) as f:
                    return int(json.load(f)["epoch"])
    return None
