"""Task models built on a feature extractor: the transfer classifier and domain adaptation
(adversarial, conditional adversarial, discrepancy, target-regularized, self-training)."""

from keras_transfer.models._two_domain_model import TwoDomainModel, TwoDomainOutputs, TwoDomainStep
from keras_transfer.models.adaptation_methods import (
    ADAPTATION_METHODS,
    AdaptationMethod,
    register_adaptation_method,
)
from keras_transfer.models.cdan import CDAN
from keras_transfer.models.dann import DANN
from keras_transfer.models.dann_self_training import DANNSelfTraining
from keras_transfer.models.discrepancy_model import DiscrepancyModel
from keras_transfer.models.lenet import digit_views, lenet_networks
from keras_transfer.models.self_training import SelfTraining
from keras_transfer.models.shot import SHOT
from keras_transfer.models.target_regularized_model import TargetRegularizedModel
from keras_transfer.models.tent import TENT, adapt_at_test_time
from keras_transfer.models.transfer_classifier import TransferClassifier

__all__ = [
    "ADAPTATION_METHODS",
    "AdaptationMethod",
    "CDAN",
    "DANN",
    "DANNSelfTraining",
    "DiscrepancyModel",
    "SHOT",
    "SelfTraining",
    "TENT",
    "TargetRegularizedModel",
    "TransferClassifier",
    "TwoDomainModel",
    "TwoDomainOutputs",
    "TwoDomainStep",
    "adapt_at_test_time",
    "digit_views",
    "lenet_networks",
    "register_adaptation_method",
]
