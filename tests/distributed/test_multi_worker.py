"""Multi-worker training under `tf.distribute.MultiWorkerMirroredStrategy`, two worker processes
on 127.0.0.1 with ``TF_CONFIG`` (the commands the README's "Scaling out" section shows).

Checked: the workers end with identical weights that match one process with the same global
batch (to 1e-5); `MirroredStrategy` on two devices of one host matches one device; the learning-rate and reversal schedules advance once per global step; and
`keras.callbacks.BackupAndRestore` resumes the cluster after one worker is killed mid-training.
Every process runs under a timeout and is killed in ``finally``.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.distributed.worker import GLOBAL_BATCH, TASKS, make_image_folders

pytestmark = pytest.mark.distributed

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 480  # seconds for one cluster run (two TensorFlow imports and four small fits on 2 cores)
TOLERANCE = 1e-5  # max |weight difference| between the 2-worker and the 1-process runs
# The 1-process run each task is compared with. CORAL is a statistic of each replica's batch, so
# its twin splits the global batch over two replicas too (MirroredStrategy on two logical CPUs).
# The streamed task reshuffles every epoch from a per-iteration seed, and Keras reads one batch
# from a fresh iterator before training under any tf.distribute strategy: its twin is also the
# MirroredStrategy run (on one device its epochs follow the same sequence, shifted by one).
REFERENCE = {"dann": "single", "coral": "mirrored", "fine_tune": "single", "dann_stream": "mirrored"}


def free_ports(n):
    """n free TCP ports on 127.0.0.1 (held open until all are chosen, so they differ)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports, index):
    return json.dumps(
        {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
    )


def _env(**extra):
    env = {
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "",
        "KERAS_BACKEND": "tensorflow",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop("TF_CONFIG", None)
    return {**env, **extra}


def _start(args, out, name, env):
    with open(out / f"{name}.log", "w") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "tests.distributed.worker", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _wait(procs, deadline):
    for proc in procs:
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))


def _stop(procs):
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def _log_tail(out, name):
    path = out / f"{name}.log"
    return path.read_text()[-3000:] if path.exists() else "(no log)"


def run_cluster(out, data, tasks, *extra, kill_at=None, reference=False, timeout=TIMEOUT):
    """Run two workers (and optionally the 1-process reference beside them); return the exit codes.

    With ``kill_at``, worker 1 SIGKILLs itself there; worker 0, stuck in a collective with a dead
    peer, is given 60 s to fail on its own and is then killed, as a cluster manager would.
    """
    ports = free_ports(2)
    procs = []
    try:
        for index in range(2):
            args = ["worker", str(out), str(data), *tasks, *extra]
            if kill_at is not None and index == 1:
                args += ["--kill-at", kill_at]
            procs.append(_start(args, out, f"worker{index}", _env(TF_CONFIG=tf_config(ports, index))))
        if reference:
            procs.append(_start(["reference", str(out), str(data), *tasks], out, "reference", _env()))
        deadline = time.monotonic() + timeout
        if kill_at is not None:
            _wait([procs[1]], deadline)
            try:
                _wait([procs[0]], min(deadline, time.monotonic() + 60))
            except subprocess.TimeoutExpired:
                pass
            return [p.poll() for p in procs]
        _wait(procs, deadline)
        return [p.returncode for p in procs]
    finally:
        _stop(procs)


def _weights(out, task, tag):
    with np.load(out / f"{task}_{tag}.npz") as f:
        return [f[k] for k in f.files]


