"""Domain adaptation tools: discrepancy and target losses, CDAN conditioning, AdaBN, unsupervised
model selection, shift diagnostics, a collapse check."""

from keras_transfer.adaptation.batch_norm import adapt_batch_norm, batch_norm_statistics
from keras_transfer.adaptation.collapse import (
    CollapseReport,
    CollapseWarning,
    check_collapse,
    warn_if_collapsed,
)
from keras_transfer.adaptation.conditional import (
    entropy_conditioning_weights,
    multilinear_map,
    randomized_multilinear_map,
)
from keras_transfer.adaptation.coral import CORALLoss, coral
from keras_transfer.adaptation.diagnostics import embed_domains, proxy_a_distance
from keras_transfer.adaptation.entropy import EntropyLoss, entropy
from keras_transfer.adaptation.mcc import MinimumClassConfusionLoss, mcc_loss
from keras_transfer.adaptation.mmd import MMDLoss, mmd
from keras_transfer.adaptation.model_selection import (
    HIGHER_IS_BETTER,
    batch_nuclear_norm,
    class_ami,
    deep_embedded_validation,
    information_maximization_score,
    mix_validation,
    prediction_entropy,
    reverse_validation,
    soft_neighborhood_density,
    wilson_interval,
)
from keras_transfer.adaptation.source_free import centroid_pseudo_labels, information_maximization

__all__ = [
    "CORALLoss",
    "CollapseReport",
    "CollapseWarning",
    "EntropyLoss",
    "HIGHER_IS_BETTER",
    "MMDLoss",
    "MinimumClassConfusionLoss",
    "adapt_batch_norm",
    "batch_norm_statistics",
    "batch_nuclear_norm",
    "centroid_pseudo_labels",
    "check_collapse",
    "class_ami",
    "coral",
    "deep_embedded_validation",
    "embed_domains",
    "entropy",
    "entropy_conditioning_weights",
    "information_maximization",
    "information_maximization_score",
    "mcc_loss",
    "mix_validation",
    "mmd",
    "multilinear_map",
    "prediction_entropy",
    "proxy_a_distance",
    "randomized_multilinear_map",
    "reverse_validation",
    "soft_neighborhood_density",
    "warn_if_collapsed",
    "wilson_interval",
]
