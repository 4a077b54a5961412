"""`HubBackbone`: a TF-Hub / SavedModel image model as a `Backbone` that fine-tunes under Keras 3.

The base model is a small functional model ``image -> rescaling -> hub_module`` (a `HubLayer`), so
the layer-group machinery of `Backbone` works with three groups:

    stem    ["image", "rescaling"]   the input and the [0, 255] -> ``input_range`` rescaling
    module  ["hub_module"]           the whole SavedModel (freeze / unfreeze it as one layer)
    top     []                       nothing after the module

A SavedModel has no layer list, so finer control goes through its *variable names*:
``variable_pattern`` (a regex whose first group names a block, e.g. ``r"(expanded_conv_\\d+)"``
for TF-Hub MobileNet V2) groups the module's variables into `variable_groups`, and
`set_variable_groups_trainable` freezes or unfreezes them. Both flags survive `.keras` files.
"""

from __future__ import annotations

import math
import numbers
import os
import re

import keras
import numpy as np

from keras_transfer._validation import ArgumentTypeError, check_image_size
from keras_transfer.api_export import export
from keras_transfer.backbones.backbone import POOLING, Backbone
from keras_transfer.backbones.hub_layer import HubLayer
from keras_transfer.safe_mode import check_safe_mode

HUB_LAYER_NAME = "hub_module"


def build_hub_base(
    handle,
    input_size=(224, 224),
    input_range=(0.0, 1.0),
    signature=None,
    output_key=None,
    frozen_variables=None,
) -> keras.Model:
    """The functional base of a `HubBackbone`: ``image -> rescaling -> hub_module``.

    Example:
        >>> import tempfile, keras
        >>> from keras_transfer.backbones.hub_backbone import build_hub_base
        >>> net = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D()])
        >>> path = tempfile.mkdtemp(); net.export(path, verbose=False)
        >>> [layer.name for layer in build_hub_base(path, (32, 32)).layers]
        ['image', 'rescaling', 'hub_module']
    """
    image = keras.Input((*input_size, 3), name="image")
    if input_range is None:
        x = keras.layers.Identity(name="rescaling")(image)
    else:
        low, high = float(input_range[0]), float(input_range[1])
        x = keras.layers.Rescaling((high - low) / 255.0, offset=low, name="rescaling")(image)
    layer = HubLayer(
        handle,
        signature=signature,
        output_key=output_key,
        frozen_variables=frozen_variables,
        name=HUB_LAYER_NAME,
    )
    return keras.Model(image, layer(x), name="hub_base")


def _natural_key(text):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


