"""The conditioning of CDAN: multilinear maps of features and predictions, entropy weights.

Long, Cao, Wang and Jordan, "Conditional Adversarial Domain Adaptation", NeurIPS 2018. The
domain discriminator of CDAN sees ``T(f, g)``, the multilinear (outer-product) map of the
features ``f`` and the class predictions ``g``, so that it aligns the joint distribution of
features and classes rather than the features alone. Above a size threshold the map is replaced
by its randomized approximation. CDAN+E weights each example's discriminator loss by
``1 + exp(-H(g))``, so confident (low-entropy) examples count more.
"""

from __future__ import annotations

import math

from keras import ops

from keras_transfer._validation import shape_of
from keras_transfer.adaptation.entropy import entropy


def _check_rows(features, predictions) -> None:
    f, g = shape_of(features), shape_of(predictions)
    if len(f) != 2 or len(g) != 2:
        raise ValueError(
            "`features` and `predictions` must be 2-D batches (n, d) and (n, num_classes); "
            f"received features shape={f} and predictions shape={g}."
        )
    if f[0] is not None and g[0] is not None and f[0] != g[0]:
        raise ValueError(
            "`features` and `predictions` must have one row per example; received "
            f"features shape={f} and predictions shape={g}."
        )


def multilinear_map(features, predictions):
    """The multilinear map ``T(f, g) = g ⊗ f`` of CDAN, flattened per example.

    ``out[i, c * d + k] = predictions[i, c] * features[i, k]`` (the order of the
    Transfer-Learning-Library's ``MultiLinearMap``).

    Args:
        features: ``(n, d)`` features.
        predictions: ``(n, num_classes)`` class probabilities (pass them through
            ``keras.ops.stop_gradient`` to condition without back-propagating, as CDAN does).

    Returns:
        A tensor of shape ``(n, num_classes * d)``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import multilinear_map
        >>> np.asarray(multilinear_map(np.array([[1.0, 2.0]]), np.array([[0.25, 0.75]])))
        array([[0.25, 0.5 , 0.75, 1.5 ]])
    """
    _check_rows(features, predictions)
    f = ops.convert_to_tensor(features)
    g = ops.cast(predictions, f.dtype)
    d, c = f.shape[-1], g.shape[-1]
    if d is None or c is None:
        raise ValueError(
            "`features` and `predictions` must have a known last dimension; received features "
            f"shape={tuple(f.shape)} and predictions shape={tuple(g.shape)}."
        )
    return ops.reshape(g[:, :, None] * f[:, None, :], (-1, c * d))


def randomized_multilinear_map(features, predictions, random_features, random_predictions):
    """The randomized multilinear map of CDAN: ``(f R_f) ⊙ (g R_g) / sqrt(dim)``.

    An unbiased estimate of the inner products of `multilinear_map` outputs, of size ``dim``
    instead of ``d * num_classes``. ``R_f`` and ``R_g`` are drawn once (standard normal) and
    kept fixed, as in the paper and the Transfer-Learning-Library.

    Args:
        features: ``(n, d)`` features.
        predictions: ``(n, num_classes)`` class probabilities.
        random_features: ``R_f``, shape ``(d, dim)``.
        random_predictions: ``R_g``, shape ``(num_classes, dim)``.

    Returns:
        A tensor of shape ``(n, dim)``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import randomized_multilinear_map
        >>> f, g = np.ones((3, 4)), np.full((3, 2), 0.5)
        >>> out = randomized_multilinear_map(f, g, np.ones((4, 16)), np.ones((2, 16)))
        >>> tuple(out.shape), float(out[0, 0])
        ((3, 16), 1.0)
    """
    _check_rows(features, predictions)
    rf, rg = shape_of(random_features), shape_of(random_predictions)
    f, g = shape_of(features), shape_of(predictions)
    if len(rf) != 2 or len(rg) != 2 or rf[0] != f[1] or rg[0] != g[1] or rf[1] != rg[1]:
        raise ValueError(
            "`random_features` must have shape (d, dim) and `random_predictions` shape "
            f"(num_classes, dim); received {rf} and {rg} for features shape={f} and predictions "
            f"shape={g}."
        )
    x = ops.convert_to_tensor(features)
    dtype = x.dtype
    projected_f = ops.matmul(x, ops.cast(random_features, dtype))
    projected_g = ops.matmul(ops.cast(predictions, dtype), ops.cast(random_predictions, dtype))
    return projected_f * projected_g / math.sqrt(float(rf[1]))


def entropy_conditioning_weights(probabilities, domain_labels):
    """CDAN+E example weights: ``w = 1 + exp(-H(g))``, normalised within each domain.

    As in the paper's code, each domain's weights are divided by their sum and the result is
    scaled by ``n / 2``, so that ``mean(w * bce)`` over the batch is the average of the two
    per-domain weighted means. The weights carry no gradient.

    Args:
        probabilities: ``(n, num_classes)`` class probabilities.
        domain_labels: ``(n,)`` or ``(n, 1)``: 0 for source rows, 1 for target rows.

    Returns:
        A float32 tensor of shape ``(n,)``; each domain's weights sum to ``n / 2``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import entropy_conditioning_weights
        >>> p = np.array([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]], "float32")
        >>> np.round(np.asarray(entropy_conditioning_weights(p, np.array([0, 0, 1]))), 3)
        array([0.857, 0.643, 1.5  ], dtype=float32)
    """
    p_shape, d_shape = shape_of(probabilities), shape_of(domain_labels)
    rows = 1
    for size in d_shape:
        rows = None if size is None or rows is None else rows * size
    if len(d_shape) > 2 or (len(d_shape) == 2 and d_shape[1] not in (1, None)):
        raise ValueError(f"`domain_labels` must have shape (n,) or (n, 1); received shape={d_shape}.")
    if p_shape and p_shape[0] is not None and rows is not None and rows != p_shape[0]:
        raise ValueError(
            "`domain_labels` must hold one 0/1 domain label per row of `probabilities`; received "
            f"domain_labels shape={d_shape} and probabilities shape={p_shape}."
        )
    weight = ops.stop_gradient(1.0 + ops.exp(-entropy(probabilities)))
    target = ops.cast(ops.reshape(domain_labels, (-1,)), "float32")
    source = 1.0 - target
    n = ops.cast(ops.shape(weight)[0], "float32")

    def normalised(mask):
        return weight * mask / ops.maximum(ops.sum(weight * mask), 1e-12)

    return (normalised(source) + normalised(target)) * (n / 2.0)
