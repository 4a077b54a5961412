# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Domain adaptation: DANN on a visible domain shift
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/keras-transfer/keras-transfer/blob/main/notebooks/03_domain_adaptation.ipynb)
#
# Transfer learning assumes the images you deploy on look like the images you trained on. Here they
# do not: the **source** is Fashion-MNIST (grey clothes on black), the **target** is
# Fashion-MNIST-M (the same kind of clothes blended into colour photographs, the MNIST-M recipe of
# Ganin & Lempitsky). Source labels are available; target labels are not (we keep a few for
# scoring and for an "oracle" that is allowed to cheat).
#
# We (1) make the shift visible and measure it, (2) compare a source-only model, DANN
# (domain-adversarial training, `keras_transfer.models.DANN`) and the target oracle, (3) look at the
# reversal-weight schedule λ(p), and (4) choose a model **without target labels**.
#
# To keep it a few minutes on a CPU, adaptation runs on top of frozen pretrained features: the
# EfficientNet-Lite0 features are computed once, and a small MLP feature extractor is what DANN
# adapts.

# %%
# On Colab, install keras-transfer first (locally the package is already importable).
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "keras-transfer @ git+https://github.com/keras-transfer/keras-transfer"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)

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
# ## The two domains

# %%
from keras_transfer.datasets import load_domain_pair

pair = load_domain_pair("fashion_mnist", num_source=1000, num_target=800, seed=0, source="subset")
(xs, ys), (xt, yt) = pair["source"], pair["target"]
names = pair["class_names"]
print("source", xs.shape, "| target", xt.shape)

fig, axes = plt.subplots(2, 8, figsize=(12, 3.2))
for i in range(8):
    axes[0, i].imshow(xs[i])
    axes[0, i].set_title(names[ys[i]], fontsize=8)
    axes[1, i].imshow(xt[i])
    axes[1, i].set_title(names[yt[i]], fontsize=8)
for ax in axes.ravel():
    ax.axis("off")
axes[0, 0].text(-8, 14, "source", rotation=90, va="center")
axes[1, 0].text(-8, 14, "target", rotation=90, va="center")
plt.show()

# %% [markdown]
# Splits: the source is divided into 800 training and 200 validation images (labels used); the
# target into 400 unlabelled training images (what adaptation sees) and 400 test images whose labels
# are used **only** to score the methods at the end, and by the oracle.

# %%
rng = np.random.default_rng(0)
s_perm, t_perm = rng.permutation(len(xs)), rng.permutation(len(xt))
s_train, s_val = s_perm[:800], s_perm[800:]
t_train, t_test = t_perm[:400], t_perm[400:]

from keras_transfer.sklearn import FeatureExtractor

extractor = FeatureExtractor(backbone="efficientnet_lite0", input_shape=(64, 64, 3), verbose=0)
fs, ft = extractor.transform(xs), extractor.transform(xt)
print("features", fs.shape, ft.shape)

# %% [markdown]
# ## The shift, made visible and measured
#
# PCA and t-SNE of the pooled features: source and target form separate clouds. The **proxy
# A-distance** (Ben-David et al.) trains a classifier to tell the domains apart: 0 means
# indistinguishable, 2 means perfectly separable.

# %%
from keras_transfer.adaptation import coral, mmd, proxy_a_distance
from keras_transfer.plots import plot_domain_embeddings

sub_s, sub_t = fs[s_train[:300]], ft[t_train[:300]]
print(f"proxy A-distance (pretrained features): {proxy_a_distance(fs[s_train], ft[t_train]):.3f}")
print(f"MMD: {float(mmd(sub_s, sub_t)):.4f}   CORAL: {float(coral(sub_s, sub_t)):.6f}")
fig = plot_domain_embeddings(sub_s, sub_t, method="pca")
plt.show()
fig = plot_domain_embeddings(sub_s, sub_t, method="tsne")
plt.show()

# %% [markdown]
# ## Source-only, DANN and the target oracle
#
# All three share one architecture on the frozen features: a 256-128 ReLU MLP (the feature
# extractor that DANN adapts) and a softmax head.
#
# * **source-only**: trained on labelled source images; it is the same `DANN` with the reversal
#   weight fixed at 0 (same optimizer, learning-rate schedule and batches), so the only difference
#   from DANN is the reversed domain gradient;
# * **DANN**: the same, plus a domain classifier behind a `GradientReversal` layer fed with source
#   *and* unlabelled target features; the reversed gradient pushes the MLP towards features that do
#   not reveal the domain;
# * **target oracle**: trained on the 400 target-train images *with* their labels (not possible in
#   practice; an upper reference).

