"""`HubLayer`: a Keras 3 layer around a TF2 SavedModel loaded through TF-Hub, that fine-tunes.

`hub.KerasLayer` is a tf_keras layer: Keras 3 refuses it in Sequential/functional models, and
wrapped any other way its variables are invisible to the optimizer (tensorflow/hub#903, #920).
This layer loads the module with ``hub.load`` (so tfhub.dev/Kaggle handles, the
``$TFHUB_CACHE_DIR`` cache and local paths all work) and wraps every ``tf.Variable`` of the module
in a ``keras.Variable`` that shares its storage, so ``fit`` updates the module itself.

TensorFlow-only: ``tensorflow`` and ``tensorflow_hub`` are imported when a layer is built, never
when ``keras_transfer.backbones`` is imported.
"""

from __future__ import annotations

import inspect
import os
import re

import keras

from keras_transfer.api_export import export
from keras_transfer.backbones.hub_loading import load_module
from keras_transfer.safe_mode import check_safe_mode


def _module_variables(module) -> list:
    import tensorflow as tf  # TensorFlow-only module: imported when a layer is built

    found = getattr(module, "variables", None)
    if found is None:  # a SavedModel without the hub attributes: walk its object graph
        found = [v for v in tf.train.TrackableView(module).descendants() if isinstance(v, tf.Variable)]
    unique, seen = [], set()
    for v in found:
        if v.ref() not in seen:
            seen.add(v.ref())
            unique.append(v)
    return unique


def _takes_training(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "training" in params


def _clean_name(name: str) -> str:
    name = re.sub(r":\d+$", "", name)
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)


