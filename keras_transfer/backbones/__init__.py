"""Backbones: every Keras Applications family, EfficientNet-Lite and TF-Hub behind one interface.

Importing this package fills the registry: `registry` holds the Keras Applications entries,
importing `efficientnet_lite` adds ``efficientnet_lite0``-``4`` and importing `hub_handles` (through
`factory`) adds the curated ``hub:`` handles.
"""

from keras_transfer.backbones import efficientnet_lite  # noqa: F401  (registers its entries)
from keras_transfer.backbones.backbone import Backbone
from keras_transfer.backbones.bases import build_base
from keras_transfer.backbones.batch_norm_folding import FoldedBatchNormalization, fold_batch_norm
from keras_transfer.backbones.factory import (
    DEFAULT_BACKBONE,
    HANDLE_PREFIXES,
    check_backbone_name,
    get_backbone,
)
from keras_transfer.backbones.hub_backbone import HubBackbone
from keras_transfer.backbones.hub_layer import HubLayer
from keras_transfer.backbones.hub_loading import HubHandleUnavailableError
from keras_transfer.backbones.keras_hub_backbone import KerasHubBackbone
from keras_transfer.backbones.registry import BACKBONES, list_backbones, register_backbone
from keras_transfer.backbones.text_backbone import TextBackbone
from keras_transfer.backbones.text_loading import hub_text_backbone, load_text_backbone
from keras_transfer.backbones.weights import WeightsUnavailableError, keras_cache_dir

__all__ = [
    "BACKBONES",
    "Backbone",
    "DEFAULT_BACKBONE",
    "FoldedBatchNormalization",
    "HANDLE_PREFIXES",
    "HubBackbone",
    "HubHandleUnavailableError",
    "HubLayer",
    "KerasHubBackbone",
    "TextBackbone",
    "WeightsUnavailableError",
    "build_base",
    "check_backbone_name",
    "fold_batch_norm",
    "get_backbone",
    "hub_text_backbone",
    "keras_cache_dir",
    "load_text_backbone",
    "list_backbones",
    "register_backbone",
]
