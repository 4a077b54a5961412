"""`as_policy`: what every ``policy=`` / ``base_policy=`` argument of the package accepts.

One meaning everywhere: ``None`` is `UnfreezeAll` (no policy: everything trains, as in a plain
Keras model). A string names a policy with default arguments (``"freeze_all"``,
``"unfreeze_all"``); a dict is a serialized policy (what ``get_config`` stores).
"""

from __future__ import annotations

import keras

from keras_transfer._validation import suggest
from keras_transfer.policies.freeze_all import FreezeAll
from keras_transfer.policies.trainability_policy import TrainabilityPolicy
from keras_transfer.policies.unfreeze_all import UnfreezeAll

POLICY_NAMES = {"freeze_all": FreezeAll, "unfreeze_all": UnfreezeAll}


def as_policy(policy, argument: str = "policy") -> TrainabilityPolicy:
    """Resolve a ``policy`` argument to a `TrainabilityPolicy`.

    Args:
        policy: a policy, ``None`` (`UnfreezeAll`), one of ``"freeze_all"``/``"unfreeze_all"``,
            or a serialized policy dict.
        argument: the argument name used in errors.

    Raises:
        TypeError: anything else.
        ValueError: an unknown policy name.

    Example:
        >>> from keras_transfer.policies import as_policy
        >>> as_policy(None), as_policy("freeze_all")
        (UnfreezeAll(bn='frozen'), FreezeAll(bn='frozen'))
    """
    if policy is None:
        return UnfreezeAll()
    if isinstance(policy, str):
        if policy not in POLICY_NAMES:
            raise ValueError(
                f"`{argument}` as a string must be one of {sorted(POLICY_NAMES)}; received "
                f"{argument}={policy!r}.{suggest(policy, POLICY_NAMES)} Pass a policy object such as "
                "keras_transfer.policies.UnfreezeTop(2) for anything else."
            )
        return POLICY_NAMES[policy]()
    if isinstance(policy, dict):
        policy = keras.saving.deserialize_keras_object(policy)
    if not isinstance(policy, TrainabilityPolicy):
        raise TypeError(
            f"`{argument}` must be a keras_transfer.policies policy (e.g. UnfreezeTop(2)), "
            f"'freeze_all', 'unfreeze_all' or None; received {type(policy).__name__}."
        )
    return policy
