"""Regenerate keras_transfer/datasets/_data/fashion_mnist_subset.npz from the full Fashion-MNIST.

Source: Debian's ``dataset-fashion-mnist`` package (gzipped IDX files in
/usr/share/datasets/fashion-mnist; upstream https://github.com/zalandoresearch/fashion-mnist,
Copyright 2017 Zalando SE, MIT licence). Pass another folder holding the same four
``*-idx?-ubyte.gz`` files (e.g. ``~/.keras/datasets/fashion-mnist``) as the first argument.

The subset is class-balanced: 600 images per class from the training split (6,000) and 200 per
class from the test split (2,000), drawn without replacement with ``numpy.random.default_rng(0)``
and kept in their original order. Next to the images and labels the file stores the indices
they have in the full splits (``train_index``, ``test_index``), so any image can be traced back.

The archive is written with fixed zip timestamps, so the same input and zlib give the same
bytes (and the same sha256, recorded in data/README.md).

Usage:
    python data/make_fashion_mnist_subset.py [SOURCE_DIR] [OUTPUT]
"""

import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

SOURCE_DIR = Path("/usr/share/datasets/fashion-mnist")
OUTPUT = (
    Path(__file__).resolve().parents[1] / "keras_transfer" / "datasets" / "_data" / "fashion_mnist_subset.npz"
)
PER_CLASS = {"train": 600, "test": 200}
FILES = {"train": "train", "test": "t10k"}
SEED = 0


def read_idx(path: Path) -> np.ndarray:
    """Read one gzipped IDX file (magic 0x0801 labels or 0x0803 images) as uint8."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def balanced_indices(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` indices of every class, drawn without replacement, sorted."""
    picks = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def write_npz(path: Path, arrays: dict) -> None:
    """np.savez_compressed with fixed timestamps, so the bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def main(source_dir: Path = SOURCE_DIR, output: Path = OUTPUT) -> None:
    rng = np.random.default_rng(SEED)
    arrays = {}
    for split, prefix in FILES.items():
        x = read_idx(source_dir / f"{prefix}-images-idx3-ubyte.gz")
        y = read_idx(source_dir / f"{prefix}-labels-idx1-ubyte.gz")
        index = balanced_indices(y, PER_CLASS[split], rng)
        arrays[f"x_{split}"] = x[index]
        arrays[f"y_{split}"] = y[index]
        arrays[f"{split}_index"] = index.astype(np.int32)
    write_npz(output, arrays)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"wrote {output} ({output.stat().st_size:,} bytes) sha256={digest}")
    for name, arr in arrays.items():
        print(f"  {name}: {arr.dtype} {arr.shape}")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:3]]
    main(*args)
