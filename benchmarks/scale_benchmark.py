"""Scale: feature extraction and DANN from N JPEG files on disk, streamed vs held in memory, and
the same DANN run on one worker vs two `MultiWorkerMirroredStrategy` workers on 127.0.0.1.

For each N (``--sizes``, default 1000,10000,50000) the script writes N synthetic 128x128 JPEG
files (smooth random images, two class folders; reused from ``--data`` if present) and runs,
each in a fresh process so that its peak RSS is its own:

* ``streaming``: `keras_transfer.streaming.image_dataset` (decode, resize, batch, prefetch in
  tf.data) -> the backbone's compiled function, batch by batch;
* ``in-memory``: `keras_transfer.image_io.to_images` (every file decoded into one array), then
  the same compiled function over the array; reported as load + extract and extract only;
* ``dann epoch``: one epoch of `keras_transfer.models.DANN` (small CNN at 32x32) on
  `keras_transfer.streaming.two_domain_dataset` (first half of the files labelled source, the
  other half target).

``--workers 2`` adds: the DANN run on ``--worker-images`` files in one process and on two
worker processes (TF_CONFIG, free ports on 127.0.0.1), same global batch: the step-time ratio
and the largest weight difference. On one 2-core machine two workers share the same cores and
talk over loopback gRPC, so no speed-up is expected; the figure is reported as measured.

Usage:
    python benchmarks/scale_benchmark.py [--sizes 1000,10000,50000] [--backbone efficientnet_lite0]
        [--image-size 96] [--batch-size 32] [--repeats 3] [--skip in-memory,dann] [--data DIR]
        [--workers 2] [--worker-images 2000]

Throughput is the median of ``--repeats`` runs that alternate the two modes (the CPU may be
shared); CPU ms per image (process CPU time, all threads) is less sensitive to other jobs.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def make_files(root, n):
    """N JPEG files root/class_{0,1}/NNNNNN.jpg (128x128, smooth random, quality 90); returns paths."""
    import numpy as np
    from PIL import Image

    paths = [os.path.join(root, f"class_{i % 2}", f"{i:06d}.jpg") for i in range(n)]
    missing = [i for i, p in enumerate(paths) if not os.path.exists(p)]
    for name in ("class_0", "class_1"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    for i in missing:
        rng = np.random.default_rng(i)
        small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8) // (1 + i % 2)  # class 1 darker
        Image.fromarray(small).resize((128, 128), Image.BILINEAR).save(paths[i], quality=90)
    return paths


def peak_rss_mb():
    """This process's peak RSS (VmHWM; ru_maxrss would carry the parent's peak across exec)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----- one measurement per process ---------------------------------------------------------------
def run_extraction(args, paths, mode):
    import numpy as np
    import tensorflow as tf

    from keras_transfer.backbones import get_backbone
    from keras_transfer.image_io import to_images
    from keras_transfer.streaming import image_dataset, numpy_batches

    size = (args.image_size, args.image_size)
    backbone = get_backbone(args.backbone, input_shape=(*size, 3), weights=None, trainable=False)
    fn = tf.function(lambda x: backbone(x, training=False), input_signature=[tf.TensorSpec((None, *size, 3))])
    fn(np.zeros((args.batch_size, *size, 3), "float32"))  # trace outside the timing
    features = np.empty((len(paths), backbone.num_features), "float32")
    cpu = time.process_time()
    start = time.perf_counter()
    if mode == "streaming":
        i = 0
        for batch in numpy_batches(image_dataset(paths, size, batch_size=args.batch_size)):
            features[i : i + len(batch)] = fn(batch).numpy()
            i += len(batch)
        loaded = start
    else:
        images = to_images(paths, resize=True, size=size)
        loaded = time.perf_counter()
        for i in range(0, len(images), args.batch_size):
            features[i : i + args.batch_size] = fn(images[i : i + args.batch_size].astype("float32")).numpy()
    end = time.perf_counter()
    return {
        "images_per_s": len(paths) / (end - start),
        "cpu_ms_per_image": 1000 * (time.process_time() - cpu) / len(paths),
        "extract_only_per_s": len(paths) / (end - loaded),
        "peak_rss_mb": peak_rss_mb(),
        "checksum": float(features.sum()),
    }


def _dann(seed=0):
    import keras

    from keras_transfer.models import DANN

    keras.utils.set_random_seed(seed)
    features = keras.Sequential(
        [
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
            keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
        ]
    )
    model = DANN(features, label_head=2)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
    return model


