"""The small convolutional networks of the DANN paper's MNIST experiments."""

from __future__ import annotations

import keras
from keras import layers

from keras_transfer._validation import check_bool, check_int


def lenet_networks(
    input_shape: tuple[int, int, int] = (28, 28, 3),
    num_classes: int = 10,
    *,
    batch_norm: bool = True,
) -> tuple[keras.Sequential, keras.Sequential, keras.Sequential]:
    """Feature extractor, label head and domain head of Ganin et al.'s MNIST -> MNIST-M setup.

    Ganin & Lempitsky (ICML 2015) and Ganin et al. (JMLR 2016) use, for MNIST -> MNIST-M, a
    LeNet feature extractor ``conv 32@5x5 -> max-pool 2 -> conv 48@5x5 -> max-pool 2`` (ReLU
    after each convolution), a label head ``100 -> 100 -> num_classes`` and a domain head
    ``100 -> 1``. This function builds them as three `keras.Sequential` models, ready for
    `DANN`, `CDAN` and the other two-domain models (and, stacked, for plain ``fit``).

    The feature extractor takes raw 0-255 pixels, as the package's backbones do (a
    ``Rescaling(1/255)`` layer comes first), and flattens its last feature map (768 features
    for 28x28 inputs). With ``batch_norm=True`` (default) a ``BatchNormalization`` layer
    follows every convolution and every hidden dense layer of the label head (the biases
    before it are dropped). The paper's networks have none; we add it because, together with
    per-domain statistics in training and AdaBN after it (``adapt_batch_norm``, on by default in
    the two-domain models when the network has BatchNorm), it lifted DANN's target accuracy on
    MNIST -> MNIST-M (benchmarks/README.md, "Domain adaptation", rows ``dann`` and
    ``dann_no_bn``). The domain head never
    has BatchNorm and ends in one logit (target = 1), as `DANN` expects.

    Args:
        input_shape: ``(height, width, channels)`` of the images; at least 16x16 (two 5x5
            valid convolutions and two 2x2 poolings).
        num_classes: number of classes of the label head's softmax (>= 2).
        batch_norm: add BatchNormalization layers (see above).

    Returns:
        ``(feature_extractor, label_head, domain_head)``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.models import DANN, lenet_networks
        >>> features, label_head, domain_head = lenet_networks((28, 28, 3), num_classes=10)
        >>> features.output_shape
        (None, 768)
        >>> model = DANN(features, label_head, domain_head)
        >>> model.predict(np.zeros((2, 28, 28, 3), "float32"), verbose=0).shape
        (2, 10)
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(
            f"`input_shape` must be (height, width, channels); received input_shape={input_shape!r}."
        )
    height, width, channels = (check_int(v, "input_shape", min_value=1) for v in input_shape)
    if min(height, width) < 16:
        raise ValueError(
            "`input_shape` must be at least 16x16 (two 5x5 convolutions and two 2x2 poolings); "
            f"received input_shape={tuple(input_shape)}."
        )
    num_classes = check_int(num_classes, "num_classes", min_value=2)
    batch_norm = check_bool(batch_norm, "batch_norm")

    def normalised(layer):
        return [layer, layers.BatchNormalization()] if batch_norm else [layer]

    stack = [keras.Input((height, width, channels)), layers.Rescaling(1 / 255.0)]
    for filters in (32, 48):
        stack += normalised(layers.Conv2D(filters, 5, use_bias=not batch_norm))
        stack += [layers.ReLU(), layers.MaxPooling2D(2)]
    features = keras.Sequential([*stack, layers.Flatten()], name="lenet_features")
    head = []
    for _ in range(2):
        head += normalised(layers.Dense(100, use_bias=not batch_norm)) + [layers.ReLU()]
    label_head = keras.Sequential(
        [*head, layers.Dense(num_classes, activation="softmax", dtype="float32")], name="label_head"
    )
    domain_head = keras.Sequential(
        [layers.Dense(100, activation="relu"), layers.Dense(1, dtype="float32")], name="domain_head"
    )
    return features, label_head, domain_head


def digit_views(value_range: tuple[float, float] = (0, 255)) -> tuple[keras.Sequential, keras.Sequential]:
    """Weak and strong views of digit images for self-training (`SelfTraining`, `DANNSelfTraining`).

    The default views of those models flip images horizontally and apply RandAugment, which suit
    photos, not digits. These are the views of the package's MNIST -> MNIST-M benchmark, demo and
    tutorial: weak = a random shift of up to 10 % (``RandomTranslation``, constant fill); strong =
    the same shift, a rotation of up to 5 % of a turn and a colour jitter (brightness 0.3, contrast
    0.4, saturation 0.3-0.7, hue 0.5) of RGB images whose pixels lie in ``value_range``.

    Returns:
        ``(weak, strong)``, two `keras.Sequential` models of preprocessing layers (active only in
        training).

    Example:
        >>> from keras_transfer.models import digit_views
        >>> weak, strong = digit_views()
        >>> [layer.__class__.__name__ for layer in strong.layers]
        ['RandomTranslation', 'RandomRotation', 'RandomColorJitter']
    """
    weak = keras.Sequential([layers.RandomTranslation(0.1, 0.1, fill_mode="constant")], name="weak_view")
    strong = keras.Sequential(
        [
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            layers.RandomRotation(0.05, fill_mode="constant"),
            layers.RandomColorJitter(
                value_range=value_range,
                brightness_factor=0.3,
                contrast_factor=0.4,
                saturation_factor=(0.3, 0.7),
                hue_factor=0.5,
            ),
        ],
        name="strong_view",
    )
    return weak, strong