@export
class HubLayer(keras.layers.Layer):
    """A TF2 SavedModel (TF-Hub handle or folder) as a Keras 3 layer that trains.

    The module's variables become the layer's weights (``keras.Variable`` objects sharing the
    module's storage), so ``fit`` updates them when the layer is trainable and ``.keras`` files
    store them. The module is called as ``module(x, training=training and layer.trainable)`` when
    its ``__call__`` takes ``training`` (TF-Hub / tf_keras style: BatchNorm statistics update only
    while fine-tuning); otherwise ``module(x)``, or ``module.serve(x)`` for a Keras 3
    ``model.export()`` artifact, or ``module.signatures[signature](**inputs)`` when ``signature``
    is set. The module's ``regularization_losses`` are added while the layer is trainable.

    Supported: TF2 SavedModels with a callable root (TF-Hub TF2 models, tf_keras SavedModels,
    ``tf.saved_model.save`` of a ``tf.Module``), Keras 3 ``model.export()`` artifacts, and any
    SavedModel through a named ``signature``. Not supported: the TF1 Hub format
    (``tfhub_module.pb``; a clear error) and training-mode BatchNorm through signatures or
    ``serve`` endpoints (they are traced in inference mode).

    Args:
        handle: TF-Hub URL (resolved through ``$TFHUB_CACHE_DIR``) or local SavedModel folder.
        signature: name of a signature to call instead of ``__call__`` (e.g. ``"serving_default"``).
        output_key: key to pick from a dict output (signatures and BERT-style encoders); without
            it a one-key dict is unwrapped and a larger dict is returned whole (text preprocessors).
        frozen_variables: names (see ``variable_names``) of module variables kept frozen while
            the layer is trainable; ``set_variables_trainable`` changes them.

    Loading a `.keras` file that holds this layer loads the SavedModel again (the file holds the
    weights, not the graph), so it needs the opt-in Keras asks for with any layer that runs outside
    code: ``keras.saving.load_model(path, safe_mode=False)`` or
    ``keras.config.enable_unsafe_deserialization()``; under the default ``safe_mode=True`` it raises.

    Example:
        >>> import tempfile, numpy as np, tensorflow as tf, keras
        >>> from keras_transfer.backbones import HubLayer
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> path = tempfile.mkdtemp(); m.export(path, verbose=False)
        >>> layer = HubLayer(path)
        >>> model = keras.Sequential([keras.Input((4,)), layer, keras.layers.Dense(1)])
        >>> len(layer.trainable_weights)
        2
    """

    def __init__(
        self,
        handle: str,
        *,
        signature: str | None = None,
        output_key: str | None = None,
        frozen_variables: list[str] | None = None,
        **kwargs,
    ):
        # The module's functions were traced for float32: run in float32 under mixed precision too.
        kwargs["dtype"] = kwargs.get("dtype") or "float32"
        super().__init__(**kwargs)
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                "`HubLayer` loads TensorFlow SavedModels and needs the TensorFlow backend; "
                f"KERAS_BACKEND={keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow."
            )
        if not isinstance(handle, (str, os.PathLike)):
            raise TypeError(f"`handle` must be a URL or folder path string; received {handle!r}.")
        self.handle = os.fspath(handle)
        self.signature = signature
        self.output_key = output_key
        self._module = load_module(self.handle)
        self._fn, self._training_arg, self._input_name = self._pick_function()
        self._reg_losses = list(getattr(self._module, "regularization_losses", None) or [])
        variables = _module_variables(self._module)
        trainable = getattr(self._module, "trainable_variables", None)
        trainable_refs = {v.ref() for v in (trainable if trainable is not None else variables) if v.trainable}
        names, wrapped = [], []
        for v in variables:
            name = _clean_name(v.name)
            base, i = name, 1
            while name in names:
                name, i = f"{base}_{i}", i + 1
            names.append(name)
            learnable = v.ref() in trainable_refs and v.dtype.is_floating
            wrapped.append(keras.Variable(initializer=v, trainable=learnable, name=name))
        self._variable_names = names
        self._learnable = {n for n, w in zip(names, wrapped) if w.trainable}
        self._frozen = set()
        self.module_variables = wrapped  # tracked by Keras: these are the layer's weights
        self.set_variables_trainable(frozen_variables or [], False)
        self.built = True

    @property
    def trainable(self):
        return keras.layers.Layer.trainable.fget(self)

    @trainable.setter
    def trainable(self, value):
        # Keras' setter flips every variable it tracked as trainable, which would undo
        # variable-level freezing; re-derive each flag from layer, module and frozen set.
        keras.layers.Layer.trainable.fset(self, value)
        self._sync_flags()

    def _sync_flags(self):
        if getattr(self, "_frozen", None) is None:  # during Layer.__init__
            return
        on = keras.layers.Layer.trainable.fget(self)
        for name, v in zip(self._variable_names, self.module_variables):
            v.trainable = bool(on and name in self._learnable and name not in self._frozen)

    def _pick_function(self):
        module = self._module
        if self.signature is not None:
            signatures = dict(getattr(module, "signatures", {}) or {})
            if self.signature not in signatures:
                raise ValueError(
                    f"`signature`={self.signature!r} is not one of the module's signatures "
                    f"{sorted(signatures)} (handle={self.handle!r})."
                )
            fn = signatures[self.signature]
            inputs = fn.structured_input_signature[1]
            name = next(iter(inputs)) if len(inputs) == 1 else None
            return fn, False, name
        if callable(module):
            return module.__call__, _takes_training(module.__call__), None
        if hasattr(module, "serve"):  # Keras 3 model.export()
            return module.serve, False, None
        raise ValueError(
            f"The SavedModel at `handle`={self.handle!r} has no __call__ and no `serve` endpoint; "
            f"pass `signature`= one of {sorted(getattr(module, 'signatures', {}) or {})}."
        )

    @property
    def variable_names(self) -> list[str]:
        """Names of the module's variables, in module order (``':0'`` dropped, ``'/'`` -> ``'_'``)."""
        return list(self._variable_names)

    def set_variables_trainable(self, names, trainable: bool) -> list[str]:
        """Freeze (``trainable=False``) or unfreeze module variables by name or regex.

        Args:
            names: a regex string (``re.search`` on `variable_names`) or a list of exact names.
            trainable: the new flag. Variables the module marks non-trainable (BatchNorm
                statistics, counters) never become trainable. Recompile the model afterwards.

        Returns:
            The names whose flag was set.
        """
        if isinstance(names, str):
            regex = re.compile(names)
            chosen = [n for n in self._variable_names if regex.search(n)]
        else:
            unknown = [n for n in names if n not in self._variable_names]
            if unknown:
                raise ValueError(
                    f"`names` must be names from `variable_names`; unknown: {unknown[:5]} "
                    f"(the module has {self._variable_names[:5]}...)."
                )
            chosen = list(names)
        chosen = [n for n in chosen if n in self._learnable]
        if trainable:
            self._frozen.difference_update(chosen)
        else:
            self._frozen.update(chosen)
        self._sync_flags()
        return chosen

    @property
    def frozen_variables(self) -> list[str]:
        """Names of module variables frozen by `set_variables_trainable`, in module order."""
        return [n for n in self._variable_names if n in self._frozen]

    def call(self, inputs, training=False):
        run_training = bool(training) and self.trainable
        if self.signature is not None:
            kwargs = dict(inputs) if isinstance(inputs, dict) else {self._input_name: inputs}
            outputs = self._fn(**kwargs)
        elif self._training_arg:
            outputs = self._fn(inputs, training=run_training)
        else:
            outputs = self._fn(inputs)
        if self.trainable:
            for loss_fn in self._reg_losses:
                self.add_loss(loss_fn())
        if isinstance(outputs, dict):
            if self.output_key is None:  # a preprocessor's dict goes on whole; one key is unwrapped
                return next(iter(outputs.values())) if len(outputs) == 1 else dict(outputs)
            if self.output_key not in outputs:
                raise ValueError(
                    f"`output_key`={self.output_key!r} is not in the module's outputs {sorted(outputs)}."
                )
            return outputs[self.output_key]
        if self.output_key is not None:
            raise ValueError(
                f"`output_key`={self.output_key!r} was given but the module returns a single tensor."
            )
        return outputs

    def save_own_variables(self, store):
        # Module order, independent of which variables are frozen at the moment of saving.
        for i, v in enumerate(self.module_variables):
            store[f"{i}"] = v

    def load_own_variables(self, store):
        if len(store.keys()) != len(self.module_variables):
            raise ValueError(
                f"HubLayer {self.name!r}: the file holds {len(store.keys())} variables but "
                f"handle={self.handle!r} has {len(self.module_variables)}; the handle now points "
                "to a different model."
            )
        for i, v in enumerate(self.module_variables):
            v.assign(store[f"{i}"])

    def get_config(self):
        return {
            **super().get_config(),
            "handle": self.handle,
            "signature": self.signature,
            "output_key": self.output_key,
            "frozen_variables": self.frozen_variables,
        }

    @classmethod
    def from_config(cls, config):
        # Building the layer loads the SavedModel the config names and runs its graph on call: a
        # tampered .keras file could point it anywhere. Refused under safe_mode, like TFSMLayer.
        check_safe_mode(
            "HubLayer", f"loads the SavedModel handle={config.get('handle')!r} and runs its graph"
        )
        return cls(**config)