# %%
from keras_transfer.models import DANN
from keras_transfer.schedules import DANNLearningRate, ReversalSchedule

EPOCHS, BATCH = 30, 64
STEPS = EPOCHS * int(np.ceil(len(s_train) / BATCH))


def mlp():
    return keras.Sequential(
        [
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(128, activation="relu"),
        ],
        name="mlp",
    )


def classifier():
    return keras.Sequential(
        [keras.Input((fs.shape[1],)), mlp(), keras.layers.Dense(10, activation="softmax")]
    )


def accuracy(model, x, y):
    return float(np.mean(model.predict(x, verbose=0).argmax(-1) == y))


keras.utils.set_random_seed(0)
oracle = classifier()
oracle.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
oracle.fit(ft[t_train], yt[t_train], epochs=EPOCHS, batch_size=BATCH, verbose=0)


def train_dann(scale, seed=0):
    keras.utils.set_random_seed(seed)
    model = DANN(mlp(), label_head=10, scale=ReversalSchedule("dann", scale=scale))
    model.compile(
        optimizer=keras.optimizers.SGD(DANNLearningRate(STEPS, initial_learning_rate=0.01), momentum=0.9)
    )
    history = model.fit(
        x=(fs[s_train], ft[t_train]), y=ys[s_train], epochs=EPOCHS, batch_size=BATCH, verbose=0
    )
    return model, history


# source-only = the same DANN with the reversal weight at 0: same optimizer, LR schedule, data and
# domain head, but no gradient reaches the MLP from the domain classifier (a clean ablation)
source_only, _ = train_dann(0.0)
dann, dann_history = train_dann(1.0)
results = {
    "source-only": accuracy(source_only, ft[t_test], yt[t_test]),
    "DANN (λ max 1.0)": accuracy(dann, ft[t_test], yt[t_test]),
    "target oracle": accuracy(oracle, ft[t_test], yt[t_test]),
}
print("accuracy on the 400 target-test images")
for k, v in results.items():
    print(f"  {k:<18} {v:.3f}")
print(
    f"source-validation accuracy: source-only {accuracy(source_only, fs[s_val], ys[s_val]):.3f}, "
    f"DANN {accuracy(dann, fs[s_val], ys[s_val]):.3f}"
)

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
h = dann_history.history
axes[0].plot(h["label_loss"], label="label loss")
axes[0].plot(h["domain_loss"], label="domain loss")
axes[0].set_title("DANN losses")
axes[0].legend()
axes[1].plot(h["domain_accuracy"])
axes[1].axhline(0.5, color="gray", ls=":")
axes[1].set_title("domain classifier accuracy (0.5 = confused)")
axes[2].plot(h["reversal_scale"])
axes[2].set_title("mean λ per epoch")
for ax in axes:
    ax.set_xlabel("epoch")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The λ schedule
#
# The reversal weight follows Ganin et al.'s ramp `λ(p) = 2 / (1 + exp(-10 p)) - 1`, where `p` is
# the fraction of training done, so the untrained domain classifier cannot disturb the early
# features; the learning rate anneals as `μ(p) = μ₀ / (1 + 10 p)^0.75`. Both are computed in the
# graph from the optimizer step, so they stay exact with `steps_per_execution > 1`.

# %%
from keras_transfer.plots import plot_schedule

lr = DANNLearningRate(STEPS, initial_learning_rate=0.01)
fig = plot_schedule(
    {
        "λ: DANN ramp (γ=10)": ReversalSchedule("dann", total_steps=STEPS),
        "λ: linear": ReversalSchedule("linear", total_steps=STEPS),
        "learning rate × 100": lambda step: 100 * float(lr(step)),
    },
    total_steps=STEPS,
)
plt.show()


# %% [markdown]
# ## What happened, and the features after adaptation
#
# Read the numbers above honestly: with the backbone frozen, DANN at the full reversal weight
# (λ → 1) does **not** beat the source-only model on the target here; it loses target accuracy
# while keeping source accuracy. The shift between grey clothes and photo-blended clothes lives in
# the frozen EfficientNet features themselves, and a small MLP on top cannot remove it without also
# removing class information (the domain classifier stays above chance, at 0.6–0.7). A weaker reversal
# (λ = 0.3, in the model-selection table below) does slightly better than no reversal. Even the target oracle,
# with 400 labelled target images, reaches only about 0.54: this is a hard shift at 64×64. DANN
# in the paper adapts the convolutional features end to end, which costs far more than this
# notebook's CPU budget; `DANN(get_backbone(...), label_head=10)` is that configuration.
#
# Source and target features from the MLPs (left: source-only, right: DANN), with the proxy
# A-distance of each.


