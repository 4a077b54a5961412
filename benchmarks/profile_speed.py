"""Where the time goes: `FeatureExtractor.transform` and a DANN training step, profiled.

Two profilers, each on the same run:

- Python's ``cProfile`` over the call the user makes (``FeatureExtractor.transform``,
  ``model.predict``, ``DANN.fit``): the share of the wall time spent inside the compiled
  function (TensorFlow's ``TFE_Py_Execute``; on JAX, the jitted call plus the host copy that
  waits for it) against input checks, batching and other Python work.
- TensorFlow's own profiler (``tf.profiler.experimental``; its ``framework_op_stats`` table, read
  with TensorFlow's bundled converter, no TensorBoard needed): the op self-time per batch of the
  graph each path runs, grouped by op type. Two paths whose op time per batch is the same run the
  same kernels; a wall-time gap between them then lies outside the graph.

Usage:
    python benchmarks/profile_speed.py extractor [--size 96] [--images 256] [--backend jax] [--repeats 5]
    python benchmarks/profile_speed.py dann [--epochs 3] [--backend jax]

Numbers are measured, not asserted; on a shared machine compare shares, not seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import glob
import json
import os
import platform
import pstats
import sys
import tempfile
import time


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["extractor", "dann"])
    parser.add_argument(
        "--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"), choices=["tensorflow", "jax"]
    )
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3, help="dann: epochs profiled after a warm-up epoch")
    parser.add_argument("--repeats", type=int, default=5, help="extractor on JAX: alternating repeats")
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"backend={args.backend} (keras {keras.__version__}), python {sys.version.split()[0]}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    if args.what == "extractor":
        profile_extractor(args)
    else:
        profile_dann(args)


# -- cProfile: compiled work vs the rest ------------------------------------------------------
# Own time of these C entry points is time spent running compiled code (or waiting for it):
# TensorFlow runs every tf.function through TFE_Py_Execute; JAX dispatches a jitted call through
# pjit's C++ fast path asynchronously and waits for the result in the device->host copy
# (`numpy.asarray` of a JAX array) or, in `model.predict`, on the lock of the thread that collects
# the results (`acquire`).
COMPILED = {
    "tensorflow": ("TFE_Py_Execute",),
    "jax": ("pjit", "PjitFunction", "execute", "_value", "block_until_ready", "to_np", "asarray", "acquire"),
}


def python_profile(fn, backend: str):
    """Wall seconds of ``fn()`` under cProfile, the seconds spent inside compiled code, and the
    four largest own times outside it."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    fn()
    profiler.disable()
    wall = time.perf_counter() - start
    compiled, others = 0.0, []
    for (filename, _, name), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():
        builtin = filename == "~"
        if builtin and any(key in name for key in COMPILED[backend]):
            compiled += own
        else:
            others.append((own, name if builtin else f"{os.path.basename(filename)}:{name}"))
    others.sort(reverse=True)
    return wall, compiled, others[:4]


def report_python(label, wall, compiled, others, images=None):
    rate = f", {images / wall:.0f} images/s" if images else ""
    print(
        f"  {label:<34} wall {1000 * wall:8.1f} ms{rate}; inside the compiled function "
        f"{100 * compiled / wall:5.1f}%, outside {1000 * (wall - compiled):7.1f} ms"
    )
    top = "; ".join(f"{name} {1000 * own:.1f} ms" for own, name in others)
    print(f"  {'':<34} largest own times outside: {top}")


# -- TensorFlow profiler: op time per batch by op type ---------------------------------------
def op_profile(fn, calls: int):
    """Run ``fn()`` under tf.profiler; return (op self-time per call in ms, {op type: ms per call})."""
    import tensorflow as tf
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as converter

    logdir = tempfile.mkdtemp(prefix="kt_profile_")
    tf.profiler.experimental.start(logdir)
    try:
        fn()
    finally:
        tf.profiler.experimental.stop()
    (path,) = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    data, ok = converter.xspace_to_tools_data([path], "framework_op_stats", {})
    if not ok:
        raise RuntimeError(data)
    table = json.loads(data)[0]
    ids = [c["id"] for c in table["cols"]]
    by_type: dict[str, float] = {}
    for row in table["rows"]:
        cells = dict(zip(ids, (c.get("v") for c in row["c"])))
        if cells["type"] == "IDLE":
            continue
        by_type[cells["type"]] = by_type.get(cells["type"], 0.0) + cells["total_self_time"] / 1000 / calls
    return sum(by_type.values()), by_type


