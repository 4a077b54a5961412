"""keras_transfer.streaming: streamed pixels equal the in-memory path's, labels, shuffling,
two-domain batches, the corrupt-file policy and argument errors."""

import os

import numpy as np
import pytest
from PIL import Image

from keras_transfer.image_io import read_image, to_images
from keras_transfer.streaming import (
    image_dataset,
    is_streaming_input,
    numpy_batches,
    source_fingerprint,
    two_domain_dataset,
)


def _smooth(rng, h, w):
    """A smooth random RGB image (JPEG-friendly), uint8."""
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.BILINEAR))


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """One image per format/mode the decoder routes differently, of assorted sizes."""
    root = tmp_path_factory.mktemp("mixed")
    rng = np.random.default_rng(0)
    specs = [
        ("rgb.png", "RGB", {}),
        ("gray.png", "L", {}),
        ("rgba.png", "RGBA", {}),
        ("palette.png", "P", {}),
        ("q90.jpg", "RGB", {"quality": 90}),
        ("q60_420.jpg", "RGB", {"quality": 60, "subsampling": 2}),
        ("gray.jpg", "L", {}),
        ("cmyk.jpg", "CMYK", {}),
        ("rgb.bmp", "RGB", {}),
        ("palette.bmp", "P", {}),
        ("rgb.gif", "RGB", {}),
        ("rgb.tif", "RGB", {}),
        ("rgb.webp", "RGB", {}),
    ]
    for i, (name, mode, kwargs) in enumerate(specs):
        image = Image.fromarray(_smooth(rng, 20 + 3 * i, 31 - i))
        image = image.convert(mode) if mode != "RGBA" else image.convert("RGBA")
        image.save(root / name, **kwargs)
    return root


def _folder_of_classes(root, num_per_class=3, size=(12, 10)):
    rng = np.random.default_rng(1)
    for name in ("cat", "dog"):
        (root / name).mkdir()
        for i in range(num_per_class):
            Image.fromarray(_smooth(rng, *size)).save(root / name / f"{i}.png")
    return root


@pytest.mark.backend_neutral
@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
def test_image_dataset_pixels_equal_read_image(mixed_folder, color_mode):
    paths = sorted(str(p) for p in mixed_folder.iterdir())
    expected = np.stack([read_image(p, (17, 23), color_mode) for p in paths])
    ds = image_dataset(mixed_folder, (17, 23), batch_size=5, color_mode=color_mode, dtype="uint8")
    streamed = np.concatenate(list(numpy_batches(ds)))
    assert ds.file_paths == paths
    mismatched = [
        os.path.basename(p) for p, a, b in zip(paths, expected, streamed) if not np.array_equal(a, b)
    ]
    assert mismatched == []


@pytest.mark.backend_neutral
def test_image_dataset_equals_to_images_for_files_and_arrays(tmp_path):
    rng = np.random.default_rng(2)
    paths = []
    for i in range(7):
        paths.append(str(tmp_path / f"{i}.jpg"))
        Image.fromarray(_smooth(rng, 40, 36)).save(paths[-1], quality=85)
    in_memory = to_images(paths, resize=True, size=(24, 24))
    streamed = np.concatenate(list(numpy_batches(image_dataset(paths, (24, 24), batch_size=3))))
    assert streamed.dtype == np.float32
    np.testing.assert_array_equal(streamed, in_memory.astype("float32"))
    native = to_images(paths, resize=False, size=(24, 24))  # no image_size: the files' own size
    np.testing.assert_array_equal(np.concatenate(list(numpy_batches(image_dataset(paths)))), native)
    # an array resized in the pipeline equals resize_images, the one resizer
    from keras_transfer.image_io import resize_images

    array_stream = np.concatenate(list(numpy_batches(image_dataset(native, (24, 24), dtype="uint8"))))
    np.testing.assert_array_equal(array_stream, resize_images(native, (24, 24)))


def test_image_dataset_inferred_labels_and_shuffle(tmp_path):
    root = _folder_of_classes(tmp_path)
    ds = image_dataset(root, batch_size=4, labels="inferred")
    assert ds.class_names == ["cat", "dog"]
    assert np.concatenate([y for _, y in numpy_batches(ds)]).tolist() == [0, 0, 0, 1, 1, 1]
    shuffled = image_dataset(root, batch_size=6, labels=np.arange(6), shuffle=True, seed=7)
    first, second = ([y for _, y in numpy_batches(shuffled)][0].tolist() for _ in range(2))
    assert sorted(first) == sorted(second) == list(range(6))
    assert first != second  # reshuffled every pass
    again = image_dataset(root, batch_size=6, labels=np.arange(6), shuffle=True, seed=7)
    assert [y for _, y in numpy_batches(again)][0].tolist() == first  # the seed fixes the order


