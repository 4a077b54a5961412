"""The package's rule for `from_config`: under Keras' safe_mode, nothing that reads a file named in
the config, downloads, unpickles or runs code from outside the `.keras` file.

`keras.saving.load_model(path)` deserializes with ``safe_mode=True`` by default, and Keras' own
layers that load outside code refuse there (`keras.layers.TFSMLayer`, `keras.layers.Lambda`). Ours
do the same: a `HubLayer` (and so a `HubBackbone` or a TF-Hub text encoder) names a SavedModel
whose graph runs on every call, so its `from_config` calls `check_safe_mode` first. The user opts
in per call with ``keras.saving.load_model(path, safe_mode=False)`` (recommended), or for the
whole process with ``keras.config.enable_unsafe_deserialization()``: after that, Keras lets every
later load through, even ``load_model(path, safe_mode=True)``. Keras 3.15 keeps the global switch
and the per-call argument in the same flag, so `from_config` cannot tell them apart (and cannot
warn about the global one).
"""

from __future__ import annotations

__all__ = ["check_safe_mode", "in_safe_mode"]


def in_safe_mode() -> bool:
    """Whether Keras is deserializing under safe_mode right now.

    ``True`` inside `keras.saving.load_model`, `keras.saving.deserialize_keras_object` and
    `keras.models.model_from_json` called with their default ``safe_mode=True``; ``False`` with
    ``safe_mode=False`` or after ``keras.config.enable_unsafe_deserialization()``. A direct
    ``cls.from_config(config)`` call outside these loaders counts as not in safe mode: the caller
    builds the object from its own config, as with the constructor.

    Example:
        >>> import keras
        >>> from keras_transfer.safe_mode import in_safe_mode
        >>> in_safe_mode()
        False
    """
    # Keras 3.15 sets this flag through public API (the loaders' `safe_mode=` argument and
    # `keras.config.enable_unsafe_deserialization()`) but reads it only through this private
    # function, which `keras.layers.TFSMLayer.from_config` and `keras.layers.Lambda.from_config`
    # call. It returns True, False, or None outside any loader. This is the package's one use of
    # it; tests/test_serialization.py pins its behaviour.
    from keras.src.saving import serialization_lib

    return serialization_lib.in_safe_mode() is True


def check_safe_mode(class_name: str, action: str) -> None:
    """Raise ValueError when called under Keras' safe_mode; `from_config` of a risky object calls it.

    Args:
        class_name: the class being deserialized, e.g. ``"HubLayer"``.
        action: what building it would do, e.g. ``"loads the SavedModel 'x' and runs its graph"``.

    Raises:
        ValueError: Keras is deserializing under safe_mode.

    Example:
        >>> import keras
        >>> from keras_transfer.safe_mode import check_safe_mode
        >>> check_safe_mode("HubLayer", "loads a SavedModel")  # outside a loader: allowed
    """
    if in_safe_mode():
        raise ValueError(
            f"Requested the deserialization of a `{class_name}`, which {action}. Code from outside "
            "the .keras file could run, so this is disallowed under safe_mode (the default of "
            "keras.saving.load_model). If you trust the file and what it names, pass "
            "`safe_mode=False` to keras.saving.load_model for this load (rather than "
            "`keras.config.enable_unsafe_deserialization()`, which switches safe mode off for "
            "every later load in the process, even those that pass safe_mode=True)."
        )
