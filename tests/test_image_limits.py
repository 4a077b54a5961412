"""Image files that are too big to decode are refused from their header on every reading path
(in memory, image folders, streaming), and 16-bit images are scaled to 8 bits, not clipped."""

import os

import numpy as np
import pytest
from PIL import Image

from keras_transfer import image_io
from keras_transfer.datasets import load_image_folder
from keras_transfer.image_io import read_image
from keras_transfer.streaming import image_dataset, numpy_batches
from tests.bad_inputs import png_bomb


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    return png_bomb(tmp_path_factory.mktemp("bomb") / "bomb.png")


def test_read_image_refuses_a_png_bomb_naming_the_file(bomb):
    with pytest.raises(ValueError, match=r"bomb\.png.*`X`.*MAX_IMAGE_PIXELS=89478485"):
        read_image(bomb)


@pytest.mark.parametrize("size", [None, (8, 8)])
def test_streaming_refuses_a_png_bomb_before_decoding(bomb, size):
    dataset = image_dataset([bomb], image_size=size or (8, 8), batch_size=1)
    with pytest.raises(ValueError, match=r"bomb\.png.*MAX_IMAGE_PIXELS=89478485"):
        list(numpy_batches(dataset))


def test_the_limit_is_settable_on_every_path(tmp_path, monkeypatch):
    for fmt in ("png", "jpg", "bmp"):  # in-graph PNG, in-graph JPEG, PIL in the stream
        Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / f"a.{fmt}")
    monkeypatch.setattr(image_io, "MAX_IMAGE_PIXELS", 1999)  # 40 x 50 = 2000 pixels
    for fmt in ("png", "jpg", "bmp"):
        path = str(tmp_path / f"a.{fmt}")
        with pytest.raises(ValueError, match="2000 pixels"):
            read_image(path)
        with pytest.raises(ValueError, match=rf"a\.{fmt}.*MAX_IMAGE_PIXELS=1999"):
            list(numpy_batches(image_dataset([path], image_size=(8, 8))))
    monkeypatch.setattr(image_io, "MAX_IMAGE_PIXELS", 2000)
    for fmt in ("png", "jpg", "bmp"):
        path = str(tmp_path / f"a.{fmt}")
        assert read_image(path).shape == (40, 50, 3)
        assert next(numpy_batches(image_dataset([path]))).shape == (1, 40, 50, 3)


def test_load_image_folder_names_the_file_pil_refuses(tmp_path, monkeypatch):
    (tmp_path / "cat").mkdir()
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / "cat" / "big.png")
    monkeypatch.setattr(image_io, "MAX_IMAGE_PIXELS", None)  # our check off: PIL's own remains
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 900)  # PIL refuses above twice this
    with pytest.raises(ValueError, match=r"big\.png.*`path`.*decompression bomb"):
        load_image_folder(tmp_path)


def _ramp16(tmp_path):
    ramp = (np.arange(16 * 16).reshape(16, 16) * 257).astype(np.uint16)  # 0 .. 65535 in 256 steps
    path = str(tmp_path / "ramp16.png")
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")  # really 16-bit on disk
    return path, (np.arange(256).reshape(16, 16)).astype(np.uint8)


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
def test_16_bit_png_is_scaled_to_8_bits_on_both_paths(tmp_path, color_mode):
    path, expected = _ramp16(tmp_path)
    channels = 3 if color_mode == "rgb" else 1
    expected = np.repeat(expected[..., None], channels, axis=-1)
    np.testing.assert_array_equal(read_image(path, color_mode=color_mode), expected)
    streamed = next(numpy_batches(image_dataset([path], color_mode=color_mode)))[0]
    np.testing.assert_array_equal(streamed, expected)
    assert os.path.getsize(path) > 0


def test_feature_extractor_refuses_a_bomb_among_its_paths(bomb):
    from keras_transfer.sklearn import FeatureExtractor

    extractor = FeatureExtractor(
        backbone="mobilenet_v3_small", weights=None, input_shape=(32, 32, 3), verbose=0
    )
    with pytest.raises(ValueError, match=r"bomb\.png.*MAX_IMAGE_PIXELS"):
        extractor.fit_transform([bomb])
