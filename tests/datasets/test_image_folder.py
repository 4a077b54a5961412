import numpy as np
import pytest
from PIL import Image

from keras_transfer.datasets import load_image_folder


def _write(root, layout, size=(20, 24)):
    """layout: {class name: number of images}; pixel value encodes (class, image)."""
    expected = {}
    for k, (name, count) in enumerate(layout.items()):
        (root / name).mkdir(parents=True)
        for i in range(count):
            arr = np.zeros((*size, 3), np.uint8)
            arr[..., 0], arr[..., 1], arr[..., 2] = 10 * k, 10 * i, 77
            Image.fromarray(arr).save(root / name / f"img{i}.png")
            expected[(name, i)] = arr
    return expected


def test_folder_loads_images_labels_and_sorted_class_names(tmp_path):
    expected = _write(tmp_path, {"zebra": 2, "ant": 3, "moth": 1})
    (tmp_path / "ant" / "notes.txt").write_text("not an image")
    (tmp_path / "ant" / ".hidden.png").write_bytes(b"junk")
    x, y, names = load_image_folder(tmp_path)
    assert names == ["ant", "moth", "zebra"]
    assert x.shape == (6, 20, 24, 3) and x.dtype == np.uint8
    assert y.tolist() == [0, 0, 0, 1, 2, 2] and y.dtype == np.int64
    assert np.array_equal(x[0], expected[("ant", 0)]) and np.array_equal(x[5], expected[("zebra", 1)])


def test_folder_resize_and_grayscale(tmp_path):
    _write(tmp_path / "a", {"one": 2}, size=(50, 40))
    (tmp_path / "a" / "two").mkdir()
    Image.fromarray(np.full((10, 30, 3), 200, np.uint8)).save(tmp_path / "a" / "two" / "x.jpg")
    x, y, names = load_image_folder(tmp_path / "a", image_size=(32, 16))
    assert x.shape == (3, 32, 16, 3) and names == ["one", "two"]
    assert abs(int(x[2].mean()) - 200) <= 2
    g, _, _ = load_image_folder(tmp_path / "a", image_size=8, color_mode="grayscale")
    assert g.shape == (3, 8, 8, 1)


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="`path`"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(TypeError, match="`path` must be a folder path"):
        load_image_folder(123)
    with pytest.raises(ValueError, match="no class sub-folders"):
        load_image_folder(tmp_path)
    (tmp_path / "cats").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        load_image_folder(tmp_path)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "cats" / "a.png")
    Image.fromarray(np.zeros((9, 8, 3), np.uint8)).save(tmp_path / "cats" / "b.png")
    with pytest.raises(ValueError, match="mixed sizes.*image_size"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="`color_mode`"):
        load_image_folder(tmp_path, image_size=8, color_mode="rgba")
    (tmp_path / "cats" / "c.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="Could not read image"):
        load_image_folder(tmp_path, image_size=8)
