"""Feature extraction throughput: ours vs `model.predict` vs a plain compiled loop, same run.

"ours" is `keras_transfer.sklearn.FeatureExtractor.transform` (one cached compiled function per
backbone, BatchNorm folded into the convolutions, feature cache off); "ours before" the same
compiled path over the unfolded backbone (FeatureExtractor before the folding); "predict" is `backbone.predict`; "compiled loop" is a hand-written
`tf.function` (TensorFlow) or `jax.jit` over `stateless_call` (JAX) batch loop. Each figure is
printed as images/s and as a ratio against `model.predict`, measured in the same run after a
warm-up pass: the median of ``--repeats`` repeats that alternate the three (each repeat's ratio is
taken at the same moment, under the same background load), with the range [min-max].

Usage:
    python benchmarks/feature_extraction_benchmark.py [--backend tensorflow|jax] [--backbone efficientnet_lite0]
        [--size 96] [--images 512] [--batch-size 32] [--repeats 3]
"""

import argparse
import os
import platform
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"), choices=["tensorflow", "jax"]
    )
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument(
        "--weights", default="none", help="'none' (speed does not depend on weights) or 'imagenet'"
    )
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import keras
    import numpy as np

    from keras_transfer.backbones import get_backbone
    from keras_transfer.sklearn import FeatureExtractor
    from keras_transfer.sklearn.feature_extractor import predict_function

    weights = None if args.weights.lower() == "none" else args.weights
    shape = (args.size, args.size, 3)
    x = np.random.default_rng(0).integers(0, 256, (args.images, args.size, args.size, 3)).astype("uint8")
    backbone = get_backbone(args.backbone, input_shape=shape, weights=weights, trainable=False)
    backbone(x[:1])  # build, so stateless_call works
    extractor = FeatureExtractor(
        backbone=args.backbone,
        weights=weights,
        input_shape=shape,
        batch_size=args.batch_size,
        cache=False,
        verbose=0,
    ).fit(x[:1])
    loop = _compiled_loop(backbone, args.backend, args.batch_size)
    # FeatureExtractor's compute path before BatchNorm folding: the unfolded backbone through
    # the same cached compiled function (the input checks it skips take < 1 ms here)
    unfolded = predict_function(extractor.backbone_)
    bs = args.batch_size

    def before():
        return np.concatenate(
            [np.asarray(unfolded(np.asarray(x[i : i + bs], np.float32))) for i in range(0, len(x), bs)]
        )

    candidates = {
        "model.predict": lambda: backbone.predict(x, batch_size=args.batch_size, verbose=0),
        "compiled loop": lambda: loop(x),
        "ours (FeatureExtractor)": lambda: extractor.transform(x),
        "ours before (BN unfolded)": before,
    }
    for fn in candidates.values():
        fn()  # warm-up: tracing / compilation
    runs = {label: [] for label in candidates}
    for _ in range(args.repeats):  # alternate, so every candidate sees the same background load
        for label, fn in candidates.items():
            runs[label].append(args.images / _timed(fn))
    rates = {label: float(np.median(r)) for label, r in runs.items()}
    # the ratio against model.predict per repeat (same moment, same load): its median and range
    ratios = {label: [a / b for a, b in zip(r, runs["model.predict"])] for label, r in runs.items()}
    devices = ",".join(str(d) for d in _devices(args.backend))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, backend={args.backend} "
        f"(keras {keras.__version__}), devices={devices}, python {sys.version.split()[0]}"
    )
    print(
        f"backbone={args.backbone} input={args.size}x{args.size} batch={args.batch_size} images={args.images}"
    )
    print(f"median of {args.repeats} alternating repeats [min-max]; load {os.getloadavg()[0]:.1f}")
    for label, rate in rates.items():
        r = ratios[label]
        print(
            f"{label:<26} {rate:9.1f} images/s [{min(runs[label]):.0f}-{max(runs[label]):.0f}]   "
            f"ratio vs model.predict {np.median(r):5.2f}x [{min(r):.2f}-{max(r):.2f}]"
        )
    ours = runs["ours (FeatureExtractor)"]
    best = [max(a, b) for a, b in zip(runs["model.predict"], runs["compiled loop"])]
    r = [a / b for a, b in zip(ours, best)]
    print(f"ours / best of the other two, per repeat: {np.median(r):.2f}x [{min(r):.2f}-{max(r):.2f}]")
    old = runs["ours before (BN unfolded)"]
    r = [a / b for a, b in zip(old, best)]
    print(f"before / best of the other two, per repeat: {np.median(r):.2f}x [{min(r):.2f}-{max(r):.2f}]")
    r = [a / b for a, b in zip(ours, old)]
    print(f"ours / ours before, per repeat: {np.median(r):.2f}x [{min(r):.2f}-{max(r):.2f}]")
    return rates


def _timed(fn):
    start = time.perf_counter()
    fn()  # every candidate returns host (numpy) arrays, so the work is finished here
    return time.perf_counter() - start


def _compiled_loop(backbone, backend, batch_size):
    import numpy as np

    if backend == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda t: backbone(t, training=False), reduce_retracing=True)
        return lambda x: np.concatenate(
            [fn(tf.constant(x[i : i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
        )
    import jax

    jitted = jax.jit(lambda tv, ntv, t: backbone.stateless_call(tv, ntv, t, training=False)[0])

    def run(x):  # read the variables per call: model.predict on JAX may swap their buffers
        tv = [v.value for v in backbone.trainable_variables]
        ntv = [v.value for v in backbone.non_trainable_variables]
        return np.concatenate(
            [np.asarray(jitted(tv, ntv, x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        )

    return run


def _devices(backend):
    if backend == "jax":
        import jax

        return jax.devices()
    import tensorflow as tf

    return [d.name for d in tf.config.list_logical_devices()]


if __name__ == "__main__":
    main()
