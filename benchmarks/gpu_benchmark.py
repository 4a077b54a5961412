"""GPU figures on the JAX backend: ours vs plain Keras on the same device, and the share of peak.

One short command on a GPU machine (JAX with CUDA; TensorFlow need not be installed, and
``--forbid-tensorflow`` proves that nothing on this path imports it):

    KERAS_BACKEND=jax python benchmarks/gpu_benchmark.py --forbid-tensorflow --json gpu.json

and, on a CPU, a smoke run of every code path with tiny sizes (seconds; run by
tests/test_gpu_benchmark.py):

    KERAS_BACKEND=jax python benchmarks/gpu_benchmark.py --smoke --forbid-tensorflow

What it measures, each figure the median of ``--repeats`` repeats that alternate ours and the
baseline (so both see the same background load), with the range [min-max]:

1. **Fine-tuning step**, images/s, for each backbone (default EfficientNet-Lite0 and ResNet50 at
   224 px, batch 128) under ``--precision`` (default ``mixed_bfloat16``): one ``fit`` epoch of
   ``--steps`` batches from in-memory uint8 arrays. Ours: `keras_transfer.models.TransferClassifier`
   with `UnfreezeAll` (BatchNorm frozen), ``compile(Adam)``. Baseline: a plain Keras functional
   model over the same backbone architecture with the same Dropout + Dense softmax head and the
   same trainable set (BatchNorm layers ``trainable=False`` by hand), ``compile(Adam)``.
   Also the achieved TFLOP/s and fraction of ``--peak-tflops``: a training step is counted as
   3x the forward FLOPs (forward + two backward matmuls per layer, the usual estimate), the
   forward FLOPs per image read from XLA's cost analysis of the jitted forward pass.
2. **Feature extraction**, images/s: `keras_transfer.sklearn.FeatureExtractor.transform` (cache
   off) vs ``backbone.predict`` vs a ``jax.jit`` loop over ``stateless_call``, the faster of
   the two plain ones being the baseline.
3. **DANN step**, ms per step of ``--dann-batch`` source + as many target images: the
   `keras_transfer.models.DANN` of Ganin et al.'s MNIST -> MNIST-M LeNet networks
   (`keras_transfer.models.lenet_networks`, 28x28x3, ``batch_norm=False`` so both sides do
   identical work) vs a plain Keras two-input functional model with the same three networks, a
   gradient reversal written with ``keras.ops.stop_gradient`` and the two losses (label
   cross-entropy on the source, domain cross-entropy on both) compiled as two outputs.

``--peak-tflops`` defaults to 989, NVIDIA's dense BF16 tensor-core peak of the H100/H200 SXM
(1,979 is the figure with 2:4 sparsity, which these models do not use); pass your GPU's dense
figure for another card (A100: 312, L4: 121, ...). Results are printed as a table and, with
``--json``, written to a file. Measured numbers go to benchmarks/README.md with the command.
"""

from __future__ import annotations

import argparse
import importlib.abc
import json
import os
import platform
import statistics
import sys
import time

H100_H200_DENSE_BF16_TFLOPS = 989.0


