"""SHOT's losses and pseudo-labels against hand-written numpy (the paper's equations, its code's
cosine distance with an appended 1)."""

import numpy as np
import pytest

from keras_transfer.adaptation import centroid_pseudo_labels, information_maximization


def _entropy(p, eps=1e-5):
    return -np.sum(p * np.log(p + eps), axis=-1)


@pytest.mark.backend_neutral
def test_information_maximization_matches_numpy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(16, 5))
    p = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype("float32")
    mean_entropy, diversity = information_maximization(p)
    assert float(mean_entropy) == pytest.approx(np.mean(_entropy(p)), rel=1e-5)
    assert float(diversity) == pytest.approx(_entropy(p.mean(0)), rel=1e-5)
    # two confident, diverse rows: entropy 0 and diversity log 2 (epsilon 0)
    p = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    values = [float(v) for v in information_maximization(p, epsilon=0.0)]
    assert values == pytest.approx([0.0, np.log(2.0)], abs=1e-6)


def _reference_labels(features, probabilities, rounds=1):
    """SHOT's obtain_label, written out with loops (cosine distance, constant feature appended)."""
    f = np.hstack([features, np.ones((len(features), 1))])
    f = f / np.linalg.norm(f, axis=1, keepdims=True)
    k = probabilities.shape[1]
    present = sorted(set(probabilities.argmax(1)))

    def assign(weights):
        centroids = [
            sum(weights[i, c] * f[i] for i in range(len(f))) / (1e-8 + weights[:, c].sum()) for c in range(k)
        ]
        labels = []
        for row in f:
            cosine = {
                c: 1 - row @ centroids[c] / (np.linalg.norm(row) * np.linalg.norm(centroids[c]))
                for c in present
            }
            labels.append(min(cosine, key=cosine.get))
        return np.array(labels)

    labels = assign(probabilities)
    for _ in range(rounds):
        labels = assign(np.eye(k)[labels])
    return labels


def test_centroid_pseudo_labels_match_the_written_out_algorithm():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 4)) * 3
    truth = rng.integers(0, 3, 60)
    features = centres[truth] + rng.normal(size=(60, 4))
    logits = rng.normal(size=(60, 3)) + 1.5 * np.eye(3)[truth]  # noisy predictions
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = _reference_labels(features, probabilities)
    np.testing.assert_array_equal(centroid_pseudo_labels(features, probabilities), expected)
    # the clusters are clean, the predictions noisy: the centroid labels are better than the argmax
    assert np.mean(expected == truth) > np.mean(probabilities.argmax(1) == truth)
    np.testing.assert_array_equal(
        centroid_pseudo_labels(features, probabilities, rounds=0),
        _reference_labels(features, probabilities, 0),
    )


def test_centroid_pseudo_labels_only_use_predicted_classes_and_check_inputs():
    features = np.array([[1.0, 0.0], [0.0, 1.0], [0.1, 1.0]])
    probabilities = np.array([[0.5, 0.1, 0.4], [0.5, 0.1, 0.4], [0.3, 0.1, 0.6]])
    labels = centroid_pseudo_labels(features, probabilities, distance="euclidean")
    assert set(labels) <= {0, 2}  # class 1 is nobody's argmax
    with pytest.raises(ValueError, match="`features` must be"):
        centroid_pseudo_labels(features, probabilities[:2])
    with pytest.raises(ValueError, match="distance"):
        centroid_pseudo_labels(features, probabilities, distance="manhattan")
    with pytest.raises(ValueError, match="finite"):
        centroid_pseudo_labels(features * np.nan, probabilities)
