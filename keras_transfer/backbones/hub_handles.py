"""Curated TF-Hub handles, registered as ``hub:<short name>`` backbones, and the ``hub:`` route.

``list_backbones("hub:*")`` lists them; ``get_backbone("hub:mobilenet_v2_100_224")`` builds a
`HubBackbone` (the handle must be downloadable or cached in ``$TFHUB_CACHE_DIR``), and
``get_backbone("hub:<any URL or SavedModel folder>")`` works through `hub_entry`.

Columns of `HUB_HANDLES`: handle, modality, input size (image side or text sequence length),
feature size, the variable-name regex for `HubBackbone.variable_groups`, the preprocessor handle
for text encoders, and the same model in KerasHub (``keras_hub.models.Backbone.from_preset``) and
in this registry's Keras Applications entries, where one exists. All image models take [0, 1]
RGB (``input_range=(0, 1)``, the `HubBackbone` default). Text encoders need ``tensorflow_text``
for their preprocessors and return the ``pooled_output`` by default.

Importing this module does not import TensorFlow Hub (`HubLayer` imports it when a layer is built).
"""

from __future__ import annotations

import os

from keras_transfer._validation import suggest
from keras_transfer.backbones.hub_backbone import HubBackbone, build_text_encoder
from keras_transfer.backbones.registry import BACKBONES, HUB_PREFIX, is_hub_name, register_backbone

_TFHUB = "https://tfhub.dev/"
_BERT_PRE = _TFHUB + "tensorflow/bert_en_uncased_preprocess/3"

# short name: (handle, modality, input size, features, variable pattern, preprocessor, keras_hub, keras app)
HUB_HANDLES: dict[str, tuple] = {
    "mobilenet_v2_100_224": (
        _TFHUB + "google/imagenet/mobilenet_v2_100_224/feature_vector/5",
        "image",
        224,
        1280,
        r"(expanded_conv(?:_\d+)?)_",
        None,
        None,
        "mobilenet_v2",
    ),
    "mobilenet_v2_140_224": (
        _TFHUB + "google/imagenet/mobilenet_v2_140_224/feature_vector/5",
        "image",
        224,
        1792,
        r"(expanded_conv(?:_\d+)?)_",
        None,
        None,
        None,
    ),
    "mobilenet_v3_small_100_224": (
        _TFHUB + "google/imagenet/mobilenet_v3_small_100_224/feature_vector/5",
        "image",
        224,
        1024,
        r"(expanded_conv(?:_\d+)?)_",
        None,
        "mobilenet_v3_small_100_imagenet",
        "mobilenet_v3_small",
    ),
    "mobilenet_v3_large_100_224": (
        _TFHUB + "google/imagenet/mobilenet_v3_large_100_224/feature_vector/5",
        "image",
        224,
        1280,
        r"(expanded_conv(?:_\d+)?)_",
        None,
        "mobilenet_v3_large_100_imagenet",
        "mobilenet_v3_large",
    ),
    "efficientnet_b0": (
        _TFHUB + "tensorflow/efficientnet/b0/feature-vector/1",
        "image",
        224,
        1280,
        r"(blocks_\d+)_",
        None,
        "efficientnet_b0_ra_imagenet",
        "efficientnet_b0",
    ),
    "efficientnet_b3": (
        _TFHUB + "tensorflow/efficientnet/b3/feature-vector/1",
        "image",
        300,
        1536,
        r"(blocks_\d+)_",
        None,
        None,
        "efficientnet_b3",
    ),
    "efficientnet_v2_b0": (
        _TFHUB + "google/imagenet/efficientnet_v2_imagenet1k_b0/feature_vector/2",
        "image",
        224,
        1280,
        r"(blocks_\d+)_",
        None,
        None,
        "efficientnet_v2_b0",
    ),
    "efficientnet_v2_s_21k": (
        _TFHUB + "google/imagenet/efficientnet_v2_imagenet21k_ft1k_s/feature_vector/2",
        "image",
        384,
        1280,
        r"(blocks_\d+)_",
        None,
        None,
        None,
    ),
    "resnet_50": (
        _TFHUB + "tensorflow/resnet_50/feature_vector/1",
        "image",
        224,
        2048,
        r"(conv\d_block\d+)_",
        None,
        "resnet_50_imagenet",
        "resnet50",
    ),
    "resnet_v2_50": (
        _TFHUB + "google/imagenet/resnet_v2_50/feature_vector/5",
        "image",
        224,
        2048,
        r"(block\d+_unit_\d+)_",
        None,
        "resnet_v2_50_imagenet",
        "resnet50_v2",
    ),
    "bit_m_r50x1": (
        _TFHUB + "google/bit/m-r50x1/1",
        "image",
        224,
        2048,
        r"(block\d+_unit\d+)_",
        None,
        None,
        None,
    ),
    "inception_v3": (
        _TFHUB + "google/imagenet/inception_v3/feature_vector/5",
        "image",
        299,
        2048,
        r"(Mixed_\d+[a-z])_",
        None,
        None,
        "inception_v3",
    ),
    "bert_en_uncased_L-12_H-768_A-12": (
        _TFHUB + "tensorflow/bert_en_uncased_L-12_H-768_A-12/4",
        "text",
        128,
        768,
        r"(transformer_layer_\d+)_",
        _BERT_PRE,
        "bert_base_en_uncased",
        None,
    ),
    "small_bert_L-4_H-512_A-8": (
        _TFHUB + "tensorflow/small_bert/bert_en_uncased_L-4_H-512_A-8/2",
        "text",
        128,
        512,
        r"(transformer_layer_\d+)_",
        _BERT_PRE,
        "bert_small_en_uncased",
        None,
    ),
    "small_bert_L-2_H-128_A-2": (
        _TFHUB + "tensorflow/small_bert/bert_en_uncased_L-2_H-128_A-2/2",
        "text",
        128,
        128,
        r"(transformer_layer_\d+)_",
        _BERT_PRE,
        "bert_tiny_en_uncased",
        None,
    ),
    "electra_small": (
        _TFHUB + "google/electra_small/2",
        "text",
        128,
        256,
        r"(transformer_layer_\d+)_",
        _BERT_PRE,
        "electra_small_discriminator_uncased_en",
        None,
    ),
    "albert_en_base": (
        _TFHUB + "tensorflow/albert_en_base/3",
        "text",
        128,
        768,
        r"(transformer)_",
        _TFHUB + "tensorflow/albert_en_preprocess/3",
        "albert_base_en_uncased",
        None,
    ),
}