def report_ops(label, total, by_type, wall=None):
    top = sorted(by_type.items(), key=lambda kv: -kv[1])[:5]
    share = f" (wall {1000 * wall:.1f} ms per batch)" if wall else ""
    print(f"  {label:<34} op self-time {total:7.1f} ms per batch{share}")
    print(f"  {'':<34} " + "; ".join(f"{t} {100 * ms / total:.0f}%" for t, ms in top))


# -- the extractor ----------------------------------------------------------------------------
def profile_extractor(args):
    import keras
    import numpy as np

    from keras_transfer.sklearn import FeatureExtractor

    bs, n, shape = args.batch_size, args.images, (args.size, args.size, 3)
    x = np.random.default_rng(0).integers(0, 256, (n, *shape)).astype("uint8")
    extractor = FeatureExtractor(
        backbone="efficientnet_lite0", weights=None, input_shape=shape, batch_size=bs, cache=False, verbose=0
    ).fit(x[:1])
    extractor.transform(x)  # trace / compile
    backbone = extractor.backbone_
    backbone.predict(x, batch_size=bs, verbose=0)
    print(f"EfficientNet-Lite0 (weights=None) @{args.size}, {n} images, batch {bs}")
    print("cProfile (one call each, after a warm-up call):")
    for label, fn in {
        "FeatureExtractor.transform": lambda: extractor.transform(x),
        "model.predict": lambda: backbone.predict(x, batch_size=bs, verbose=0),
    }.items():
        wall, compiled, others = python_profile(fn, args.backend)
        report_python(label, wall, compiled, others, images=n)
    if args.backend == "jax":
        jax_compute_times(backbone, extractor.transform, x, bs, args.repeats)
        return
    if args.backend != "tensorflow":
        return
    import tensorflow as tf

    from keras_transfer.sklearn.feature_extractor import predict_function

    # what transform runs: free batch dimension, float32 input, BatchNorm folded into the convs
    ours = predict_function(backbone, fold_batch_norm=True)
    unfolded = predict_function(backbone)  # the same before folding
    loop = tf.function(lambda t: backbone(t, training=False))  # fixed batch, uint8 input
    xf = x.astype("float32")
    batches = range(0, n, bs)
    loop(tf.constant(x[:bs]))
    paths = {
        "FeatureExtractor graph (BN folded)": (lambda: [np.asarray(ours(xf[i : i + bs])) for i in batches]),
        "FeatureExtractor graph, BN unfolded": (
            lambda: [np.asarray(unfolded(xf[i : i + bs])) for i in batches]
        ),
        "compiled loop graph (uint8, [32,...])": (
            lambda: [loop(tf.constant(x[i : i + bs])).numpy() for i in batches]
        ),
        "model.predict": lambda: backbone.predict(x, batch_size=bs, verbose=0),
    }
    print("tf.profiler (op self-time per batch, the five largest op types):")
    for label, fn in paths.items():
        start = time.perf_counter()
        fn()
        wall = (time.perf_counter() - start) / len(batches)
        total, by_type = op_profile(fn, len(batches))
        report_ops(label, total, by_type, wall)
    del keras


