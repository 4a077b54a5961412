"""Multi-kernel Gaussian maximum mean discrepancy (the loss of DAN)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import check_feature_pair, check_float, check_int
from keras_transfer.api_export import export


def _squared_distances(a, b):
    a2 = ops.sum(ops.square(a), axis=1, keepdims=True)
    b2 = ops.sum(ops.square(b), axis=1, keepdims=True)
    return ops.maximum(a2 + ops.transpose(b2) - 2.0 * ops.matmul(a, ops.transpose(b)), 0.0)


def _check_kernels(bandwidths, num_kernels, kernel_mul):
    if bandwidths is not None:
        ok = isinstance(bandwidths, (list, tuple, np.ndarray)) and len(bandwidths) > 0
        if ok:
            try:
                bandwidths = [
                    check_float(b, "bandwidths", min_value=0, min_inclusive=False) for b in bandwidths
                ]
            except ValueError:
                ok = False
        if not ok:
            raise ValueError(
                f"`bandwidths` must be a non-empty list of finite floats > 0; received {bandwidths!r}."
            )
    num_kernels = check_int(num_kernels, "num_kernels", min_value=1)
    kernel_mul = check_float(kernel_mul, "kernel_mul", min_value=0, min_inclusive=False)
    return bandwidths, num_kernels, kernel_mul


def mmd(source, target, bandwidths=None, num_kernels: int = 5, kernel_mul: float = 2.0):
    """Squared MMD between two feature batches with a sum of Gaussian kernels (biased estimate).

    ``MMD^2 = mean k(s, s') + mean k(t, t') - 2 mean k(s, t)`` with
    ``k(x, y) = sum_u exp(-||x - y||^2 / sigma2_u)`` (Long et al., "Learning Transferable
    Features with Deep Adaptation Networks", ICML 2015). When ``bandwidths`` is None the
    ``sigma2_u`` are ``base * kernel_mul ** (u - num_kernels // 2)``, with ``base`` the mean
    pairwise squared distance of the pooled batch (held constant for the gradient).

    Args:
        source: source features, shape ``(n_source, d)``.
        target: target features, shape ``(n_target, d)``.
        bandwidths: explicit list of ``sigma2`` values, or None for the multi-kernel default.
        num_kernels: number of kernels when ``bandwidths`` is None.
        kernel_mul: ratio between neighbouring bandwidths.

    Returns:
        A float32 scalar tensor >= 0 (zero up to rounding for identical batches).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import mmd
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(64, 3)).astype("float32")
        >>> abs(float(mmd(xs, xs))) < 1e-5, float(mmd(xs, xs + 2.0)) > 0.1
        (True, True)
    """
    check_feature_pair(source, target)
    bandwidths, num_kernels, kernel_mul = _check_kernels(bandwidths, num_kernels, kernel_mul)
    source = ops.cast(source, "float32")
    target = ops.cast(target, "float32")
    pooled = ops.concatenate([source, target], axis=0)
    d2 = _squared_distances(pooled, pooled)
    if bandwidths is None:
        n = ops.cast(ops.shape(pooled)[0], "float32")
        base = ops.stop_gradient(ops.sum(d2) / ops.maximum(n * n - n, 1.0))
        base = ops.maximum(base, 1e-12)
        sigmas = [base * (kernel_mul ** (u - num_kernels // 2)) for u in range(num_kernels)]
    else:
        sigmas = [ops.convert_to_tensor(b, "float32") for b in bandwidths]
    kernel = sum(ops.exp(-d2 / s) for s in sigmas)
    n_source = ops.shape(source)[0]
    k_ss = kernel[:n_source, :n_source]
    k_tt = kernel[n_source:, n_source:]
    k_st = kernel[:n_source, n_source:]
    return ops.mean(k_ss) + ops.mean(k_tt) - 2.0 * ops.mean(k_st)


@export
class MMDLoss(keras.losses.Loss):
    """`mmd` as a Keras loss: ``loss(source_features, target_features)``.

    ``y_true`` is the source batch and ``y_pred`` the target batch. One number per batch,
    scaled for `tf.distribute` replicas like any Keras loss.

    Args:
        bandwidths: explicit Gaussian ``sigma2`` values, or None for the multi-kernel default.
        num_kernels: number of kernels when ``bandwidths`` is None.
        kernel_mul: ratio between neighbouring bandwidths.
        name: loss name.
        **kwargs: passed to `keras.losses.Loss`.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import MMDLoss
        >>> xs = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
        >>> float(MMDLoss(num_kernels=3)(xs, xs + 1.0)) > 0
        True
    """

    def __init__(
        self,
        bandwidths=None,
        num_kernels: int = 5,
        kernel_mul: float = 2.0,
        name: str = "mmd",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        bandwidths, num_kernels, kernel_mul = _check_kernels(bandwidths, num_kernels, kernel_mul)
        self.bandwidths = bandwidths
        self.num_kernels = num_kernels
        self.kernel_mul = float(kernel_mul)

    def call(self, y_true, y_pred):
        value = mmd(y_true, y_pred, self.bandwidths, self.num_kernels, self.kernel_mul)
        return ops.reshape(value, (1,))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "bandwidths": self.bandwidths,
            "num_kernels": self.num_kernels,
            "kernel_mul": self.kernel_mul,
        }