# %%
def mlp_features(model_mlp, x):
    return np.asarray(model_mlp.predict(x, verbose=0))


so_mlp = source_only.feature_extractor
src_before, tgt_before = mlp_features(so_mlp, fs[s_train[:300]]), mlp_features(so_mlp, ft[t_train[:300]])
src_after, tgt_after = (
    mlp_features(dann.feature_extractor, fs[s_train[:300]]),
    mlp_features(dann.feature_extractor, ft[t_train[:300]]),
)
print(f"proxy A-distance, source-only MLP features: {proxy_a_distance(src_before, tgt_before):.3f}")
print(f"proxy A-distance, DANN MLP features:        {proxy_a_distance(src_after, tgt_after):.3f}")
fig = plot_domain_embeddings(src_before, tgt_before, after=(src_after, tgt_after), method="pca")
fig.axes[0].set_title("source-only MLP (PCA)")
fig.axes[1].set_title("DANN MLP (PCA)")
plt.show()

# %% [markdown]
# ## Model selection without target labels
#
# In real adaptation there are no target labels to pick λ or the epoch count with. Scores that
# need none: **prediction entropy** (lower is better), **soft neighbourhood density** (SND, higher),
# **deep embedded validation** (DEV: importance-weighted source validation loss, lower) and
# **reverse validation** (train on pseudo-labelled target, test on source; higher). We train DANN
# with several maximum λ and see whether each score picks the model that is truly best on the
# target (the true accuracy is shown only to judge the scores).

# %%
from keras_transfer.adaptation import (
    deep_embedded_validation,
    prediction_entropy,
    reverse_validation,
    soft_neighborhood_density,
)

rows = []
for scale in [0.0, 0.1, 0.3, 1.0]:
    model = {0.0: source_only, 1.0: dann}.get(scale) or train_dann(scale)[0]
    p_t = model.predict(ft[t_train], verbose=0)
    p_sv = model.predict(fs[s_val], verbose=0)
    feat_t = mlp_features(model.feature_extractor, ft[t_train])
    feat_sv = mlp_features(model.feature_extractor, fs[s_val])
    losses = -np.log(np.clip(p_sv[np.arange(len(s_val)), ys[s_val]], 1e-7, 1))
    rows.append(
        {
            "λ max": scale,
            "entropy ↓": prediction_entropy(p_t),
            "SND ↑": soft_neighborhood_density(p_t),
            "DEV ↓": deep_embedded_validation(feat_sv, losses, feat_t),
            "reverse val ↑": reverse_validation(feat_t, p_t, feat_sv, ys[s_val]),
            "true target acc": accuracy(model, ft[t_test], yt[t_test]),
        }
    )

cols = list(rows[0])
print("  ".join(f"{c:>15}" for c in cols))
for r in rows:
    print("  ".join(f"{r[c]:>15.3f}" for c in cols))
best = max(rows, key=lambda r: r["true target acc"])["λ max"]
picks = {
    "entropy": min(rows, key=lambda r: r["entropy ↓"])["λ max"],
    "SND": max(rows, key=lambda r: r["SND ↑"])["λ max"],
    "DEV": min(rows, key=lambda r: r["DEV ↓"])["λ max"],
    "reverse validation": max(rows, key=lambda r: r["reverse val ↑"])["λ max"],
}
print(f"\nbest λ by true target accuracy: {best}; picked without labels: {picks}")

# %% [markdown]
# In this run entropy and SND both prefer λ = 1.0, the *worst* model on the target; DEV picks
# λ = 0.1 and reverse validation λ = 0 (tied with λ = 0.3, the truly best, which beats no reversal
# by about two points). Entropy and SND reward confident, clustered target predictions, which a
# model that collapses target classes also produces; DEV's control variate is unstable when the
# domain classifier separates the domains almost perfectly (the negative risk above). Over three
# seeds the λ = 0.3 gain is about one seed standard deviation, and none of these scores picks it
# reliably (see `benchmarks/README.md`). No unsupervised score is reliable on its own: agreement between several, and a check of
# source-validation accuracy, is the practical recipe. `keras_transfer.callbacks.UnsupervisedValidation` logs these scores every epoch
# during `fit`.
#
# **Next:** [04 · TF-Hub backbones and scikit-learn pipelines](04_tf_hub_and_pipelines.ipynb).