def run_dann(args, paths, out=None):
    """One epoch of DANN on streamed files (under TF_CONFIG's strategy when set); seconds per step."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_transfer.streaming import two_domain_dataset

    half = len(paths) // 2
    labels = np.asarray([int(os.path.basename(os.path.dirname(p))[-1]) for p in paths[:half]])
    strategy = (
        tf.distribute.MultiWorkerMirroredStrategy()
        if "TF_CONFIG" in os.environ
        else tf.distribute.get_strategy()
    )
    dataset = two_domain_dataset(
        paths[:half], paths[half:], labels, image_size=32, batch_size=args.dann_batch, seed=0, shuffle=False
    )
    times = []

    class Timer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.t)

    with strategy.scope():  # build, compile and fit under the strategy, as the CI test does
        model = _dann()
        start = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0, callbacks=[Timer()])
    result = {
        "epoch_s": time.perf_counter() - start,
        "steps": len(times),
        "median_step_s": float(np.median(times[1:] if len(times) > 1 else times)),
        "peak_rss_mb": peak_rss_mb(),
    }
    if out is not None:
        np.savez(out, *[np.asarray(w) for w in model.weights])
    return result


def child(argv):
    """``--child KIND JSON_ARGS``: one measurement in this process, one JSON line on stdout."""
    kind, payload = argv[0], json.loads(argv[1])
    args = argparse.Namespace(**payload["args"])
    paths = payload["paths"]
    if kind == "dann":
        result = run_dann(args, paths, payload.get("out"))
    else:
        result = run_extraction(args, paths, kind)
    print("RESULT " + json.dumps(result), flush=True)


def spawn(kind, args, paths, env=None, out=None, timeout=3600):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"args": vars(args), "paths": paths, "out": out}, f)
    try:
        return subprocess.Popen(
            [sys.executable, __file__, "--child", kind, "@" + f.name],
            cwd=ROOT,
            env={
                **os.environ,
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
                **(env or {}),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ), f.name
    except Exception:
        os.remove(f.name)
        raise


def collect(proc, payload_file, timeout=3600):
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.remove(payload_file)
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{err[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def measure(kind, args, paths, **kwargs):
    proc, payload = spawn(kind, args, paths, **kwargs)
    return collect(proc, payload)


def _median(results):
    import numpy as np

    return {key: float(np.median([r[key] for r in results])) for key in results[0]}


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def two_workers(args, paths, workdir):
    """The DANN epoch on 1 process, then on 2 MWMS workers on 127.0.0.1: times and weight difference."""
    import numpy as np

    single = measure("dann", args, paths, out=os.path.join(workdir, "single.npz"))
    ports = free_ports(2)
    cluster = [f"127.0.0.1:{p}" for p in ports]
    procs = []
    try:
        for index in range(2):
            config = {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}}
            procs.append(
                spawn(
                    "dann",
                    args,
                    paths,
                    env={"TF_CONFIG": json.dumps(config), "CUDA_VISIBLE_DEVICES": ""},
                    out=os.path.join(workdir, f"worker{index}.npz"),
                )
            )
        results = [collect(p, f) for p, f in procs]
    finally:
        for p, _ in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    weights = [np.load(os.path.join(workdir, f"{name}.npz")) for name in ("single", "worker0", "worker1")]
    diff = max(float(np.abs(weights[0][k] - w[k]).max()) for w in weights[1:] for k in weights[0].files)
    return single, results, diff


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, payload = argv[1], argv[2]
        with open(payload[1:]) as f:
            return child([kind, f.read()])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--dann-batch", type=int, default=64)
    parser.add_argument(
        "--data", default=None, help="folder for the JPEG files (kept); default: a temp folder"
    )
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per mode; medians are shown")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: in-memory, dann")
    parser.add_argument("--workers", type=int, default=0, choices=[0, 2])
    parser.add_argument("--worker-images", type=int, default=2000)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    skip = set(filter(None, args.skip.split(",")))
    data = args.data or tempfile.mkdtemp(prefix="scale_benchmark_")
    import keras
    import tensorflow as tf

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}, tensorflow {tf.__version__}, keras {keras.__version__}, "
        f"python {sys.version.split()[0]}"
    )
    print(
        f"backbone={args.backbone} (weights=None) at {args.image_size}x{args.image_size}, batch {args.batch_size}; "
        f"files: 128x128 JPEG; DANN: small CNN at 32x32, batch {args.dann_batch}+{args.dann_batch}"
    )
    print(
        "| N | streaming images/s (CPU ms/image) | peak RSS MB | in-memory images/s: load+extract / "
        "extract only (CPU ms/image) | peak RSS MB | streaming / in-memory | DANN epoch s (steps) |"
    )
    print("|---|---|---|---|---|---|---|")
    try:
        for n in sizes:
            paths = make_files(data, n)
            runs = {"streaming": [], "in-memory": []}
            for _ in range(args.repeats):  # alternate, so both modes see the same background load
                for mode in runs:
                    if mode not in skip:
                        runs[mode].append(measure(mode, args, paths))
            stream = _median(runs["streaming"])
            memory = _median(runs["in-memory"]) if runs["in-memory"] else None
            dann = None if "dann" in skip else measure("dann", args, paths)
            memory_text = (
                "skipped"
                if memory is None
                else f"{memory['images_per_s']:.0f} / {memory['extract_only_per_s']:.0f} ({memory['cpu_ms_per_image']:.1f}) "
                f"| {memory['peak_rss_mb']:.0f}"
            )
            ratio = (
                "-"
                if memory is None
                else f"{stream['images_per_s'] / memory['images_per_s']:.2f}x / {stream['images_per_s'] / memory['extract_only_per_s']:.2f}x"
            )
            if memory is None:
                memory_text += " | -"
            dann_text = "-" if dann is None else f"{dann['epoch_s']:.1f} ({dann['steps']:.0f})"
            print(
                f"| {n} | {stream['images_per_s']:.0f} ({stream['cpu_ms_per_image']:.1f}) | {stream['peak_rss_mb']:.0f} | {memory_text} | {ratio} | {dann_text} |",
                flush=True,
            )
        if args.workers == 2:
            paths = make_files(data, args.worker_images)
            with tempfile.TemporaryDirectory() as workdir:
                single, workers, diff = two_workers(args, paths, workdir)
            ratio = workers[0]["median_step_s"] / single["median_step_s"]
            print(
                f"2 workers vs 1 process, DANN on {args.worker_images} files, global batch {args.dann_batch}: "
                f"median step {workers[0]['median_step_s'] * 1000:.0f} ms vs {single['median_step_s'] * 1000:.0f} ms "
                f"(ratio {ratio:.2f}; > 1 means slower), epoch {workers[0]['epoch_s']:.1f} s vs {single['epoch_s']:.1f} s, "
                f"steps {workers[0]['steps']} vs {single['steps']}, max |weight difference| {diff:.1e}"
            )
    finally:
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
