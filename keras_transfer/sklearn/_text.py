"""Text backbones (``backbone="text:<name>"``) in the scikit-learn estimators (private).

With a text backbone, ``X`` is a list, tuple, 1-D numpy array or pandas Series of strings (a
one-column 2-D array or DataFrame is taken as its column): strings are texts, never file paths.
`FeatureExtractor` returns the pooled features of the frozen encoder; `FineTunedClassifier`
feeds the strings to a `keras_transfer.models.TransferClassifier` (the tokenizer is in the
model), so policies fine-tune transformer layers; `DomainAdaptationClassifier` adapts on the
frozen encoder's pooled features (extracted once, through `FeatureExtractor`'s cache): its
network is ``features -> Dense(bottleneck) -> heads``. Tokenization runs in TensorFlow ops, so
text backbones need the TensorFlow backend.
"""

from __future__ import annotations

import hashlib
import weakref

import numpy as np

from keras_transfer._validation import ArgumentTypeError
from keras_transfer.backbones.text_loading import TEXT_PREFIX

_TEXT_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# `auto`'s status for a candidate that trains on augmented images (DomainAdaptationClassifier)
IMAGE_ONLY_STATUS = "skipped: image augmentation does not apply to text features"
# "text:" pooling names of the estimators' `pooling` parameter (FeatureExtractor): avg = mean
TEXT_POOLING = {"avg": "mean", "cls": "cls"}


def is_text_backbone(name) -> bool:
    """Whether the estimator parameter ``backbone`` names a text backbone (``"text:..."``)."""
    return isinstance(name, str) and name.startswith(TEXT_PREFIX)


def check_text_params(est) -> None:
    """The image-only parameters of an estimator with a text backbone keep their defaults."""
    if getattr(est, "input_shape", None) is not None:
        raise ValueError(
            f"`input_shape` does not apply to the text backbone {est.backbone!r} (its inputs are "
            f"strings); leave input_shape=None. Received input_shape={est.input_shape!r}."
        )
    if getattr(est, "weights", "imagenet") is None:
        raise ValueError(
            f"`weights`=None (random initialisation) is not available for the text backbone "
            f"{est.backbone!r}: it always loads its pretrained weights. Leave weights at its default."
        )


def check_texts(X, argument: str = "X", backbone: str = "text:...") -> np.ndarray:
    """``X`` as a 1-D numpy array of Python strings (``dtype=object``; bytes decoded as UTF-8).

    Raises:
        TypeError / ValueError: naming ``argument``: numbers, images, a single string, nested
            lists, missing values or an empty batch.
    """
    where = f"for backbone={backbone!r}"
    if isinstance(X, (str, bytes)):
        raise ArgumentTypeError(
            f"`{argument}` must be a list or 1-D array of texts {where}; received a single string. "
            f"Wrap it in a list: [{X[:30]!r}]."
        )
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # a pandas DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"`{argument}` must be one column of texts {where}; received a DataFrame with "
                f"{X.shape[1]} columns. Select the text column, e.g. X['text']."
            )
        X = X.iloc[:, 0]
    if hasattr(X, "tocsr"):
        raise ArgumentTypeError(f"`{argument}` must hold texts {where}; received a sparse matrix.")
    try:
        array = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
    except ValueError:  # ragged nested lists
        raise ArgumentTypeError(f"`{argument}` must be a flat list of texts {where}.") from None
    if array.dtype.kind in "biufc":
        hint = " (images? a text backbone takes strings)" if array.ndim >= 3 else ""
        raise ArgumentTypeError(
            f"`{argument}` must hold texts (str) {where}; received numbers (an array of shape "
            f"{array.shape}, dtype={array.dtype}){hint}."
        )
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"`{argument}` must be a 1-D list or array of texts {where}; received an array of "
            f"shape {array.shape}."
        )
    if len(array) == 0:
        raise ValueError(f"`{argument}` is empty: pass at least one text.")
    out = np.empty(len(array), dtype=object)
    for i, text in enumerate(array):
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        elif not isinstance(text, str):  # np.str_ is a str
            raise ArgumentTypeError(
                f"`{argument}` must hold texts (str) {where}; entry {i} is {text!r} of type "
                f"{type(text).__name__}."
            )
        out[i] = str(text)
    return out


def texts_hash(texts: np.ndarray) -> str:
    """A content hash of a batch of texts (each text's UTF-8 length and bytes, in order)."""
    h = hashlib.blake2b(digest_size=16)
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def takes_text(model) -> bool:
    """Whether ``model`` takes strings: a text backbone, or a model whose ``backbone`` is one."""
    for candidate in (model, getattr(model, "backbone", None)):
        if candidate is not None and getattr(candidate, "symbolic_input", None) is not None:
            return True
    return False


def text_predict_function(model):
    """``model`` in inference mode on a batch of texts, through one ``tf.function`` with a string
    input signature (built once per model, the batch dimension left free)."""
    fn = _TEXT_FNS.get(model)
    if fn is not None:
        return fn
    import tensorflow as tf  # text backbones tokenize with TensorFlow ops

    ref = weakref.ref(model)  # the cache must not keep the model alive
    traced = tf.function(
        lambda t: ref()(t, training=False), input_signature=[tf.TensorSpec((None,), tf.string)]
    )

    def fn(texts):
        return traced(tf.constant(np.asarray(texts, dtype=object)))

    _TEXT_FNS[model] = fn
    return fn


def check_text_method(est) -> None:
    """`DomainAdaptationClassifier` with a text backbone: refuse what cannot apply to the frozen
    pooled features of a transformer (a trained encoder, BatchNorm methods, image augmentation)."""
    from keras_transfer.sklearn import _methods

    backbone, method = est.backbone, getattr(est, "method", None)
    if getattr(est, "train_backbone", False):
        raise ValueError(
            f"`train_backbone`=True is not available with the text backbone {backbone!r}: "
            "DomainAdaptationClassifier adapts on the frozen encoder's pooled features. To "
            "fine-tune transformer layers use FineTunedClassifier (e.g. policy=UnfreezeTop(2))."
        )
    if method in ("adabn", "tent"):
        raise ValueError(
            f"`method`={method!r} re-estimates BatchNormalization statistics on the target, and "
            f"the text backbone {backbone!r} has none: transformers normalise with LayerNorm, "
            "per example, with no statistics to re-estimate. Choose another method (method='auto' "
            "skips AdaBN for networks without BatchNorm)."
        )
    if isinstance(method, str) and method in _methods.METHODS and _methods.needs_rgb(method):
        raise ValueError(
            f"`method`={method!r} trains on augmented views of images and does not apply to the "
            f"text backbone {backbone!r}; choose e.g. 'dann', 'cdan', 'coral', 'mmd', 'mcc', "
            "'entropy', 'shot' or 'auto'."
        )
