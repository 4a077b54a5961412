"""Backbones: every Keras Applications family, EfficientNet-Lite and TF-Hub behind one interface."""

from keras_transfer.backbones.backbone import Backbone
from keras_transfer.backbones.factory import DEFAULT_BACKBONE, build_base, get_backbone
from keras_transfer.backbones.hub_backbone import HubBackbone
from keras_transfer.backbones.hub_layer import HubHandleUnavailableError, HubLayer
from keras_transfer.backbones.registry import BACKBONES, list_backbones, register_backbone
from keras_transfer.backbones.weights import WeightsUnavailableError, keras_cache_dir

__all__ = [
    "BACKBONES",
    "Backbone",
    "DEFAULT_BACKBONE",
    "HubBackbone",
    "HubHandleUnavailableError",
    "HubLayer",
    "WeightsUnavailableError",
    "build_base",
    "get_backbone",
    "keras_cache_dir",
    "list_backbones",
    "register_backbone",
]
