"""benchmarks/gpu_benchmark.py runs (CPU smoke mode) on the JAX backend without importing TensorFlow."""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks", "gpu_benchmark.py")


def _smoke(tmp_path, *extra):
    pytest.importorskip("jax")
    out = tmp_path / "gpu.json"
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--smoke", "--forbid-tensorflow", "--json", str(out), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_gpu_benchmark_smoke_dann_without_tensorflow(tmp_path):
    result, stdout = _smoke(tmp_path, "--parts", "dann")
    assert result["tensorflow_imported"] is False
    rows = {r["who"]: r for r in result["rows"]}
    assert set(rows) == {"ours (DANN)", "plain Keras"}
    assert all(r["median"] > 0 and r["min"] <= r["median"] <= r["max"] for r in rows.values())
    assert rows["ours (DANN)"]["ratio"]["median"] > 0
    assert "DANN step" in stdout and "ratio" in stdout


@pytest.mark.slow
def test_gpu_benchmark_smoke_every_part(tmp_path):
    result, _ = _smoke(tmp_path, "--backbones", "mobilenet_v3_small")
    measures = {r["measure"] for r in result["rows"]}
    assert measures == {
        "fine-tune step mobilenet_v3_small",
        "feature extraction mobilenet_v3_small",
        "DANN step (LeNet, 28x28x3)",
    }
    assert result["tensorflow_imported"] is False
    fine_tune = [r for r in result["rows"] if r["measure"].startswith("fine-tune")]
    if "peak_fraction" in fine_tune[0]:  # XLA's cost analysis reported the FLOPs
        assert 0 < fine_tune[0]["peak_fraction"] < 1
