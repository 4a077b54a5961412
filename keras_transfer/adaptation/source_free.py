"""The losses and pseudo-labels of source-free adaptation (SHOT): information maximisation and
class-centroid pseudo-labels."""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_transfer._validation import check_choice, check_float, check_int
from keras_transfer.adaptation._unsupervised_loss import check_predictions
from keras_transfer.adaptation.entropy import entropy


def information_maximization(probabilities, epsilon: float = 1e-5):
    """SHOT's information-maximisation terms of a batch: ``(mean entropy, diversity)``.

    Liang, Hu and Feng, "Do We Really Need to Access the Source Data? Source Hypothesis Transfer
    for Unsupervised Domain Adaptation", ICML 2020, eq. (2)-(3): the mean per-example entropy
    ``mean_i H(p_i)`` (to be minimised: confident predictions) and the diversity
    ``H(mean_i p_i)``, the entropy of the mean prediction (to be maximised: predictions spread
    over the classes). The information-maximisation loss is ``mean entropy - diversity``. Both use
    ``H(p) = -sum_c p_c log(p_c + epsilon)`` with SHOT's ``epsilon = 1e-5``
    (`keras_transfer.adaptation.entropy`). Written with `keras.ops` (differentiable).

    Args:
        probabilities: class probabilities of a batch, shape ``(n, num_classes)``.
        epsilon: added inside the log, a float >= 0.

    Returns:
        Two float32 scalar tensors ``(mean_entropy, diversity)``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import information_maximization
        >>> p = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")  # confident and diverse
        >>> [round(float(v), 4) for v in information_maximization(p, epsilon=0.0)]
        [0.0, 0.6931]
    """
    epsilon = check_float(epsilon, "epsilon", min_value=0.0)
    check_predictions(probabilities, "probabilities")
    p = ops.cast(probabilities, "float32")
    mean_entropy = ops.mean(entropy(p, epsilon))
    diversity = ops.sum(entropy(ops.mean(p, axis=0, keepdims=True), epsilon))
    return mean_entropy, diversity


def _distances(features, centroids, distance):
    if distance == "euclidean":
        squared = (features**2).sum(1)[:, None] - 2 * features @ centroids.T + (centroids**2).sum(1)[None]
        return np.sqrt(np.maximum(squared, 0.0))
    f = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    c = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return 1.0 - f @ c.T  # cosine distance; an empty class's zero centroid is at distance 1


def centroid_pseudo_labels(
    features, probabilities, *, distance: str = "cosine", rounds: int = 1
) -> np.ndarray:
    """SHOT's self-supervised pseudo-labels: nearest target class centroid in feature space.

    Liang, Hu and Feng (ICML 2020), eq. (4)-(6), as their reference code does it: (1) each class
    centroid is the mean of the target features weighted by the predicted probability of that
    class, ``c_k = sum_i p_ik f_i / sum_i p_ik``; (2) each example takes the class of its nearest
    centroid; (3) ``rounds`` times (1 in the paper), the centroids are recomputed as plain means of
    the examples so labelled and the labels reassigned. Only classes that are the argmax of at
    least one prediction compete. With ``distance="cosine"`` (the paper's) a constant 1 is
    appended to every feature vector and the vectors are L2-normalised first, as in the reference
    code; ``"euclidean"`` uses the features as they are. Plain numpy, on the whole target set.

    Args:
        features: the classifier's input features of the target examples, ``(n, d)``.
        probabilities: the classifier's class probabilities for them, ``(n, num_classes)``.
        distance: ``"cosine"`` or ``"euclidean"``.
        rounds: refinement rounds after the weighted step, an int >= 0.

    Returns:
        An int64 array of ``n`` pseudo-labels.

    Raises:
        ValueError: shapes that do not match, or ``distance``/``rounds`` out of range.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import centroid_pseudo_labels
        >>> features = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
        >>> probabilities = np.array([[0.6, 0.4], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8]])
        >>> centroid_pseudo_labels(features, probabilities)  # the second example moves to class 0
        array([0, 0, 1, 1])
    """
    distance = check_choice(distance, ("cosine", "euclidean"), "distance")
    rounds = check_int(rounds, "rounds", min_value=0)
    f = np.asarray(features, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if f.ndim != 2 or p.ndim != 2 or len(f) != len(p) or len(f) == 0:
        raise ValueError(
            "`features` must be (n, d) and `probabilities` (n, num_classes) with the same n >= 1; "
            f"received shapes {f.shape} and {p.shape}."
        )
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(p))):
        raise ValueError("`features` and `probabilities` must be finite; received NaN or inf.")
    if distance == "cosine":
        f = np.concatenate([f, np.ones((len(f), 1))], axis=1)
        f = f / np.linalg.norm(f, axis=1, keepdims=True)
    num_classes = p.shape[1]
    present = np.flatnonzero(np.bincount(p.argmax(1), minlength=num_classes) > 0)
    weights = p
    for _ in range(rounds + 1):
        centroids = weights.T @ f / (1e-8 + weights.sum(0)[:, None])
        labels = present[np.argmin(_distances(f, centroids[present], distance), axis=1)]
        weights = np.eye(num_classes)[labels]
    return labels.astype(np.int64)
