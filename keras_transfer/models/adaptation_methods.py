"""The registry of two-domain adaptation methods: method name -> model class + default arguments.

Each method file in `keras_transfer.models` ends with one `register_adaptation_method` line per
method it offers (``cdan.py`` registers ``"cdan"`` and ``"cdan+e"``). The scikit-learn
`keras_transfer.sklearn.DomainAdaptationClassifier` offers every registered method, and the
generic tests of the two-domain models (configuration round trip, ``.keras`` save and load,
resume from a backup, the JAX backend, bad inputs) run on every registered class. So a new
method is one new file in ``keras_transfer/models/`` (a `TwoDomainModel` subclass and its
registration line) plus its import in ``keras_transfer/models/__init__.py``.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping

from keras_transfer._validation import check_bool
from keras_transfer.models._two_domain_model import TwoDomainModel


@dataclasses.dataclass(frozen=True)
class AdaptationMethod:
    """One registered adaptation method.

    Attributes:
        name: the method's name (``method=`` of the estimator), lower case.
        model: the `keras.Model` subclass (a two-domain model) that trains it.
        kwargs: constructor arguments that make the class this method (e.g.
            ``{"regularizer": "entropy"}``), read-only; may hold a default ``adaptation_weight``.
        needs_rgb: whether the method's defaults need 3-channel images (the estimator repeats a
            grayscale channel).
    """

    name: str
    model: type
    kwargs: Mapping = dataclasses.field(default_factory=dict)
    needs_rgb: bool = False

    def build(self, feature_extractor, label_head, **overrides):
        """``model(feature_extractor, label_head, **kwargs, **overrides)``: the method's Keras model."""
        return self.model(feature_extractor, label_head, **{**self.kwargs, **overrides})


ADAPTATION_METHODS: dict[str, AdaptationMethod] = {}
"""Every registered method by name, in registration order (filled as `keras_transfer.models`
imports its method files)."""


def register_adaptation_method(
    name: str, model: type, *, needs_rgb: bool = False, **kwargs
) -> AdaptationMethod:
    """Register ``model`` (with constructor arguments ``kwargs``) as the adaptation method ``name``.

    Args:
        name: the method's name, lower case, unique.
        model: a subclass of `keras_transfer.models.TwoDomainModel`.
        needs_rgb: whether the method's defaults need 3-channel images.
        **kwargs: constructor arguments of ``model`` that define the method (including a default
            ``adaptation_weight`` that differs from the class default).

    Returns:
        The `AdaptationMethod` stored in `ADAPTATION_METHODS`.

    Raises:
        ValueError: ``name`` is not a lower-case string or is already registered to another
            class or arguments.
        TypeError: ``model`` is not a two-domain model class.

    Example:
        >>> from keras_transfer.models import ADAPTATION_METHODS, TargetRegularizedModel
        >>> method = ADAPTATION_METHODS["entropy"]
        >>> method.model is TargetRegularizedModel, dict(method.kwargs)
        (True, {'regularizer': 'entropy', 'adaptation_weight': 0.1})
    """
    if not isinstance(name, str) or not name or name != name.lower():
        raise ValueError(f"`name` must be a non-empty lower-case string; received name={name!r}.")
    if not (isinstance(model, type) and issubclass(model, TwoDomainModel)):
        raise TypeError(
            f"`model` must be a subclass of keras_transfer.models.TwoDomainModel; received {model!r}."
        )
    method = AdaptationMethod(
        name, model, types.MappingProxyType(dict(kwargs)), check_bool(needs_rgb, "needs_rgb")
    )
    known = ADAPTATION_METHODS.get(name)
    if known is not None and (known.model, dict(known.kwargs)) != (model, dict(kwargs)):
        raise ValueError(
            f"An adaptation method named {name!r} is already registered ({known.model.__name__} "
            f"with {dict(known.kwargs)}); choose another name."
        )
    ADAPTATION_METHODS[name] = method
    return method