def test_image_dataset_from_datasets_and_arrays():
    import tensorflow as tf

    x = np.arange(5 * 6 * 6 * 3, dtype="uint8").reshape(5, 6, 6, 3)
    unbatched = image_dataset(tf.data.Dataset.from_tensor_slices((x, np.arange(5))), batch_size=2)
    assert [b[0].shape for b in numpy_batches(unbatched)] == [(2, 6, 6, 3), (2, 6, 6, 3), (1, 6, 6, 3)]
    batched = image_dataset(tf.data.Dataset.from_tensor_slices(x).batch(4), image_size=3)
    assert [b.shape for b in numpy_batches(batched)] == [(4, 3, 3, 3), (1, 3, 3, 3)]
    gray = image_dataset(x[..., 0], batch_size=5)
    assert next(numpy_batches(gray)).shape == (5, 6, 6, 1)


def test_two_domain_dataset_cycles_the_smaller_domain(tmp_path):
    root = _folder_of_classes(tmp_path, num_per_class=5)
    target = np.full((3, 12, 10, 3), 255, "uint8")
    ds = two_domain_dataset(root, target, batch_size=4, seed=0)
    assert int(ds.cardinality()) == 3  # ceil(10 / 4): one pass over the larger domain
    batches = list(numpy_batches(ds))
    assert all(xs.shape == xt.shape == (4, 12, 10, 3) and ys.shape == (4,) for (xs, xt), ys in batches)
    labels = np.concatenate([ys for _, ys in batches])
    assert sorted(labels[:10].tolist()) == [0] * 5 + [1] * 5  # every source image in the epoch
    assert all((xt == 255).all() for (_, xt), _ in batches)
    assert ds.class_names == ["cat", "dog"]


def test_two_domain_dataset_refuses_target_labels_and_mismatched_shapes():
    import tensorflow as tf

    xs, ys = np.zeros((4, 8, 8, 3)), np.zeros(4)
    with pytest.raises(ValueError, match="Target labels are not allowed"):
        two_domain_dataset(xs, tf.data.Dataset.from_tensor_slices((xs, ys)), ys)
    with pytest.raises(ValueError, match="same shape"):
        two_domain_dataset(xs, np.zeros((4, 9, 8, 3)), ys)
    with pytest.raises(ValueError, match="source_labels"):
        two_domain_dataset(xs, xs)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        two_domain_dataset(xs, tf.data.Dataset.from_tensor_slices(xs).batch(2), ys)