def _not_a_base(name):
    def builder(input_shape, weights):
        raise ValueError(
            f"backbone={name!r} is a TF-Hub model: build it with get_backbone({name!r}) or "
            "keras_transfer.backbones.HubBackbone, not build_base."
        )

    return builder


def _image_maker(name, handle, size, pattern):
    def make_backbone(input_shape=None, weights=None, pooling="avg", trainable=True, **kwargs):
        if input_shape is not None and (len(tuple(input_shape)) != 3 or tuple(input_shape)[-1] not in (1, 3)):
            raise ValueError(
                f"`input_shape` must be (height, width, 1 or 3); received input_shape={input_shape!r}."
            )
        input_size = tuple(input_shape)[:2] if input_shape is not None else (size, size)
        kwargs.setdefault("variable_pattern", pattern)
        short = name[len(HUB_PREFIX) :]
        kwargs.setdefault("name", f"hub_{short}_backbone" if short in HUB_HANDLES else "hub_backbone")
        path = None
        if weights not in (None, "imagenet", "hub"):
            path = os.fspath(weights)
            if not os.path.exists(path):
                raise FileNotFoundError(
                    f"`weights`={path!r} does not exist. For a TF-Hub backbone pass None/'hub' (the "
                    "module's own weights) or the path of a .weights.h5 saved from this backbone."
                )
        backbone = HubBackbone(handle, input_size=input_size, pooling=pooling, backbone=name, **kwargs)
        if path is not None:
            backbone.load_weights(path)
        backbone.trainable = trainable
        return backbone

    return make_backbone


def _text_maker(name, handle, preprocessor):
    def make_backbone(input_shape=None, weights=None, pooling="avg", trainable=True, **kwargs):
        """A text encoder is a strings-in `keras.Model` (see `build_text_encoder`), not a `Backbone`."""
        kwargs.setdefault("name", "hub_text_encoder")
        return build_text_encoder(handle, preprocessor, trainable=trainable, **kwargs)

    return make_backbone


def hub_entry(name: str) -> dict:
    """The registry entry for ``name = "hub:<short name>"`` or ``"hub:<URL or SavedModel folder>"``.

    `factory.get_backbone` calls this for ``hub:`` names that are not registered.

    Example:
        >>> from keras_transfer.backbones.hub_handles import hub_entry
        >>> hub_entry("hub:https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5")["family"]
        'hub'
    """
    if not is_hub_name(name):
        raise ValueError(f"`name` must start with 'hub:'; received name={name!r}.")
    if name in BACKBONES:
        return BACKBONES[name]
    handle = name[len(HUB_PREFIX) :]
    if not handle:
        raise ValueError(
            "`name` must be 'hub:<short name>', 'hub:<URL>' or 'hub:<SavedModel folder>'; received 'hub:'."
        )
    if not handle.startswith(("http://", "https://", "gs://")) and not os.path.exists(handle):
        curated = [f"hub:{short}" for short in HUB_HANDLES]
        raise ValueError(
            f"`backbone` must be 'hub:<short name>' with a name from list_backbones('hub:*'), "
            f"'hub:<URL>' or 'hub:<SavedModel folder>'; received backbone={name!r}, which is none "
            "of these." + suggest(name, curated)
        )
    return _entry(name, handle, "image", 224, None, None, None, None)


def _entry(name, handle, modality, size, features, pattern, preprocessor, keras_hub, keras_app=None):
    maker = (
        _image_maker(name, handle, size, pattern)
        if modality == "image"
        else _text_maker(name, handle, preprocessor)
    )
    return {
        "builder": _not_a_base(name),
        "make_backbone": maker,
        "family": "hub",
        "modality": modality,
        "handle": handle,
        "preprocessor": preprocessor,
        "preprocessing": "none",
        "num_features": features,
        "input_size": (size, size) if modality == "image" else (size,),
        "min_size": 1,
        "block_pattern": r"^(hub_module)$",
        "block_anchor": "start",
        "variable_pattern": pattern,
        "keras_hub": keras_hub,
        "keras_applications": keras_app,
    }


for _short, _row in HUB_HANDLES.items():
    if f"hub:{_short}" not in BACKBONES:
        register_backbone(f"hub:{_short}", _entry(f"hub:{_short}", *_row))
