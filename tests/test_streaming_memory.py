"""Streaming keeps memory bounded: peak RSS over 3,000 files is within a few MB of 1,500 files,
for `image_dataset` and for `FeatureExtractor.transform` on the files (128x128 PNG).

Measured in a fresh subprocess (peak RSS, VmHWM, is per process and never goes down): stream
1,500 files, read the peak, stream 3,000, read it again. The in-memory loader runs last in the same process
as the control: it must exceed the bound, or the test could not fail.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Peak RSS growth from streaming 1,500 files to streaming 3,000. The peak of a stream is the
# moment the most batches are alive at once (prefetch, parallel decode, the model's activations),
# which varies from run to run: measured +2 to +31 MB here, and a first pass over 300 files peaked
# 16 to 72 MB below one over 3,000 (warm-up of TensorFlow and the allocators; two more passes over
# the same 3,000 files then added +24 and +4 MB: it levels off). Loading the same 3,000 images into
# memory instead adds 168 to 524 MB.
BOUND_MB = 80

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    from PIL import Image

    folder, n = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(0)
    for i in range(n):
        small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        Image.fromarray(small).resize((128, 128), Image.BILINEAR).save(f"{folder}/{i:05d}.png")
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder))

    from keras_transfer.image_io import to_images
    from keras_transfer.streaming import image_dataset, numpy_batches

    def peak_mb():  # VmHWM: this process's peak; ru_maxrss would include the parent's (kept across exec)
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024

    if sys.argv[3] == "extractor":  # FeatureExtractor.transform(folder of files), features kept
        from keras_transfer.sklearn import FeatureExtractor

        fe = FeatureExtractor(
            backbone="mobilenet_v3_small", weights=None, input_shape=(32, 32, 3), cache=False, verbose=0
        ).fit(paths[:1])

        def stream(files):
            return fe.transform(files).shape
    else:

        def stream(files):
            total = 0.0
            for batch in numpy_batches(image_dataset(files, (96, 96), batch_size=32)):
                total += float(batch[:, 0, 0, 0].sum())  # touch every batch, keep nothing
            return total

    stream(paths[:32])  # warm up TensorFlow, tf.data and the allocators on the first half
    stream(paths[: n // 2])
    small = peak_mb()
    stream(paths)
    large = peak_mb()
    images = to_images(paths, resize=True, size=(96, 96))  # the in-memory path, as control
    eager = peak_mb()
    print(json.dumps({"small": small, "large": large, "eager": eager, "n": len(images)}))
    """
)


@pytest.mark.parametrize("consumer", ["image_dataset", "extractor"])
def test_streaming_peak_rss_is_bounded(tmp_path, consumer):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), "3000", consumer],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    peaks = json.loads(result.stdout.strip().splitlines()[-1])
    growth = peaks["large"] - peaks["small"]
    assert growth < BOUND_MB, f"streaming 3,000 files grew peak RSS by {growth:.0f} MB: {peaks}"
    # the control: holding the same images in memory does exceed the bound
    assert peaks["eager"] - peaks["large"] > BOUND_MB, peaks