@export
class HubBackbone(Backbone):
    """A TF2 SavedModel image model (TF-Hub handle, Keras ``model.export()`` artifact or
    tf_keras-style SavedModel) as a trainable `Backbone`.

    Raw [0, 255] images of any size and 1 or 3 channels go in: they are resized to
    ``input_size``, rescaled linearly to ``input_range`` (TF-Hub image models expect [0, 1]) and
    passed through the module. A feature-vector module (2-D output) is already pooled and
    ``pooling`` is ignored; a feature-map module (4-D output) is pooled as usual.

    Trainability: ``backbone.trainable = False`` (or ``group_layers("module")``) freezes the whole
    module, and then BatchNorm runs in inference mode (the module is called with
    ``training=False``). `set_variable_groups_trainable` freezes parts of it by variable name.
    Recompile after changing either.

    Args:
        handle: TF-Hub URL (cached in ``$TFHUB_CACHE_DIR``) or SavedModel folder. Stored in the
            config: loading a `.keras` file resolves it again (the weights come from the file),
            which needs ``keras.saving.load_model(path, safe_mode=False)`` or
            ``keras.config.enable_unsafe_deserialization()``: the module's graph is outside code.
        input_size: ``(height, width)`` the module is fed.
        input_range: ``(low, high)`` the [0, 255] pixels are mapped to, or ``None`` to pass them
            unchanged (then use ``preprocessing``).
        signature: call this signature instead of ``__call__`` (inference-mode BatchNorm).
        output_key: key of a dict output to use.
        pooling: ``"avg"``, ``"max"`` or ``None``; used only when the module returns feature maps.
        preprocessing: a `FamilyPreprocessing` mode applied before ``input_range`` rescaling.
        variable_pattern: regex on variable names whose first group names a block, used by
            `variable_groups`.
        frozen_variables: module variable names to keep frozen (set by
            `set_variable_groups_trainable`; round-trips through the config).
        backbone: registry name (``"hub:..."``) this was built from, informational.
        frozen_layers: positions (or names) of base layers to freeze: ``[2]`` or
            ``["hub_module"]`` freezes the module.

    Example:
        >>> import tempfile, numpy as np, keras
        >>> from keras_transfer.backbones import HubBackbone
        >>> net = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3),
        ...                         keras.layers.GlobalAveragePooling2D()])
        >>> path = tempfile.mkdtemp(); net.export(path, verbose=False)
        >>> bb = HubBackbone(path, input_size=(32, 32))
        >>> bb(np.zeros((2, 40, 40, 1), "uint8")).shape, bb.block_names
        (TensorShape([2, 4]), ['stem', 'module', 'top'])
    """

    def __init__(
        self,
        handle: str | os.PathLike | None = None,
        *,
        input_size=(224, 224),
        input_range=(0.0, 1.0),
        signature: str | None = None,
        output_key: str | None = None,
        pooling: str | None = "avg",
        preprocessing: str = "none",
        variable_pattern: str | None = None,
        frozen_variables: list[str] | None = None,
        backbone: str | None = None,
        frozen_layers: list[int | str] | None = None,
        weights_source: str | None = None,
        **kwargs,
    ):
        if not isinstance(handle, (str, os.PathLike)) or not os.fspath(handle):
            raise ArgumentTypeError(
                "`handle` must be a TF-Hub URL or a SavedModel folder (a non-empty str or path); received "
                f"handle={handle!r} of type {type(handle).__name__}."
            )
        if pooling not in POOLING:
            raise ValueError(f"`pooling` must be one of {POOLING}; received pooling={pooling!r}.")
        size = check_image_size(input_size, "input_size")  # an int means a square input
        if size is None:
            raise ValueError(
                "`input_size` must be (height, width) of positive ints or one int; received None."
            )
        if input_range is not None:
            ok = isinstance(input_range, (tuple, list)) and len(input_range) == 2
            ok = ok and all(
                isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)
                for v in input_range
            )
            if not ok or input_range[0] >= input_range[1]:
                raise ValueError(
                    "`input_range` must be (low, high) of finite numbers with low < high, or None; "
                    f"received {input_range!r}."
                )
        if variable_pattern is not None:
            if not isinstance(variable_pattern, str):
                raise ArgumentTypeError(
                    f"`variable_pattern` must be a regular expression (str) or None; received {type(variable_pattern).__name__}."
                )
            try:
                re.compile(variable_pattern)
            except re.error as exc:
                raise ValueError(
                    f"`variable_pattern` is not a valid regular expression ({exc}); received variable_pattern={variable_pattern!r}."
                ) from None
        handle = os.fspath(handle)
        base = build_hub_base(handle, size, input_range, signature, output_key, frozen_variables)
        rank = len(base.output_shape)
        if rank not in (2, 4):
            raise ValueError(
                f"The module at `handle`={handle!r} returns shape {base.output_shape}; a backbone needs "
                "(batch, features) or (batch, h, w, channels). Pick another `output_key`/`signature`."
            )
        kwargs.setdefault("name", "hub_backbone")
        super().__init__(
            base,
            backbone=backbone,
            preprocessing=preprocessing,
            block_groups={"stem": ["image", "rescaling"], "module": [HUB_LAYER_NAME], "top": []},
            pooling=pooling if rank == 4 else None,
            weights_source=weights_source or handle,
            frozen_layers=frozen_layers,
            **kwargs,
        )
        self.pooling = pooling
        self.handle = handle
        self.input_range = None if input_range is None else (float(input_range[0]), float(input_range[1]))
        self.signature = signature
        self.output_key = output_key
        self.variable_pattern = variable_pattern

    @property
    def hub_layer(self) -> HubLayer:
        """The `HubLayer` holding the module."""
        return self.base.get_layer(HUB_LAYER_NAME)

    @property
    def variable_groups(self) -> dict[str, list[str]]:
        """``{block: [variable names]}`` from ``variable_pattern`` (natural order of block names).

        Variables that do not match go to ``"other"`` (last). Without a pattern: ``{"all": [...]}``.
        """
        names = self.hub_layer.variable_names
        if self.variable_pattern is None:
            return {"all": names}
        regex = re.compile(self.variable_pattern)
        groups: dict[str, list[str]] = {}
        other = []
        for name in names:
            match = regex.search(name)
            if match:
                groups.setdefault(match.group(1) if regex.groups else match.group(0), []).append(name)
            else:
                other.append(name)
        ordered = {key: groups[key] for key in sorted(groups, key=_natural_key)}
        if other:
            ordered["other"] = other
        return ordered

    def set_variable_groups_trainable(self, groups, trainable: bool) -> list[str]:
        """Freeze or unfreeze the module variables of ``groups`` (names from `variable_groups`).

        Returns:
            The variable names whose flag was set. Recompile the model afterwards.
        """
        groups = [groups] if isinstance(groups, str) else list(groups)
        table = self.variable_groups
        unknown = [g for g in groups if g not in table]
        if unknown:
            raise ValueError(
                f"`groups` must be names from variable_groups {list(table)}; received {unknown}."
            )
        names = [n for g in groups for n in table[g]]
        return self.hub_layer.set_variables_trainable(names, trainable)

    def get_config(self):
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
            "handle": self.handle,
            "input_size": list(self.input_size),
            "input_range": None if self.input_range is None else list(self.input_range),
            "signature": self.signature,
            "output_key": self.output_key,
            "pooling": self.pooling,
            "preprocessing": self.preprocessing,
            "variable_pattern": self.variable_pattern,
            "frozen_variables": self.hub_layer.frozen_variables,
            "backbone": self.backbone,
            "frozen_layers": [i for i, layer in enumerate(self.base.layers) if not layer.trainable],
            "weights_source": self.weights_source,
        }
        return config

    @classmethod
    def from_config(cls, config):
        # The constructor loads the SavedModel the config names (see HubLayer.from_config).
        check_safe_mode(
            "HubBackbone", f"loads the SavedModel handle={config.get('handle')!r} and runs its graph"
        )
        return cls(**config)