def _corrupt_folder(root):
    rng = np.random.default_rng(3)
    for i in range(4):
        Image.fromarray(_smooth(rng, 16, 16)).save(root / f"{i}_good.png")
    (root / "5_text.jpg").write_text("not an image")
    (root / "6_empty.png").write_bytes(b"")
    good = (root / "0_good.png").read_bytes()
    (root / "7_truncated.png").write_bytes(good[: len(good) // 2])
    jpeg = root / "8_truncated.jpg"
    Image.fromarray(_smooth(rng, 16, 16)).save(jpeg)
    jpeg.write_bytes(jpeg.read_bytes()[:200])
    (root / "notes.txt").write_text("ignored: not an image extension")
    return root


def test_unreadable_files_raise_a_clear_error(tmp_path):
    root = _corrupt_folder(tmp_path)
    with pytest.raises(ValueError, match=r"Could not decode image file .*5_text\.jpg.*on_error='skip'"):
        list(numpy_batches(image_dataset(root, image_size=16)))
    # without image_size the headers are read up front: the error comes before any batch
    with pytest.raises(ValueError, match=r"3 unreadable image file\(s\).*5_text\.jpg.*6_empty\.png"):
        image_dataset(root)


def test_unreadable_files_are_skipped_with_a_message(tmp_path, capfd):
    root = _corrupt_folder(tmp_path)
    ds = image_dataset(root, image_size=16, labels=np.arange(8), on_error="skip", batch_size=3)
    labels = np.concatenate([y for _, y in numpy_batches(ds)])
    assert labels.tolist() == [0, 1, 2, 3]  # labels stay with their images
    err = capfd.readouterr().err
    for name in ("5_text.jpg", "6_empty.png", "7_truncated.png", "8_truncated.jpg"):
        assert "skipped unreadable image file" in err and name in err
    with pytest.warns(UserWarning, match="Skipping 3 unreadable"):
        image_dataset(root, on_error="skip")


def test_unreadable_file_inside_fit_names_the_file(tmp_path):
    import keras
    import tensorflow as tf

    root = _corrupt_folder(tmp_path)
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile(loss="sparse_categorical_crossentropy")
    ds = image_dataset(root, 16, labels=np.zeros(8, "int64"), batch_size=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"could not decode image file.*5_text\.jpg"):
        model.fit(ds, epochs=1, verbose=0)
    skipped = image_dataset(
        root, 16, labels=np.zeros(8, "int64"), batch_size=2, on_error="skip", full_batches=True
    )
    assert model.fit(skipped, epochs=2, verbose=0).history["loss"]


def test_full_batches_cycle_the_files_and_keep_the_epoch_length(tmp_path):
    root = _corrupt_folder(tmp_path)
    ds = image_dataset(
        root, 16, labels=np.arange(8), batch_size=3, on_error="skip", full_batches=True, shuffle=True, seed=1
    )
    assert int(ds.cardinality()) == 3  # ceil(8 files / 3), although 4 of them are unreadable
    for _ in range(2):  # two epochs
        labels = [y for _, y in numpy_batches(ds)]
        assert [len(y) for y in labels] == [3, 3, 3]
        assert set(np.concatenate(labels).tolist()) == {0, 1, 2, 3}  # the readable files, cycled


def test_a_stream_of_only_unreadable_files_stops(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.jpg").write_text("no")
    ds = image_dataset(tmp_path, 8, on_error="skip", full_batches=True)
    with pytest.raises(ValueError, match="None of the 2 image files could be decoded"):
        list(numpy_batches(ds))


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="`on_error` must be one of"):
        image_dataset(np.zeros((2, 4, 4, 3)), on_error="ignore")
    with pytest.raises(ValueError, match="`source` contains NaN or infinite pixels in 1 of 2"):
        image_dataset(np.stack([np.zeros((4, 4, 3)), np.full((4, 4, 3), np.nan)]))
    with pytest.raises(ValueError, match="`labels` must hold one label per image"):
        image_dataset(np.zeros((2, 4, 4, 3)), labels=[1, 2, 3])
    with pytest.raises(ValueError, match="labels='inferred'"):
        image_dataset([str(tmp_path / "a.png")], labels="inferred")
    with pytest.raises(ValueError, match="without image files"):
        image_dataset(tmp_path)
    rng = np.random.default_rng(0)
    Image.fromarray(_smooth(rng, 8, 8)).save(tmp_path / "a.png")
    Image.fromarray(_smooth(rng, 9, 8)).save(tmp_path / "b.png")
    with pytest.raises(ValueError, match="mixed sizes.*image_size="):
        image_dataset(tmp_path)


def test_source_fingerprint_follows_path_size_and_mtime(tmp_path):
    root = _folder_of_classes(tmp_path)
    key = source_fingerprint(root)
    assert key == source_fingerprint(sorted(str(p) for p in root.rglob("*.png")))
    first = next(root.rglob("*.png"))
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 10**9))
    assert source_fingerprint(root) != key
    assert source_fingerprint(np.zeros((2, 4, 4))) is None
    assert (
        is_streaming_input(root) and is_streaming_input([str(first)]) and not is_streaming_input(np.zeros(3))
    )


@pytest.mark.backend_neutral
def test_in_memory_and_streamed_input_resolve_the_same_files(tmp_path):
    """One resolver (`image_io.resolve_paths`) lists a folder for `to_images`, `image_dataset`
    and the cache key, so all three see the same files in the same order."""
    from keras_transfer.image_io import resolve_paths

    root = _folder_of_classes(tmp_path)
    paths = resolve_paths(root)
    assert paths == sorted(str(p) for p in root.rglob("*.png")) and len(paths) == 6
    assert image_dataset(root).file_paths == paths
    np.testing.assert_array_equal(
        to_images(root, resize=False, size=(12, 10)), to_images(paths, False, (12, 10))
    )
    assert source_fingerprint(root) == source_fingerprint(paths)
    single = paths[0]  # a single file is not a folder: the same clear error everywhere
    for call in (
        lambda: resolve_paths(single),
        lambda: to_images(single, resize=False, size=(12, 10)),
        lambda: image_dataset(single),
        lambda: source_fingerprint(single),
    ):
        with pytest.raises(ValueError, match="must be a folder of images or a list of image paths"):
            call()