class _ForbidTensorFlow(importlib.abc.MetaPathFinder):
    """Import hook that makes ``import tensorflow`` (and tf_keras, tensorflow_hub) fail loudly."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf_keras", "tensorflow_hub"):
            raise ImportError(f"--forbid-tensorflow: something imported {name!r} on the JAX path")
        return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on any device (a CI check)")
    parser.add_argument("--backbones", nargs="+", default=["efficientnet_lite0", "resnet50"])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20, help="timed fit steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precision", default="mixed_bfloat16", help="Keras dtype policy")
    parser.add_argument("--peak-tflops", type=float, default=H100_H200_DENSE_BF16_TFLOPS)
    parser.add_argument("--dann-batch", type=int, default=256)
    parser.add_argument("--dann-steps", type=int, default=50)
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["fine_tune", "extraction", "dann"],
        default=["fine_tune", "extraction", "dann"],
    )
    parser.add_argument("--forbid-tensorflow", action="store_true")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size, args.batch, args.steps, args.repeats = 32, 4, 2, 1
        args.dann_batch, args.dann_steps = 8, 2
    return args


def alternate(candidates: dict, repeats: int) -> dict:
    """Seconds of each candidate per repeat, alternating them (after one warm-up call each)."""
    for fn in candidates.values():
        fn()
    times = {label: [] for label in candidates}
    for _ in range(repeats):
        for label, fn in candidates.items():
            start = time.perf_counter()
            fn()  # every candidate ends with host values (fit's logs, numpy arrays): work is done
            times[label].append(time.perf_counter() - start)
    return times


def summary(values) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def forward_flops_per_image(backbone, shape) -> float | None:
    """FLOPs of one image's forward pass, from XLA's cost analysis of the jitted forward."""
    import jax
    import jax.numpy as jnp

    def forward(tv, ntv, x):
        return backbone.stateless_call(tv, ntv, x, training=False)[0]

    tv = [v.value for v in backbone.trainable_variables]
    ntv = [v.value for v in backbone.non_trainable_variables]
    try:
        cost = jax.jit(forward).lower(tv, ntv, jnp.zeros((1, *shape), "float32")).compile().cost_analysis()
    except Exception:  # cost analysis is best-effort: some XLA builds do not report it
        return None
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops = (cost or {}).get("flops")
    return float(flops) if flops and flops > 0 else None


def fine_tune_rows(name, args, x, y) -> list[dict]:
    import keras

    from keras_transfer.backbones import get_backbone
    from keras_transfer.models import TransferClassifier
    from keras_transfer.policies import UnfreezeAll

    shape = (args.size, args.size, 3)
    keras.utils.set_random_seed(0)
    ours = TransferClassifier(get_backbone(name, input_shape=shape, weights=None), 10, policy=UnfreezeAll())
    ours.compile(optimizer=keras.optimizers.Adam(1e-4))
    backbone = get_backbone(name, input_shape=shape, weights=None)
    for layer in backbone._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # UnfreezeAll's default: BatchNorm in inference mode
    inputs = keras.Input(shape)
    features = keras.layers.Dropout(0.2)(backbone(inputs))
    plain = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", dtype="float32")(features))
    plain.compile(
        optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    if len(ours.trainable_weights) != len(plain.trainable_weights):
        raise RuntimeError(
            f"trainable sets differ: ours {len(ours.trainable_weights)}, plain {len(plain.trainable_weights)}"
        )

    def fit(model):
        return lambda: model.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0)

    times = alternate({"ours": fit(ours), "plain Keras": fit(plain)}, args.repeats)
    flops = forward_flops_per_image(ours.backbone, shape)
    rows = []
    for label, t in times.items():
        rates = [len(x) / s for s in t]
        row = {"measure": f"fine-tune step {name}", "who": label, "unit": "images/s", **summary(rates)}
        if flops:
            achieved = 3 * flops * row["median"] / 1e12
            row.update(tflops=achieved, peak_fraction=achieved / args.peak_tflops, forward_gflops=flops / 1e9)
        rows.append(row)
    rows[0]["ratio"] = summary([p / o for o, p in zip(times["ours"], times["plain Keras"])])
    return rows


def extraction_rows(name, args, x) -> list[dict]:
    import jax
    import numpy as np

    from keras_transfer.backbones import get_backbone
    from keras_transfer.sklearn import FeatureExtractor

    shape = (args.size, args.size, 3)
    backbone = get_backbone(name, input_shape=shape, weights=None, trainable=False)
    backbone(x[:1])
    extractor = FeatureExtractor(
        backbone=name, weights=None, input_shape=shape, batch_size=args.batch, cache=False, verbose=0
    ).fit(x[:1])
    jitted = jax.jit(lambda tv, ntv, t: backbone.stateless_call(tv, ntv, t, training=False)[0])

    def loop():
        tv = [v.value for v in backbone.trainable_variables]
        ntv = [v.value for v in backbone.non_trainable_variables]
        return np.concatenate(
            [np.asarray(jitted(tv, ntv, x[i : i + args.batch])) for i in range(0, len(x), args.batch)]
        )

    times = alternate(
        {
            "ours (FeatureExtractor)": lambda: extractor.transform(x),
            "model.predict": lambda: backbone.predict(x, batch_size=args.batch, verbose=0),
            "jit loop": loop,
        },
        args.repeats,
    )
    rows = [
        {
            "measure": f"feature extraction {name}",
            "who": label,
            "unit": "images/s",
            **summary([len(x) / s for s in t]),
        }
        for label, t in times.items()
    ]
    best = [min(a, b) for a, b in zip(times["model.predict"], times["jit loop"])]
    rows[0]["ratio"] = summary([b / o for o, b in zip(times["ours (FeatureExtractor)"], best)])
    return rows


def dann_rows(args) -> list[dict]:
    import keras
    import numpy as np
    from keras import ops

    from keras_transfer.models import DANN, lenet_networks

    shape = (28, 28, 3)
    n = args.dann_batch * args.dann_steps
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 256, (n, *shape)).astype("uint8")
    xt = rng.integers(0, 256, (n, *shape)).astype("uint8")
    ys = rng.integers(0, 10, n)
    keras.utils.set_random_seed(0)
    ours = DANN(*lenet_networks(shape, 10, batch_norm=False))
    ours.compile(optimizer=keras.optimizers.Adam(1e-3))

    keras.utils.set_random_seed(0)
    features, label_head, domain_head = lenet_networks(shape, 10, batch_norm=False)
    reverse = keras.layers.Lambda(lambda f: ops.stop_gradient(f) - (f - ops.stop_gradient(f)))
    source, target = keras.Input(shape), keras.Input(shape)
    f_source, f_target = features(source), features(target)
    domain = keras.layers.Concatenate()([domain_head(reverse(f_source)), domain_head(reverse(f_target))])
    plain = keras.Model(
        [source, target], [label_head(f_source), keras.layers.Activation("linear", dtype="float32")(domain)]
    )
    plain.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=["sparse_categorical_crossentropy", keras.losses.BinaryCrossentropy(from_logits=True)],
    )
    domain_labels = np.tile(np.array([[0.0, 1.0]], "float32"), (n, 1))
    kwargs = {"batch_size": args.dann_batch, "epochs": 1, "shuffle": False, "verbose": 0}
    times = alternate(
        {
            "ours (DANN)": lambda: ours.fit(x=(xs, xt), y=ys, **kwargs),
            "plain Keras": lambda: plain.fit([xs, xt], [ys, domain_labels], **kwargs),
        },
        args.repeats,
    )
    steps = n // args.dann_batch
    rows = [
        {
            "measure": "DANN step (LeNet, 28x28x3)",
            "who": label,
            "unit": "ms/step",
            **summary([1e3 * s / steps for s in t]),
        }
        for label, t in times.items()
    ]
    rows[0]["ratio"] = summary([p / o for o, p in zip(times["ours (DANN)"], times["plain Keras"])])
    return rows


def device_description() -> str:
    import jax

    devices = jax.devices()
    kinds = sorted({getattr(d, "device_kind", d.platform) for d in devices})
    return f"{len(devices)} x {', '.join(kinds)} ({devices[0].platform})"


def format_table(result: dict) -> str:
    lines = [
        f"device: {result['device']}; precision {result['precision']}; peak {result['peak_tflops']:g} TFLOP/s; "
        f"{result['machine']}; load {result['load']:.1f}",
        "median of alternating repeats [min-max]; ratio = ours / plain (speed; >1: ours faster)",
    ]
    for r in result["rows"]:
        line = f"{r['measure']:<38} {r['who']:<24} {r['median']:10.1f} {r['unit']:<9} [{r['min']:.1f}-{r['max']:.1f}]"
        if "ratio" in r:
            q = r["ratio"]
            line += f"  ratio {q['median']:.2f}x [{q['min']:.2f}-{q['max']:.2f}]"
        if "peak_fraction" in r:
            line += f"  {r['tflops']:.1f} TFLOP/s = {100 * r['peak_fraction']:.1f}% of peak"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.forbid_tensorflow:
        sys.meta_path.insert(0, _ForbidTensorFlow())
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    import numpy as np

    if keras.backend.backend() != "jax":
        raise SystemExit(f"run with KERAS_BACKEND=jax; this process runs {keras.backend.backend()!r}")
    keras.mixed_precision.set_global_policy(args.precision)
    rng = np.random.default_rng(0)
    n = args.batch * args.steps
    x = rng.integers(0, 256, (n, args.size, args.size, 3)).astype("uint8")
    y = rng.integers(0, 10, n)
    rows = []
    for name in args.backbones:
        if "fine_tune" in args.parts:
            rows += fine_tune_rows(name, args, x, y)
        if "extraction" in args.parts:
            rows += extraction_rows(name, args, x)
    if "dann" in args.parts:
        rows += dann_rows(args)
    result = {
        "device": device_description(),
        "precision": args.precision,
        "peak_tflops": args.peak_tflops,
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, keras {keras.__version__}",
        "load": os.getloadavg()[0],
        "args": vars(args),
        "rows": rows,
        "tensorflow_imported": "tensorflow" in sys.modules,
    }
    print(format_table(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
