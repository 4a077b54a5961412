"""The backend-neutral models under `keras.distribution.DataParallel` on JAX, on two virtual CPU
devices, match one device: DANN, DiscrepancyModel (CORAL), TransferClassifier.fine_tune and DANN
on streamed image folders.

XLA reads ``--xla_force_host_platform_device_count`` when jax starts, so the runs happen in a
subprocess (``python -m tests.distributed.worker jax ...``) that sets it before importing jax.
DataParallel compiles one program over the global batch, so even CORAL's batch statistics are
those of a single device.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.distributed.worker import TASKS, make_image_folders

pytestmark = pytest.mark.backend_neutral

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5


def test_data_parallel_on_two_devices_matches_one_device(tmp_path):
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip("runs in the JAX pass: KERAS_BACKEND=jax python -m pytest -q -m backend_neutral")
    make_image_folders(tmp_path / "images")
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("XLA_FLAGS", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.distributed.worker",
            "jax",
            str(tmp_path),
            str(tmp_path / "images"),
            *TASKS,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    for task in TASKS:
        single, parallel = (np.load(tmp_path / f"{task}_{tag}.npz") for tag in ("single", "data_parallel"))
        worst = max(float(np.max(np.abs(single[k].astype("float64") - parallel[k]))) for k in single.files)
        assert worst < TOLERANCE, f"{task}: DataParallel vs one device differ by {worst:.2e}"
        log_single, log_parallel = (
            json.loads((tmp_path / f"{task}_{tag}.json").read_text()) for tag in ("single", "data_parallel")
        )
        assert log_parallel["num_replicas"] == 2 and log_parallel["variable_devices"] == 2  # replicated
        assert log_single["variable_devices"] == 1
        assert log_parallel["iterations"] == log_single["iterations"]  # one step per global batch
        np.testing.assert_allclose(log_parallel["learning_rate"], log_single["learning_rate"], rtol=1e-6)
        np.testing.assert_allclose(log_parallel["scale"], log_single["scale"], rtol=1e-6)
