"""FeatureExtractor: inputs, caching, pandas output, clone/pickle, errors, pretrained accuracy."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from keras_transfer.sklearn import FeatureExtractor, clear_feature_cache, feature_cache_info
from keras_transfer.sklearn.feature_extractor import FeatureExtractor as FE

TINY = dict(backbone="mobilenet_v3_small", weights=None, input_shape=(32, 32, 3), verbose=0)


@pytest.fixture
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:60] * (255 / 16)).astype(np.float32), y[:60]


@pytest.fixture
def counted(monkeypatch):
    """Count uncached extractions (real backbone runs) across every instance and clone."""
    calls = []
    original = FE._extract

    def counting(self, images):
        calls.append(len(images))
        return original(self, images)

    monkeypatch.setattr(FE, "_extract", counting)
    clear_feature_cache()
    return calls


def test_feature_extractor_default_backbone_is_package_default():
    from keras_transfer.backbones import DEFAULT_BACKBONE

    assert FeatureExtractor().backbone == DEFAULT_BACKBONE
    assert FeatureExtractor().weights == "imagenet"


@pytest.mark.backend_neutral
def test_feature_extractor_matches_backbone_call(tiny_images):
    """Batches of 3 over 8 images: the short last batch (padded on JAX) gives the same features."""
    fe = FeatureExtractor(**TINY, batch_size=3, cache=False)
    out = fe.fit_transform(tiny_images)
    direct = np.asarray(fe.backbone_(tiny_images.astype("float32"), training=False))
    assert out.shape == (8, 576) and out.dtype == np.float32
    np.testing.assert_allclose(out, direct, rtol=1e-4, atol=1e-6)


def test_feature_extractor_input_forms_agree(tmp_path, digits):
    from PIL import Image

    X, _ = digits
    imgs = np.clip(X[:5].reshape(5, 8, 8), 0, 255).astype(np.uint8)
    fe = FeatureExtractor(**TINY, cache=False).fit(imgs)
    ref = fe.transform(imgs)
    np.testing.assert_allclose(fe.transform(imgs.reshape(5, 64)), ref, rtol=1e-5, atol=1e-6)  # flattened rows
    np.testing.assert_allclose(fe.transform(imgs[..., None].astype("int64")), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fe.transform(list(imgs)), ref, rtol=1e-5, atol=1e-6)
    rgb = np.repeat(imgs[..., None], 3, axis=-1)
    for i, im in enumerate(rgb):
        Image.fromarray(im).save(tmp_path / f"img{i}.png")
    paths = [str(tmp_path / f"img{i}.png") for i in range(5)]
    np.testing.assert_allclose(fe.transform(paths), ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fe.transform(str(tmp_path)), ref, rtol=1e-4, atol=1e-6)  # a folder


def test_feature_extractor_resize_option_handles_mixed_sizes(tiny_images):
    mixed = [tiny_images[0], tiny_images[1, :20, :24]]
    fe = FeatureExtractor(**TINY, cache=False).fit(tiny_images)
    with pytest.raises(ValueError, match="mixed sizes.*resize=True"):
        fe.transform(mixed)
    out = FeatureExtractor(**TINY, cache=False, resize=True).fit(tiny_images).transform(mixed)
    assert out.shape == (2, 576)
    np.testing.assert_allclose(out[0], fe.transform(tiny_images[:1])[0], rtol=1e-4, atol=1e-6)


def test_feature_extractor_second_extraction_served_from_cache(counted, digits):
    X, _ = digits
    fe = FeatureExtractor(**TINY).fit(X)
    first = fe.transform(X)
    second = clone(fe).fit(X).transform(X)  # a clone, as GridSearchCV makes
    assert counted == [60]
    np.testing.assert_array_equal(first, second)
    info = feature_cache_info()
    assert info["hits"] == 1 and info["misses"] == 1
    second[:] = 0  # callers get a copy: the cache is not corrupted
    np.testing.assert_array_equal(fe.transform(X), first)
    fe.transform(X[:10])  # other pixels: a miss
    assert counted == [60, 10]


def test_feature_extractor_cache_false_always_extracts(counted, digits):
    X, _ = digits
    fe = FeatureExtractor(**TINY, cache=False).fit(X)
    fe.transform(X)
    fe.transform(X)
    assert counted == [60, 60]


def test_feature_extractor_disk_cache_survives_memory_clear(counted, digits, tmp_path):
    X, _ = digits
    first = FeatureExtractor(**TINY, cache=str(tmp_path)).fit(X).transform(X)
    clear_feature_cache()
    second = FeatureExtractor(**TINY, cache=tmp_path).fit(X).transform(X)  # a PathLike too
    assert counted == [60]
    assert feature_cache_info()["disk_hits"] == 1
    assert len(list(tmp_path.glob("*.npy"))) == 1 and len(list(tmp_path.glob("*.json"))) == 1
    np.testing.assert_array_equal(first, second)


def test_feature_extractor_refuses_joblib_memory_as_cache(digits, tmp_path):
    X, _ = digits
    memory = joblib.Memory(str(tmp_path), verbose=0)
    with pytest.raises(ValueError, match="`cache` must be True, False, None or a directory path.*cache='"):
        FeatureExtractor(**TINY, cache=memory).fit(X)


def test_feature_extractor_grid_search_extracts_each_fold_once(counted, digits):
    X, y = digits
    pipe = Pipeline([("features", FeatureExtractor(**TINY)), ("clf", LogisticRegression(max_iter=200))])
    search = GridSearchCV(pipe, {"clf__C": [0.1, 1.0, 10.0]}, cv=2).fit(X, y)
    # With cv=2 the image sets are: half A, half B (each one fold's train and the other's test)
    # and all of X for the refit. Without the cache: 3 values of C x 2 folds x 2 + 1 = 13 runs.
    assert sorted(counted) == [30, 30, 60], counted
    assert search.best_estimator_.predict(X).shape == (60,)


def test_feature_extractor_pandas_output_has_named_columns(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    fe = FeatureExtractor(**TINY).fit(X).set_output(transform="pandas")
    out = fe.transform(X[:4])
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["mobilenet_v3_small_0", "mobilenet_v3_small_1"]
    assert out.shape == (4, 576)


def test_feature_extractor_clone_and_joblib_round_trip_preserve_predictions(digits, tmp_path):
    X, y = digits
    pipe = Pipeline(
        [("features", FeatureExtractor(**TINY, cache=False)), ("clf", LogisticRegression(max_iter=300))]
    )
    pipe.fit(X, y)
    expected = pipe.predict_proba(X)
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    loaded = joblib.load(path)
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-5)
    assert loaded.named_steps["features"].backbone_ is not pipe.named_steps["features"].backbone_
    restored = pickle.loads(pickle.dumps(pipe.named_steps["features"]))
    np.testing.assert_allclose(restored.transform(X), pipe.named_steps["features"].transform(X), rtol=1e-5)
    np.testing.assert_allclose(clone(pipe).fit(X, y).predict_proba(X), expected, rtol=1e-4)
    assert clone(pipe.named_steps["features"]).get_params() == pipe.named_steps["features"].get_params()


def test_feature_extractor_bad_input_errors(tiny_images):
    fe = FeatureExtractor(**TINY).fit(tiny_images)
    with pytest.raises(ValueError, match="1 \\(grayscale\\) or 3 \\(RGB\\) channels"):
        fe.transform(np.zeros((2, 8, 8, 4)))
    with pytest.raises(ValueError, match="shape \\(batch, height, width\\)"):
        fe.transform(np.zeros((2, 3, 8, 8, 3)))
    nan = tiny_images.astype("float32")
    nan[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fe.transform(nan)
    with pytest.raises(ValueError, match="flattened square images.*received 10 features"):
        fe.transform(np.zeros((2, 10)))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fe.transform(["/nonexistent/image.png"])


def test_feature_extractor_argument_errors_raised_in_fit(tiny_images):
    FeatureExtractor(backbone="resnet5", pooling="mean")  # __init__ only assigns
    with pytest.raises(ValueError, match="Did you mean 'resnet50'"):
        FeatureExtractor(backbone="resnet5", weights=None).fit(tiny_images)
    with pytest.raises(ValueError, match="`pooling` must be one of \\['avg', 'max'\\]"):
        FeatureExtractor(**{**TINY, "pooling": "mean"}).fit(tiny_images)
    with pytest.raises(ValueError, match="`batch_size` must be an integer >= 1"):
        FeatureExtractor(**TINY, batch_size=0).fit(tiny_images)
    with pytest.raises(TypeError, match="`resize` must be True or False"):
        FeatureExtractor(**TINY, resize="yes").fit(tiny_images)
    with pytest.raises(ValueError, match="`cache` must be"):
        FeatureExtractor(**TINY, cache=3.5).fit(tiny_images)
    with pytest.raises(
        ValueError, match="`input_shape` must be \\(height, width, channels\\) of positive ints"
    ):
        FeatureExtractor(**{**TINY, "input_shape": (32.7, 32, 3)}).fit(tiny_images)
    with pytest.raises(TypeError, match="`weights` must be None, 'imagenet' or the path"):
        FeatureExtractor(**{**TINY, "weights": 123}).fit(tiny_images)
    with pytest.raises(ValueError, match="`backbone` must be one of list_backbones"):
        FeatureExtractor(**{**TINY, "backbone": 123}).fit(tiny_images)
    with pytest.raises(TypeError, match="`X` must hold pixels"):
        FeatureExtractor(**TINY).fit(np.array([["a", "b"], ["c", "d"]]))
    with pytest.warns(UserWarning, match="`X` has pixels in .*far outside the expected 0-255"):
        FeatureExtractor(**TINY).fit_transform(np.full((2, 32, 32, 3), 1e6, "float32"))


def test_feature_extractor_random_weights_need_fit(tiny_images):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FeatureExtractor(**TINY).transform(tiny_images)


def test_feature_extractor_progress_bar(capsys, tiny_images):
    FeatureExtractor(**{**TINY, "verbose": 2}, batch_size=4, cache=False).fit_transform(tiny_images)
    assert "8/8" in capsys.readouterr().out
    FeatureExtractor(**TINY, batch_size=4, cache=False).fit_transform(tiny_images)
    assert capsys.readouterr().out == ""


@pytest.mark.slow  # builds EfficientNet-Lite0 with ImageNet weights and extracts 96x96 features
def test_pipeline_pretrained_default_beats_raw_pixels():
    """Pretrained default backbone (no fit needed) + logistic regression on real Fashion-MNIST."""
    from sklearn.preprocessing import StandardScaler

    from keras_transfer.datasets import load_fashion_mnist

    xtr, ytr = load_fashion_mnist("train", source="subset", num_per_class=10, seed=0)
    xte, yte = load_fashion_mnist("test", source="subset", num_per_class=20, seed=0)
    fe = FeatureExtractor(input_shape=PRETRAINED_SHAPE, verbose=0)
    fe.transform(xtr[:2])  # usable without fit: pretrained and frozen
    pipe = Pipeline(
        [("features", fe), ("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000, C=0.01))]
    )
    acc = pipe.fit(xtr, ytr).score(xte, yte)
    raw = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000, C=0.1))])
    raw_acc = raw.fit(xtr.reshape(len(xtr), -1), ytr).score(xte.reshape(len(xte), -1), yte)
    assert acc > 0.5, acc  # chance is 0.1
    assert acc > raw_acc + 0.02, (acc, raw_acc)  # measured: 0.705 vs 0.67


PRETRAINED_SHAPE = (96, 96, 3)


def test_feature_extractor_backbone_is_built_after_a_folded_transform():
    """transform runs a BatchNorm-folded copy of the pretrained Lite0; backbone_ itself must still
    be a built model afterwards (count_params, summary), with the same features."""
    x = np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3)).astype("uint8")
    fe = FeatureExtractor(backbone="efficientnet_lite0", input_shape=(32, 32, 3), cache=False, verbose=0)
    features = fe.fit_transform(x)
    assert fe.backbone_.built and fe.backbone_.count_params() > 3_000_000
    direct = np.asarray(fe.backbone_(x.astype("float32"), training=False))
    np.testing.assert_allclose(features, direct, rtol=1e-3, atol=1e-4)