def jax_compute_times(backbone, transform, x, bs, repeats):
    """JAX: the compiled computation alone, per batch, for each path, against the end-to-end
    call. Inputs are put on the device first and each call is waited for with
    ``block_until_ready``, so what is timed is the XLA executable; the end-to-end time per batch of
    the same path includes the host->device and device->host copies, batching and Python. When
    the computations take the same time, a gap between the end-to-end figures lies outside them.
    Paths alternate within each repeat; median [range] over ``repeats``."""
    import jax
    import numpy as np

    from keras_transfer.sklearn.feature_extractor import predict_function

    ours = predict_function(backbone, fold_batch_norm=True)  # what transform runs (BN folded)
    unfolded = predict_function(backbone)  # the same before folding: model.predict's computation
    tv = [v.value for v in backbone.trainable_variables]
    ntv = [v.value for v in backbone.non_trainable_variables]
    loop = jax.jit(lambda t: backbone.stateless_call(tv, ntv, t, training=False)[0])  # uint8 input
    xf = jax.device_put(x[:bs].astype("float32"))
    xu = jax.device_put(x[:bs])
    compute = {
        "FeatureExtractor (BN folded), float32": lambda: ours(xf),
        "same, BN unfolded (predict's graph)": lambda: unfolded(xf),
        "compiled loop (uint8 input)": lambda: loop(xu),
    }
    batches = range(0, len(x), bs)
    end_to_end = {
        "FeatureExtractor.transform": lambda: transform(x),
        "model.predict": lambda: backbone.predict(x, batch_size=bs, verbose=0),
        "compiled loop, numpy in and out": lambda: [np.asarray(loop(x[i : i + bs])) for i in batches],
    }
    for fn in compute.values():
        jax.block_until_ready(fn())
    times = {label: [] for label in [*compute, *end_to_end]}
    for _ in range(repeats):
        for label, fn in compute.items():
            start = time.perf_counter()
            for _ in batches:
                jax.block_until_ready(fn())
            times[label].append((time.perf_counter() - start) / len(batches))
        for label, fn in end_to_end.items():
            start = time.perf_counter()
            fn()
            times[label].append((time.perf_counter() - start) / len(batches))
    print(f"JAX, ms per batch of {bs}, median [range] of {repeats} alternating repeats:")
    print("  compiled computation alone (device-resident input, block_until_ready):")
    for label in compute:
        t = 1000 * np.array(times[label])
        print(f"    {label:<40} {np.median(t):7.1f} [{t.min():.1f}-{t.max():.1f}]")
    print("  end to end (numpy in, numpy out):")
    for label in end_to_end:
        t = 1000 * np.array(times[label])
        print(f"    {label:<40} {np.median(t):7.1f} [{t.min():.1f}-{t.max():.1f}]")


# -- DANN -------------------------------------------------------------------------------------
def profile_dann(args):
    import keras
    import numpy as np

    from keras_transfer.datasets import load_domain_pair
    from keras_transfer.models import DANN

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from dann_benchmark import cnn

    keras.utils.set_random_seed(0)
    pair = load_domain_pair("digits", seed=0)
    (xs, ys), (xt, _) = pair["source"], pair["target"]
    model = DANN(cnn(), int(ys.max()) + 1)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    fit = {"batch_size": 64, "verbose": 0}
    model.fit(x=(xs, xt), y=ys, epochs=1, **fit)  # trace / compile
    steps = -(-max(len(xs), len(xt)) // 64)
    print(f"DANN, small CNN (benchmarks/dann_benchmark.py), digits pair, batch 64+64, {steps} steps/epoch")
    print(f"cProfile over {args.epochs} epochs of fit (after a warm-up fit):")
    wall, compiled, others = python_profile(
        lambda: model.fit(x=(xs, xt), y=ys, epochs=args.epochs, **fit), args.backend
    )
    per_step = wall / (args.epochs * steps)
    print(
        f"  {'DANN.fit':<34} {1000 * per_step:6.1f} ms per step; inside the compiled step "
        f"{100 * compiled / wall:5.1f}%, outside {1000 * (wall - compiled) / (args.epochs * steps):6.2f} ms per step"
    )
    top = "; ".join(f"{name} {1000 * own:.1f} ms" for own, name in others)
    print(f"  {'':<34} largest own times outside: {top}")
    # the same without the post-fit collapse check (forward passes over up to 1,024 target rows)
    quiet = {**fit, "collapse_check": False}
    start = time.perf_counter()
    model.fit(x=(xs, xt), y=ys, epochs=args.epochs, **quiet)
    unchecked = time.perf_counter() - start
    print(
        f"  {'DANN.fit(collapse_check=False)':<34} {1000 * unchecked / (args.epochs * steps):6.1f} ms per step "
        f"(the check: {wall - unchecked:.2f} s of {wall:.2f} s)"
    )
    if args.backend != "tensorflow":
        return
    print("tf.profiler (op self-time per step, the five largest op types; fit without the check):")
    total, by_type = op_profile(lambda: model.fit(x=(xs, xt), y=ys, epochs=1, **quiet), steps)
    report_ops("DANN train step", total, by_type, unchecked / (args.epochs * steps))
    del np


if __name__ == "__main__":
    main()
