"""`Backbone`: raw images in, fused preprocessing, pooled features out, named block groups."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import check_images, check_pixel_range, suggest
from keras_transfer.api_export import export
from keras_transfer.backbones.bases import build_base
from keras_transfer.layers.family_preprocessing import FamilyPreprocessing

POOLING = ("avg", "max", None)


@export
class Backbone(keras.Model):
    """A pretrained feature extractor that takes raw images and returns features.

    The call resizes images of any size to ``input_size``, turns 1-channel images into RGB, applies
    the family's preprocessing (``FamilyPreprocessing``) and the base model, then pools. Use
    `keras_transfer.backbones.get_backbone` for registry models; wrap your own Keras model with
    ``Backbone(model, block_groups=..., preprocessing=...)``.

    Args:
        model: a Keras model mapping preprocessed images ``(H, W, 3)`` to feature maps
            ``(h, w, C)``. Required unless ``backbone`` names a registry entry.
        backbone: registry name used to rebuild the architecture in ``from_config``
            (set by ``get_backbone``); ``None`` for user models, which are serialized whole.
        preprocessing: a `FamilyPreprocessing` mode for raw [0, 255] pixels.
        block_groups: ordered ``{group name: [layer names of model]}``; computed by
            ``get_backbone`` for registry models.
        pooling: ``"avg"``, ``"max"`` or ``None`` (feature maps out).
        weights_source: where the weights came from (informational, kept in the config).
        frozen_layers: positions in ``model.layers`` of layers to set ``trainable=False`` (so the
            trainable state that policies set survives save/load; positions, because
            auto-numbered layer names differ between sessions). Layer names are accepted too.

    Attributes:
        num_features: channels of the output features.
        input_size: the ``(height, width)`` images are resized to.
        block_names: group names, bottom to top.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.backbones import get_backbone
        >>> bb = get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=None)
        >>> tuple(bb(np.zeros((2, 48, 48, 1), "uint8")).shape)  # any size, grayscale is fine
        (2, 576)
    """

    def __init__(
        self,
        model: keras.Model | None = None,
        *,
        backbone: str | None = None,
        preprocessing: str = "none",
        block_groups: dict[str, list[str]] | None = None,
        pooling: str | None = "avg",
        weights_source: str | None = None,
        frozen_layers: list[int | str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if model is None:
            raise ValueError("`model` must be a Keras model of feature maps; received model=None.")
        if not isinstance(model, keras.Model):
            raise TypeError(f"`model` must be a keras.Model; received {type(model).__name__}.")
        if pooling not in POOLING:
            raise ValueError(f"`pooling` must be one of {POOLING}; received pooling={pooling!r}.")
        shape = tuple(model.input_shape)
        if len(shape) != 4 or shape[-1] != 3:
            raise ValueError(
                f"`model` must take images of shape (batch, height, width, 3); its input_shape={shape}."
            )
        self.base = model
        self.backbone = backbone
        self.preprocessing = preprocessing
        self.preprocess = FamilyPreprocessing(preprocessing, name="preprocessing")
        self.pooling = pooling
        self.weights_source = weights_source
        self.input_size = (shape[1], shape[2])
        self.num_features = int(model.output_shape[-1])
        names = [layer.name for layer in model.layers]
        self.block_groups = _check_groups(block_groups or {"all": names}, names)
        if pooling == "avg":
            self.pool = keras.layers.GlobalAveragePooling2D(name="avg_pool")
        elif pooling == "max":
            self.pool = keras.layers.GlobalMaxPooling2D(name="max_pool")
        else:
            self.pool = None
        for item in frozen_layers or []:
            layer = self.base.get_layer(item) if isinstance(item, str) else self.base.layers[int(item)]
            layer.trainable = False

    @property
    def block_names(self) -> list[str]:
        return list(self.block_groups)

    def group_layers(self, group: str) -> list[keras.layers.Layer]:
        """The layers of block group ``group`` (bottom to top)."""
        if group not in self.block_groups:
            raise ValueError(
                f"`group` must be one of {self.block_names}; received group={group!r}."
                + suggest(group, self.block_names)
            )
        return [self.base.get_layer(n) for n in self.block_groups[group]]

    def __call__(self, inputs, *args, **kwargs):
        # Concrete numpy batches are checked here, where the user handed them over: NaN/inf,
        # complex, empty or mis-shaped images raise an error naming `inputs`, and pixels that do
        # not look like raw 0-255 images warn. (Tensors inside `fit`/`predict` are not checked:
        # the models check their numpy inputs before training or predicting.)
        if isinstance(inputs, np.ndarray):
            check_images(inputs, "inputs")
            check_pixel_range(inputs, "inputs")
        return super().__call__(inputs, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        # The same checks as a call, for a numpy batch handed to predict (Keras would run NaN
        # through, and an empty batch fails inside Keras' predict loop).
        if isinstance(x, np.ndarray):
            check_images(x, "x")
            check_pixel_range(x, "x")
        return super().predict(x, *args, **kwargs)

    def call(self, inputs, training=False):
        x = inputs
        channels = x.shape[-1]
        if len(x.shape) != 4 or channels not in (1, 3):
            raise ValueError(
                f"`inputs` to backbone {self.name!r} must be images of shape (batch, height, width, "
                f"1 or 3); received shape={tuple(x.shape)}."
            )
        x = ops.cast(x, "float32")
        if channels == 1:
            x = ops.repeat(x, 3, axis=-1)
        if tuple(x.shape[1:3]) != tuple(self.input_size):
            x = ops.image.resize(x, self.input_size, interpolation="bilinear")
        x = self.preprocess(x)
        x = self.base(x, training=training)
        if self.pool is not None:
            x = self.pool(x)
        return x

    def compute_output_shape(self, input_shape):
        if self.pool is not None:
            return (input_shape[0], self.num_features)
        return (input_shape[0], *self.base.output_shape[1:])

    def get_config(self):
        config = {
            **super().get_config(),
            "backbone": self.backbone,
            "preprocessing": self.preprocessing,
            "pooling": self.pooling,
            "weights_source": self.weights_source,
            "frozen_layers": [i for i, layer in enumerate(self.base.layers) if not layer.trainable],
            "input_size": list(self.input_size),
        }
        if self.backbone is None:
            config["model"] = keras.saving.serialize_keras_object(self.base)
            config["block_groups"] = self.block_groups
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        input_size = config.pop("input_size", None)
        if config.get("backbone") is not None:
            name = config["backbone"]
            input_shape = (*input_size, 3) if input_size else None
            model, groups = build_base(name, input_shape=input_shape, weights=None)
            config.setdefault("block_groups", groups)
        else:
            model = keras.saving.deserialize_keras_object(config.pop("model"))
        return cls(model, **config)

    def summary_groups(self) -> str:
        """One line per block group: name, number of layers, number of parameters."""
        rows = []
        for group in self.block_names:
            layers = self.group_layers(group)
            params = sum(int(ops.size(w)) for layer in layers for w in layer.weights)
            rows.append(f"{group:<28} {len(layers):>5} layers {params:>12,} params")
        return "\n".join(rows)


def _check_groups(groups: dict, names: list[str]) -> dict[str, list[str]]:
    known = set(names)
    out = {}
    for group, members in groups.items():
        unknown = [m for m in members if m not in known]
        if unknown:
            raise ValueError(
                f"`block_groups[{group!r}]` names layers that are not in the model: {unknown[:5]}."
            )
        out[str(group)] = list(members)
    return out
