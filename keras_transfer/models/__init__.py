"""Task models built on a feature extractor: domain-adversarial and discrepancy-based adaptation."""

from keras_transfer.models.dann import DANN
from keras_transfer.models.discrepancy_model import DiscrepancyModel
from keras_transfer.models.transfer_classifier import TransferClassifier

__all__ = ["DANN", "DiscrepancyModel", "TransferClassifier"]
