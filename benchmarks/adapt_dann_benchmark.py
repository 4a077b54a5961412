"""Our DANN vs ADAPT 0.4.5's DANN: target accuracy and epoch time, same data and networks, 3 seeds.

Run (ADAPT lives in a side environment, never in our package's install):

    python -m venv --system-site-packages /tmp/adaptenv
    /tmp/adaptenv/bin/pip install --no-deps adapt==0.4.5 cvxopt scikeras
    /tmp/adaptenv/bin/python benchmarks/adapt_dann_benchmark.py [--seeds 3] [--epochs 12]
        [--batch-size 64] [--lambda 1.0] [--schedule dann|constant] [--learning-rate 1e-3]

Data: ``keras_transfer.datasets.load_domain_pair("digits", seed=seed)`` (digits -> digits-M), split
as in ``dann_benchmark.py``: half of the target images are the unlabelled adaptation set, the
other half the test set. Per seed, three runs start from the SAME initial weights (one small CNN
encoder, one softmax task head, one 64-64-1 discriminator, built by the functions below after
``keras.utils.set_random_seed(seed)``), with Adam at the same learning rate, the same batch size
(per domain) and the same number of epochs:

* ``source_only``: plain Keras ``Sequential([encoder, task])`` on the labelled source (baseline).
* ``ours``: ``keras_transfer.models.DANN``.
* ``adapt``: ``adapt.feature_based.DANN(encoder=..., task=..., discriminator=..., Xt=...)``.

Reversal weight. ADAPT's DANN uses a constant ``lambda_``; its ``adapt.utils.UpdateLambda``
callback sets it after every batch to ``lambda_max * (2 / (1 + exp(-gamma p)) - 1)`` (normalised by
its value at ``p=1``, a 5e-5 difference). By default (``--schedule dann``) both sides follow the
paper's ramp with ``gamma=10`` over all steps up to ``--lambda``: ours via
``ReversalSchedule("dann")``, ADAPT via ``UpdateLambda(max_steps=total steps, gamma=10)``
starting from ``lambda_=tf.Variable(0.0)``, so step k uses ``lambda(k / total)`` on both sides.
``--schedule constant`` uses the constant ``--lambda`` on both.

``--lambda`` is ADAPT's (and Ganin et al.'s, JMLR 2016) trade-off: the encoder
minimises ``task_loss - lambda * (mean source domain loss + mean target domain loss)``. Our DANN's
domain loss is the mean over the concatenated source+target batch, i.e. HALF that sum, so ours
runs with ``scale = 2 * lambda`` to get the same encoder gradient (the discriminator's own
gradient then differs by a factor 2, which Adam normalises away). The first printed check trains
both for 3 full-batch Adam steps (epsilon 1e-12) from the same weights on the same 64+64 images
and prints, per network, the relative difference of the two weight updates: float noise when the
two objectives agree, order 1 when they do not.

Times are the mean wall time of epochs 2..N (epoch 1 includes tracing), on this machine, with
each library's own input pipeline (ADAPT: tf.data; ours: Keras' array adapter). Numbers are
measured, not asserted.
"""

from __future__ import annotations

import argparse
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from dann_benchmark import EpochTimer, cnn  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from keras_transfer.datasets import load_domain_pair  # noqa: E402
from keras_transfer.models import DANN  # noqa: E402
from keras_transfer.schedules import ReversalSchedule  # noqa: E402

PIP = "pip install --no-deps adapt==0.4.5 cvxopt scikeras"
GAMMA = 10.0

try:
    import adapt.feature_based
    import adapt.utils
except ImportError as error:  # optional: only this script needs ADAPT
    raise ImportError(
        "This benchmark needs ADAPT 0.4.5, kept out of keras_transfer's install. Create a side "
        "environment: `python -m venv --system-site-packages /tmp/adaptenv && "
        f"/tmp/adaptenv/bin/{PIP}`, then run this script with /tmp/adaptenv/bin/python."
    ) from error


# ----- networks: one builder each, called after set_random_seed(seed) in the same order ---------
def build_encoder(input_shape):
    """The small CNN of dann_benchmark.py, so the two benchmarks adapt the same encoder."""
    return keras.Sequential([keras.Input(input_shape), *cnn().layers], name="encoder")


def build_task(num_features, num_classes):
    return keras.Sequential(
        [keras.Input((num_features,)), keras.layers.Dense(num_classes, activation="softmax")],
        name="task",
    )


