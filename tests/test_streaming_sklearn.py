"""Streamed input in the scikit-learn estimators: the same features and predictions as the same
images in memory, the feature cache keyed by file path, size and mtime, clear errors."""

import os

import numpy as np
import pytest
from PIL import Image

from keras_transfer.image_io import to_images

TINY = {"backbone": "mobilenet_v3_small", "weights": None, "input_shape": (32, 32, 3), "verbose": 0}


def _folder(root, sizes=((24, 24),), num_per_class=5):
    rng = np.random.default_rng(0)
    for label, name in enumerate(("ants", "bees")):
        (root / name).mkdir(parents=True)
        for i in range(num_per_class):
            h, w = sizes[i % len(sizes)]
            pixels = rng.integers(0, 150, (h, w, 3)) + 100 * label
            Image.fromarray(pixels.astype("uint8")).save(root / name / f"{i}.jpg", quality=92)
    return root


@pytest.mark.backend_neutral
def test_feature_extractor_streams_files_with_the_in_memory_features(tmp_path):
    from keras_transfer.sklearn import FeatureExtractor

    root = _folder(tmp_path / "same")
    paths = sorted(str(p) for p in root.rglob("*.jpg"))
    fe = FeatureExtractor(**TINY, batch_size=4, cache=False).fit(root)
    in_memory = fe.transform(to_images(root, resize=False, size=(32, 32)))
    np.testing.assert_array_equal(fe.transform(root), in_memory)
    np.testing.assert_array_equal(fe.transform(paths[::-1]), in_memory[::-1])
    mixed = _folder(tmp_path / "mixed", sizes=((24, 24), (40, 30), (17, 33)))
    fe_resize = FeatureExtractor(**TINY, batch_size=4, cache=False, resize=True).fit(mixed)
    expected = fe_resize.transform(to_images(mixed, resize=True, size=(32, 32)))
    np.testing.assert_array_equal(fe_resize.transform(mixed), expected)
    with pytest.raises(ValueError, match="mixed sizes.*image_size"):
        fe.transform(mixed)


def test_feature_extractor_takes_a_tf_data_dataset(tmp_path):
    import tensorflow as tf

    from keras_transfer.sklearn import FeatureExtractor

    x = np.random.default_rng(0).integers(0, 256, (10, 32, 32, 3)).astype("uint8")
    fe = FeatureExtractor(**TINY, batch_size=4, cache=True).fit(x)
    expected = fe.transform(x)
    for dataset in (
        tf.data.Dataset.from_tensor_slices(x),
        tf.data.Dataset.from_tensor_slices((x, x[:, 0, 0, 0])).batch(3),
    ):
        np.testing.assert_allclose(fe.transform(dataset), expected, rtol=1e-6, atol=1e-6)


def test_feature_cache_keys_streamed_files_by_path_size_and_mtime(tmp_path):
    from keras_transfer.sklearn import FeatureExtractor, clear_feature_cache, feature_cache_info

    root = _folder(tmp_path / "images")
    clear_feature_cache()
    fe = FeatureExtractor(**TINY, batch_size=4, cache=str(tmp_path / "cache")).fit(root)
    first = fe.transform(root)
    np.testing.assert_array_equal(fe.transform(root), first)
    assert feature_cache_info()["hits"] == 1
    clear_feature_cache()  # memory gone: the disk entry (shared by processes) answers
    np.testing.assert_array_equal(fe.transform(root), first)
    assert feature_cache_info()["disk_hits"] == 1
    image = root / "ants" / "0.jpg"
    Image.fromarray(np.zeros((24, 24, 3), "uint8")).save(image, quality=92)
    stat = image.stat()
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a rewritten file: new key
    changed = fe.transform(root)
    assert feature_cache_info()["misses"] == 1
    assert not np.array_equal(changed[0], first[0]) and np.array_equal(changed[1:], first[1:])


def test_feature_extractor_names_an_unreadable_file(tmp_path):
    from keras_transfer.sklearn import FeatureExtractor

    root = _folder(tmp_path)
    (root / "bees" / "9.jpg").write_bytes(b"\xff\xd8\xff truncated")
    fe = FeatureExtractor(**TINY, cache=False, resize=True).fit(np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match=r"Could not decode image file .*9\.jpg"):
        fe.transform(root)


def test_fine_tuned_classifier_fits_and_predicts_streamed_folders(tmp_path):
    from keras_transfer.sklearn import FineTunedClassifier

    root = _folder(tmp_path)
    clf = FineTunedClassifier(
        **TINY, head_epochs=1, epochs=1, batch_size=4, class_weight="balanced", random_state=0
    )
    clf.fit(root)  # labels from the class sub-folders
    assert clf.classes_.tolist() == ["ants", "bees"]
    images = to_images(root, resize=False, size=(32, 32))
    np.testing.assert_array_equal(clf.predict_proba(root), clf.predict_proba(images))
    assert clf.score(root, ["ants"] * 5 + ["bees"] * 5) == clf.score(images, ["ants"] * 5 + ["bees"] * 5)
    with pytest.raises(ValueError, match="sample_weight.*validation_data"):
        clf.fit(root, sample_weight=np.ones(10))


def test_domain_adaptation_classifier_predicts_streamed_files_like_arrays(tmp_path):
    from keras_transfer.sklearn import DomainAdaptationClassifier

    root = _folder(tmp_path)
    images = to_images(root, resize=False, size=(32, 32))
    y = np.repeat(["ants", "bees"], 5)
    clf = DomainAdaptationClassifier(**TINY, method="dann", epochs=1, batch_size=4, random_state=0)
    clf.fit(images, y, X_target=images[::-1])
    np.testing.assert_array_equal(clf.predict_proba(root), clf.predict_proba(images))
    assert clf.predict(root).tolist() == clf.predict(images).tolist()
