"""Domain adaptation tools: discrepancy losses, unsupervised model selection, shift diagnostics."""

from keras_transfer.adaptation.coral import CORALLoss, coral
from keras_transfer.adaptation.diagnostics import embed_domains, proxy_a_distance
from keras_transfer.adaptation.mmd import MMDLoss, mmd
from keras_transfer.adaptation.model_selection import (
    HIGHER_IS_BETTER,
    deep_embedded_validation,
    prediction_entropy,
    reverse_validation,
    soft_neighborhood_density,
)

__all__ = [
    "CORALLoss",
    "HIGHER_IS_BETTER",
    "MMDLoss",
    "coral",
    "deep_embedded_validation",
    "embed_domains",
    "mmd",
    "prediction_entropy",
    "proxy_a_distance",
    "reverse_validation",
    "soft_neighborhood_density",
]
