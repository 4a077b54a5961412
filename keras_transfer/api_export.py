"""The one decorator that registers our Keras objects for `.keras` saving."""

import keras

PACKAGE = "keras_transfer"


def export(cls):
    """Register ``cls`` as ``keras_transfer>ClassName`` for `.keras` serialization.

    Example:
        >>> import keras
        >>> from keras_transfer.api_export import export
        >>> @export
        ... class Twice(keras.layers.Layer):
        ...     def call(self, x):
        ...         return 2 * x
        >>> keras.saving.get_registered_name(Twice)
        'keras_transfer>Twice'
        >>> del keras.saving.get_custom_objects()["keras_transfer>Twice"]  # keep the registry clean
    """
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)
