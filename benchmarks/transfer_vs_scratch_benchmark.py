"""Transfer vs from-scratch accuracy at 50/100/500/1000 labels (the "100-1,000 examples" claim).

At each label budget, on shipped Fashion-MNIST and the embedded pretrained EfficientNet-Lite0
(the demo's protocol, `keras_transfer.demo.run_demo`):
  - pretrained features + logistic regression (frozen backbone);
  - fine-tuned: head phase, then the top blocks under `UnfreezeTop` (BN frozen);
  - the same architecture from scratch (random init, everything trainable, BN re-estimated).
It prints one line per budget: the accuracy of each and the ratio transfer / scratch (the
baseline, measured in the same run), plus the machine description.

    python benchmarks/transfer_vs_scratch_benchmark.py [--labels 50 100 500 1000] [--image-size 96]
        [--epochs 3] [--test-size 1000] [--backend jax]

With ``--backend jax`` every part runs on JAX (the feature head is scikit-learn either way).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[50, 100, 500, 1000])
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fine-tuning phase (scratch: twice)")
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=["tensorflow", "jax"], default=None)
    parser.add_argument(
        "--output", default=None, help="folder for the demo's files (default: a temporary one)"
    )
    args = parser.parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from keras_transfer.demo import run_demo

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Keras {keras.__version__} on {keras.backend.backend()}"
    )
    output = args.output or tempfile.mkdtemp(prefix="kt_transfer_vs_scratch_")
    start = time.perf_counter()
    rows = run_demo(
        output,
        labels=args.labels,
        test_size=args.test_size,
        image_size=args.image_size,
        epochs=args.epochs,
        seed=args.seed,
        overwrite=True,
        verbose=0,
    )
    table: dict[int, dict[str, float]] = {}
    for row in rows:
        table.setdefault(row["labels"], {})[row["method"].split(" ")[0]] = row["accuracy"]
    print(
        f"EfficientNet-Lite0 @{args.image_size}px, Fashion-MNIST, {args.test_size} test images, "
        f"{args.epochs}+{args.epochs} fine-tuning epochs, {2 * args.epochs} from scratch"
    )
    for n, acc in sorted(table.items()):
        scratch = acc["from"] or float("nan")  # no division by zero if scratch scores 0
        print(
            f"labels={n:>5}  features+LR {acc['pretrained']:.3f}  fine-tuned {acc['fine-tuned']:.3f}  "
            f"scratch {scratch:.3f}  ratio features/scratch {acc['pretrained'] / scratch:.2f}x  "
            f"fine-tuned/scratch {acc['fine-tuned'] / scratch:.2f}x"
        )
    print(f"total {time.perf_counter() - start:.0f} s; files in {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