def _log(out, task, tag):
    return json.loads((out / f"{task}_{tag}.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One 2-worker run of every task, with the 1-process reference run beside it."""
    out, data = tmp_path_factory.mktemp("cluster"), tmp_path_factory.mktemp("images")
    make_image_folders(data)
    codes = run_cluster(out, data, TASKS, reference=True)
    names = ["worker0", "worker1", "reference"]
    assert codes == [0, 0, 0], "\n".join(f"--- {n}: {_log_tail(out, n)}" for n in names)
    return out, data


@pytest.mark.parametrize("task", TASKS)
def test_workers_end_identical_and_match_one_process(runs, task):
    out, _ = runs
    w0, w1 = _weights(out, task, "worker0"), _weights(out, task, "worker1")
    assert _log(out, task, "worker0")["num_replicas"] == 2
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)  # all-reduced updates: bit-identical workers
    reference = _weights(out, task, REFERENCE[task])
    assert len(reference) == len(w0)
    worst = max(float(np.max(np.abs(a.astype("float64") - b))) for a, b in zip(w0, reference))
    assert worst < TOLERANCE, f"{task}: 2 workers vs 1 process differ by {worst:.2e}"


@pytest.mark.parametrize("task", ["dann", "fine_tune"])
def test_mirrored_strategy_on_one_host_matches_one_device(runs, task):
    """Several GPUs on one host: `MirroredStrategy` over two devices (the reference process's two
    logical CPUs) ends where one device does with the same global batch."""
    out, _ = runs
    assert _log(out, task, "mirrored")["num_replicas"] == 2
    mirrored, single = _weights(out, task, "mirrored"), _weights(out, task, "single")
    worst = max(float(np.max(np.abs(a.astype("float64") - b))) for a, b in zip(mirrored, single))
    assert worst < TOLERANCE, f"{task}: MirroredStrategy on 2 devices vs 1 device differ by {worst:.2e}"


def test_two_domain_fit_called_outside_the_strategy_scope():
    """Keras' pattern: build and compile under ``strategy.scope()``, call ``fit`` after it. The
    variables `fit` creates (the model is built before Keras' fit starts) must still belong to the
    strategy. One CPU replica is enough to tell."""
    import keras
    import tensorflow as tf

    from keras_transfer.models import DANN

    rng = np.random.default_rng(0)
    xs, xt = rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 4)).astype("float32")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = DANN(keras.Sequential([keras.layers.Dense(8, activation="relu")]), label_head=2)
        model.compile(optimizer=keras.optimizers.SGD(0.01))
    history = model.fit((xs, xt), np.arange(32) % 2, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(isinstance(v.value, tf.distribute.DistributedValues) for v in model.trainable_variables)


def test_schedules_advance_per_global_step(runs):
    out, _ = runs
    steps = 4 * -(-96 // GLOBAL_BATCH)  # 4 epochs of 96 source rows at the global batch
    reference = _log(out, "dann", "single")
    for tag in ("worker0", "worker1"):
        log = _log(out, "dann", tag)
        assert log["iterations"] == list(range(1, steps + 1))  # one optimizer step per global batch
        np.testing.assert_allclose(log["learning_rate"], reference["learning_rate"], rtol=1e-6)
        np.testing.assert_allclose(log["scale"], reference["scale"], rtol=1e-6)
    assert log["scale"][-1] > log["scale"][0] and log["learning_rate"][-1] < log["learning_rate"][0]


def test_backup_and_restore_resumes_after_a_worker_is_killed(runs, tmp_path):
    out_done, data = runs
    backup = tmp_path / "backup"
    codes = run_cluster(tmp_path, data, ["dann"], "--backup", str(backup), kill_at="2:3")
    assert codes[1] == -9, _log_tail(tmp_path, "worker1")  # SIGKILL, mid-epoch 2
    assert (tmp_path / "dann_worker1.killed").read_text() == "2:3"
    assert not (tmp_path / "dann_worker0.npz").exists()  # the survivor did not finish either
    codes = run_cluster(tmp_path, data, ["dann"], "--backup", str(backup))
    assert codes == [0, 0], _log_tail(tmp_path, "worker0") + _log_tail(tmp_path, "worker1")
    for tag in ("worker0", "worker1"):
        log = _log(tmp_path, "dann", tag)
        assert log["epochs"] == [2, 3]  # resumed from the backup of epoch 1
        assert log["iterations"][0] == 2 * -(-96 // GLOBAL_BATCH) + 1
        resumed, uninterrupted = _weights(tmp_path, "dann", tag), _weights(out_done, "dann", tag)
        worst = max(float(np.max(np.abs(a.astype("float64") - b))) for a, b in zip(resumed, uninterrupted))
        assert worst < TOLERANCE, f"resumed vs uninterrupted: {worst:.2e}"
