"""Streamed input in the task models: a folder or a list of files gives the same predictions as
the same images loaded into memory, and trains (fit, fine_tune) with unreadable files skipped."""

import numpy as np
import pytest
from PIL import Image

from keras_transfer.image_io import to_images
from tests.distributed.worker import tiny_backbone


def _folder(root, num_per_class=6, size=(10, 12), corrupt=False):
    rng = np.random.default_rng(0)
    for label, name in enumerate(("a", "b")):
        (root / name).mkdir(parents=True)
        for i in range(num_per_class):
            pixels = rng.integers(0, 120, (*size, 3)) + 100 * label
            Image.fromarray(pixels.astype("uint8")).save(root / name / f"{i}.jpg", quality=90)
    if corrupt:
        (root / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return root


def test_transfer_classifier_streams_folders(tmp_path):
    from keras_transfer.models import TransferClassifier

    root = _folder(tmp_path / "images", corrupt=True)
    model = TransferClassifier(tiny_backbone(), num_classes=2, policy="unfreeze_all", dropout=0.0)
    history = model.fine_tune(root, head_epochs=1, epochs=1, batch_size=4, verbose=0)
    assert history.history["phase"] == ["head", "fine_tune"]
    (tmp_path / "images" / "a" / "broken.jpg").unlink()
    paths = sorted(str(p) for p in (tmp_path / "images").rglob("*.jpg"))
    in_memory = model.predict(to_images(paths, resize=True, size=model.backbone.input_size), verbose=0)
    np.testing.assert_array_equal(model.predict(root, verbose=0), in_memory)
    np.testing.assert_array_equal(model.predict(paths, batch_size=5, verbose=0), in_memory)
    loss, accuracy = model.evaluate(root, verbose=0)
    expected = model.evaluate(
        to_images(paths, resize=True, size=model.backbone.input_size), np.repeat([0, 1], 6), verbose=0
    )
    np.testing.assert_allclose([loss, accuracy], expected, rtol=1e-6)


def test_transfer_classifier_fit_on_a_list_needs_labels(tmp_path):
    from keras_transfer.models import TransferClassifier

    root = _folder(tmp_path)
    paths = sorted(str(p) for p in root.rglob("*.jpg"))
    model = TransferClassifier(tiny_backbone(), num_classes=2)
    model.compile()
    with pytest.raises(ValueError, match="one label per path"):
        model.fit(paths, epochs=1, verbose=0)
    assert model.fit(paths, np.repeat([0, 1], 6), epochs=1, batch_size=4, verbose=0).history["loss"]


def _two_domain_folders(root):
    source = _folder(root / "source", num_per_class=8, size=(8, 8))
    rng = np.random.default_rng(1)
    (root / "target").mkdir()
    for i in range(10):
        Image.fromarray(rng.integers(60, 256, (8, 8, 3)).astype("uint8")).save(root / "target" / f"{i}.png")
    return source, root / "target"


def test_dann_fits_on_two_streamed_folders_and_predicts_like_arrays(tmp_path):
    import keras

    from keras_transfer.models import DANN

    source, target = _two_domain_folders(tmp_path)
    features = keras.Sequential(
        [keras.layers.Rescaling(1 / 255), keras.layers.Flatten(), keras.layers.Dense(8)]
    )
    model = DANN(features, label_head=2)
    model.compile(optimizer="adam")
    history = model.fit(x=(source, target), epochs=2, batch_size=4, verbose=0)
    assert len(history.history["reversal_scale"]) == 2
    assert model.reversal.step.numpy() == 2 * 4  # ceil(16 source files / 4) steps per epoch
    arrays = to_images(target, resize=False, size=(8, 8))
    np.testing.assert_array_equal(model.predict(target, verbose=0), model.predict(arrays, verbose=0))


def test_discrepancy_model_mixes_an_array_source_and_a_streamed_target(tmp_path):
    import keras

    from keras_transfer.models import DiscrepancyModel

    _, target = _two_domain_folders(tmp_path)
    xs = np.random.default_rng(0).integers(0, 256, (12, 8, 8, 3)).astype("float32")
    model = DiscrepancyModel(keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(4)]), 2, "coral")
    model.compile(optimizer="adam")
    history = model.fit(x=(xs, str(target)), y=np.arange(12) % 2, epochs=1, batch_size=4, verbose=0)
    assert history.history["adaptation_loss"]
    with pytest.raises(ValueError, match="Target labels are not allowed"):
        model.fit(x=(xs, str(target)), y=(np.zeros(12), np.zeros(10)), verbose=0)