def build_text_encoder(
    encoder: str,
    preprocessor: str | None = None,
    *,
    output_key: str = "pooled_output",
    trainable: bool = True,
    name: str = "hub_text_encoder",
) -> keras.Model:
    """A TF-Hub text encoder (BERT family) as a functional Keras model: strings in, features out.

    ``text (string) -> preprocessor (frozen HubLayer) -> encoder (HubLayer, output_key)``. It is a
    plain `keras.Model`, not a `Backbone` (which takes images): freeze the encoder with
    ``model.get_layer("encoder").trainable = False`` or by variable name with
    ``model.get_layer("encoder").set_variables_trainable(r"transformer_layer_[0-5]_", False)``.
    TF-Hub's BERT preprocessors need ``pip install tensorflow-text`` (imported before loading).

    Args:
        encoder: TF-Hub handle or folder of the encoder (takes the preprocessor's dict).
        preprocessor: handle of its preprocessor, or ``None`` if the encoder takes strings.
        output_key: encoder output to return (``"pooled_output"``, ``"sequence_output"``, ...).
        trainable: whether the encoder fine-tunes.
        name: model name.

    Example:
        >>> from keras_transfer.backbones.hub_backbone import build_text_encoder
        >>> model = build_text_encoder(  # doctest: +SKIP
        ...     "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-2_H-128_A-2/2",
        ...     "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3")
        >>> model(["transfer learning"]).shape  # doctest: +SKIP
        TensorShape([1, 128])
    """
    if preprocessor is not None:
        try:  # registers the ops TF-Hub's BERT preprocessors are made of
            import tensorflow_text  # noqa: F401
        except ImportError:
            pass  # custom preprocessors may not need it; loading then says which op is missing
    text = keras.Input(shape=(), dtype="string", name="text")
    x = text
    if preprocessor is not None:
        x = HubLayer(preprocessor, trainable=False, name="preprocessor")(x)
    features = HubLayer(encoder, output_key=output_key, trainable=trainable, name="encoder")(x)
    return keras.Model(text, features, name=name)
