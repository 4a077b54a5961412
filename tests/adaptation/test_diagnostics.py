"""Shift diagnostics: proxy A-distance and 2-D domain embeddings."""

import numpy as np
import pytest

from keras_transfer.adaptation import embed_domains, proxy_a_distance


@pytest.mark.backend_neutral
def test_proxy_a_distance_near_zero_without_shift_and_near_two_with_shift():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(300, 4))
    same = proxy_a_distance(xs, rng.normal(size=(300, 4)))
    shifted = proxy_a_distance(xs, rng.normal(size=(300, 4)) + 4.0)
    assert abs(same) < 0.4
    assert shifted > 1.9
    # the definition: 2 (1 - 2 err) with the error of the domain classifier on held-out rows
    from sklearn.dummy import DummyClassifier

    assert proxy_a_distance(xs, xs + 4.0, estimator=DummyClassifier(strategy="constant", constant=0)) == 0.0


@pytest.mark.backend_neutral
@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embed_domains_returns_2d_coordinates_that_separate_shifted_domains(method):
    rng = np.random.default_rng(0)
    xs, xt = rng.normal(size=(40, 10)), rng.normal(size=(30, 10)) + 6.0
    kwargs = {"max_iter": 250} if method == "tsne" else {}
    s2, t2 = embed_domains(xs, xt, method=method, **kwargs)
    assert s2.shape == (40, 2) and t2.shape == (30, 2)
    gap = np.linalg.norm(s2.mean(0) - t2.mean(0))
    spread = np.concatenate([s2 - s2.mean(0), t2 - t2.mean(0)]).std()
    assert gap > 2 * spread


@pytest.mark.backend_neutral
def test_diagnostics_bad_inputs():
    with pytest.raises(ValueError, match="`method` must be one of"):
        embed_domains(np.ones((3, 2)), np.ones((3, 2)), method="umap")
    with pytest.raises(ValueError, match="same feature size"):
        proxy_a_distance(np.ones((10, 2)), np.ones((10, 3)))
    with pytest.raises(ValueError, match="`target_features` is empty"):
        embed_domains(np.ones((3, 2)), np.ones((0, 2)))
    with pytest.raises(ValueError, match="`source_features` contains NaN"):
        proxy_a_distance(np.full((10, 2), np.nan), np.ones((10, 2)))
    with pytest.raises(TypeError, match="`random_state` must be a non-negative integer"):
        proxy_a_distance(np.ones((10, 2)), np.zeros((10, 2)), random_state="abc")
    with pytest.raises(ValueError, match="`test_size` must be a finite number > 0"):
        proxy_a_distance(np.ones((10, 2)), np.zeros((10, 2)), test_size=1.5)