def build_discriminator(num_features, probability):
    """64-64-1 ReLU MLP; ``probability=True`` ends in a sigmoid (ADAPT), else a logit (ours).

    ADAPT's discriminator outputs P(source), ours the logit of P(target), so `build_networks`
    negates ADAPT's last layer: ``sigmoid(-z) = 1 - sigmoid(z)``, the same function and the same
    training trajectory up to that sign."""
    return keras.Sequential(
        [
            keras.Input((num_features,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid" if probability else None),
        ],
        name="discriminator",
    )


def build_networks(seed, input_shape, num_classes, probability):
    keras.utils.set_random_seed(seed)
    encoder = build_encoder(input_shape)
    num_features = encoder.output_shape[-1]
    task = build_task(num_features, num_classes)
    discriminator = build_discriminator(num_features, probability)
    if probability:  # ADAPT's discriminator says "source" (1), ours "target" (1): flip the logit
        last = discriminator.layers[-1]
        last.set_weights([-w for w in last.get_weights()])
    return encoder, task, discriminator


# ----- the three trainings -----------------------------------------------------------------------
def adam(args):
    return keras.optimizers.Adam(args.learning_rate, epsilon=args.adam_epsilon)


def our_scale(lam, schedule):
    return ReversalSchedule(schedule, scale=2.0 * lam, gamma=GAMMA)


def fit_ours(nets, source, xt, args, shuffle=True):
    encoder, task, discriminator = nets
    model = DANN(encoder, task, discriminator, adaptation_weight=our_scale(args.lam, args.schedule))
    model.compile(optimizer=adam(args))
    timer = EpochTimer()
    model.fit(
        x=(source[0], xt),
        y=source[1],
        epochs=args.epochs,
        batch_size=args.batch_size,
        shuffle=shuffle,
        callbacks=[timer],
        verbose=0,
    )
    return model, timer.times


def fit_adapt(nets, source, xt, args, seed, shuffle=True):
    import tensorflow as tf

    encoder, task, discriminator = nets
    num_classes = task.output_shape[-1]
    steps = int(np.ceil(max(len(source[0]), len(xt)) / args.batch_size)) * args.epochs
    ramp = args.schedule == "dann"
    lam = tf.Variable(0.0 if ramp else args.lam, trainable=False, dtype="float32")
    model = adapt.feature_based.DANN(
        encoder=encoder,
        task=task,
        discriminator=discriminator,
        Xt=xt,
        lambda_=lam,
        copy=False,
        verbose=0,
        random_state=seed,
        optimizer=adam(args),
        loss="categorical_crossentropy",
    )
    timer = EpochTimer()
    callbacks = [timer]
    if ramp:
        callbacks.append(adapt.utils.UpdateLambda(0.0, args.lam, max_steps=steps, gamma=GAMMA))
    model.fit(
        source[0],
        np.eye(num_classes, dtype="float32")[source[1]],
        epochs=args.epochs,
        batch_size=args.batch_size,
        shuffle=shuffle,
        callbacks=callbacks,
        verbose=0,
    )
    return model, timer.times


def fit_source_only(nets, source, args):
    encoder, task, _ = nets
    model = keras.Sequential([encoder, task])
    model.compile(optimizer=adam(args), loss="sparse_categorical_crossentropy")
    timer = EpochTimer()
    model.fit(
        source[0], source[1], epochs=args.epochs, batch_size=args.batch_size, callbacks=[timer], verbose=0
    )
    return model, timer.times


def accuracy(model, x, y):
    return float(np.mean(np.asarray(model.predict(x, batch_size=256, verbose=0)).argmax(1) == y))


def equivalence_check(source, xt, args):
    """3 full-batch steps, constant lambda, same weights and images, Adam epsilon 1e-12 (so the
    factor 2 in the discriminator's gradient cannot show through epsilon): for each network,
    ||update ours - update ADAPT|| / ||update ours|| (float noise when the objectives agree)."""
    check = argparse.Namespace(
        **{**vars(args), "epochs": 3, "batch_size": 64, "schedule": "constant", "adam_epsilon": 1e-12}
    )
    xs, ys, xt = source[0][:64], source[1][:64], xt[:64]
    shape, num_classes = xs.shape[1:], int(source[1].max()) + 1
    ours_nets = build_networks(0, shape, num_classes, False)
    initial = [np.concatenate([w.ravel() for w in net.get_weights()]) for net in ours_nets]
    ours, _ = fit_ours(ours_nets, (xs, ys), xt, check, shuffle=False)
    theirs, _ = fit_adapt(build_networks(0, shape, num_classes, True), (xs, ys), xt, check, 0, shuffle=False)
    disc = theirs.discriminator_.get_weights()
    disc[-2:] = [-w for w in disc[-2:]]  # undo the sign flip of build_networks
    pairs = [
        (ours.feature_extractor.get_weights(), theirs.encoder_.get_weights()),
        (ours.label_head.get_weights(), theirs.task_.get_weights()),
        (ours.domain_head.get_weights(), disc),
    ]
    result = {}
    for name, (o, t), w0 in zip(("encoder", "task", "discriminator"), pairs, initial):
        o, t = (np.concatenate([w.ravel() for w in ws]) for ws in (o, t))
        result[name] = float(np.linalg.norm(o - t) / np.linalg.norm(o - w0))
    return result


def machine():
    import importlib.metadata as metadata

    import tensorflow as tf

    return (
        f"{platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"ADAPT {metadata.version('adapt')}, scikit-learn {metadata.version('scikit-learn')}, "
        f"numpy {np.__version__}"
    )


def mean_std(values):
    return f"{np.mean(values):.3f} +- {np.std(values):.3f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64, help="per domain")
    parser.add_argument(
        "--lambda",
        dest="lam",
        type=float,
        default=1.0,
        help="final trade-off in ADAPT's/the paper's convention (ours: scale=2*lambda)",
    )
    parser.add_argument("--schedule", default="dann", choices=["dann", "constant"])
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--adam-epsilon", type=float, default=1e-7, help="Keras' default")
    parser.add_argument("--skip-check", action="store_true", help="skip the equivalence check")
    args = parser.parse_args()
    print(machine(), flush=True)

    kinds = ("source_only", "ours", "adapt")
    acc = {k: [] for k in kinds}
    epoch = {k: [] for k in kinds}
    for seed in range(args.seeds):
        pair = load_domain_pair("digits", seed=seed)
        (xs, ys), (xt, yt) = pair["source"], pair["target"]
        xs, xt = xs.astype("float32"), xt.astype("float32")
        order = np.random.default_rng(seed).permutation(len(xt))
        half = len(order) // 2
        x_adapt, (x_test, y_test) = xt[order[:half]], (xt[order[half:]], yt[order[half:]])
        if seed == 0 and not args.skip_check:
            diff = equivalence_check((xs, ys), x_adapt, args)
            print(
                "equivalence check (3 full-batch Adam steps, epsilon 1e-12, same weights/images, "
                "constant lambda): ||update ours - update ADAPT|| / ||update ours||: "
                + ", ".join(f"{k} {v:.1e}" for k, v in diff.items()),
                flush=True,
            )
        shape, num_classes = xs.shape[1:], int(ys.max()) + 1
        for kind in kinds:
            nets = build_networks(seed, shape, num_classes, probability=kind == "adapt")
            keras.utils.set_random_seed(seed)
            if kind == "source_only":
                model, times = fit_source_only(nets, (xs, ys), args)
            elif kind == "ours":
                model, times = fit_ours(nets, (xs, ys), x_adapt, args)
            else:
                model, times = fit_adapt(nets, (xs, ys), x_adapt, args, seed)
            acc[kind].append(accuracy(model, x_test, y_test))
            epoch[kind].append(float(np.mean(times[1:] if len(times) > 1 else times)))
            print(
                f"seed={seed} {kind:<12} target accuracy {acc[kind][-1]:.3f}  epoch "
                f"{epoch[kind][-1]:.2f} s (first epoch {times[0]:.1f} s)",
                flush=True,
            )

    print(
        f"\ndigits -> digits-M: {len(xs)} source, {half} unlabelled target, {len(x_test)} target "
        f"test images; {args.epochs} epochs, batch {args.batch_size} per domain, Adam "
        f"{args.learning_rate}, lambda {args.lam} ({args.schedule} schedule; ours scale "
        f"{2 * args.lam}), {args.seeds} seeds"
    )
    for kind in kinds:
        print(f"{kind:<12} target accuracy {mean_std(acc[kind])}   epoch time {mean_std(epoch[kind])} s")
    ratio = np.array(epoch["ours"]) / np.array(epoch["adapt"])
    delta = np.array(acc["ours"]) - np.array(acc["adapt"])
    print(f"epoch time ours / ADAPT: {mean_std(ratio)} (per seed {', '.join(f'{r:.2f}' for r in ratio)})")
    print(
        f"target accuracy ours - ADAPT: {np.mean(delta):+.3f} +- {np.std(delta):.3f} "
        f"(per seed {', '.join(f'{d:+.3f}' for d in delta)})"
    )
    for kind in ("ours", "adapt"):
        gain = np.array(acc[kind]) - np.array(acc["source_only"])
        print(f"target accuracy {kind} - source_only: {np.mean(gain):+.3f} +- {np.std(gain):.3f}")


if __name__ == "__main__":
    main()
