# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · I only have a trained model and target images: SHOT and TENT
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/keras-transfer/keras-transfer/blob/main/notebooks/06_source_free.ipynb)
#
# Every method of notebook 03 trains on the labelled source images and the unlabelled target
# images together. Often the source images are gone: the model was downloaded, or trained by a
# team whose data you cannot see, or the shift arrived after deployment. What is left is a
# trained classifier and unlabelled images from where it must work. Three things still help:
#
# 1. **AdaBN**: re-estimate the BatchNorm statistics on the target (`adapt_batch_norm`, seconds);
# 2. **TENT** (Wang et al., ICLR 2021): also train BatchNorm's scale and shift to make the
#    target predictions confident (`adapt_at_test_time`, or the online `TENT` wrapper);
# 3. **SHOT** (Liang et al., ICML 2020): freeze the classifier and retrain the feature extractor
#    on the target alone, so its predictions are confident, diverse, and agree with pseudo-labels
#    from class centroids (`SHOT`).
#
# And each can fail: we end with a collapse, and the check that catches it.
#
# The data: the scikit-learn digits (source) and the same kind of digits blended into
# colour photographs (target, "Digits-M"), with the DANN paper's LeNet networks; everything runs
# in about a minute on a CPU.

# %%
# On Colab, install keras-transfer first (locally the package is already importable).
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "keras-transfer @ git+https://github.com/keras-transfer/keras-transfer"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package, "scikit-image"], check=True)

# %%
import warnings

import keras_transfer  # before keras: keeps TensorFlow's C++ start-up log lines out of the output

warnings.filterwarnings("ignore", category=UserWarning)
import logging

# %matplotlib inline
import keras
import matplotlib.pyplot as plt
import numpy as np

from keras_transfer.adaptation import CollapseWarning, adapt_batch_norm
from keras_transfer.datasets import load_domain_pair
from keras_transfer.models import SHOT, TENT, adapt_at_test_time, lenet_networks
from keras_transfer.schedules import DANNLearningRate

warnings.filterwarnings("default", category=CollapseWarning)  # but show the collapse check
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # no retracing notices
keras.utils.set_random_seed(0)
print(
    f"keras-transfer {keras_transfer.__version__} | keras {keras.__version__} | backend {keras.backend.backend()}"
)

# %% [markdown]
# ## The trained model we are handed
#
# We play the other team: train a LeNet on the source digits (the only time source images are
# used), then forget them. The target is split in two: unlabelled images to adapt on, and a test
# set whose labels we read only to score.

# %%
pair = load_domain_pair("digits", seed=0)
(xs, ys), (xt_all, yt_all) = pair["source"], pair["target"]
order = np.random.default_rng(0).permutation(len(xt_all))
xt, x_test, y_test = xt_all[order[:450]], xt_all[order[450:]], yt_all[order[450:]]

features, head, _ = lenet_networks(xs.shape[1:], num_classes=10)
source_model = keras.Sequential([features, head])
epochs, steps_per_epoch = 15, int(np.ceil(len(xs) / 64))
source_model.compile(  # the DANN paper's annealed SGD, as benchmarks/da_benchmark.py trains it
    optimizer=keras.optimizers.SGD(DANNLearningRate(epochs * steps_per_epoch), momentum=0.9),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
source_model.fit(xs, ys, epochs=epochs, batch_size=64, verbose=0)
del xs, ys  # from here on: no source data


def accuracy(model):
    return float(np.mean(model.predict(x_test, verbose=0).argmax(1) == y_test))


print(f"{len(xt)} unlabelled target images, {len(x_test)} target test images")
results = {"source only": accuracy(source_model)}
print(f"source-only target accuracy: {results['source only']:.3f}")

# %% [markdown]
# ## AdaBN and TENT
#
# `adapt_at_test_time(model, x)` returns an adapted **copy** (the model you pass is not
# changed): one pass over `x` in batches of 64, one Adam step (learning rate 1e-3, the paper's) per
# batch on BatchNorm's gamma and beta only, minimising the entropy of the predictions of each
# batch normalised with its own statistics; then the BatchNorm statistics are re-estimated on `x`,
# so the copy predicts as usual.

# %%
adabn = keras.models.clone_model(source_model)
adabn.set_weights(source_model.get_weights())
adapt_batch_norm(adabn, xt)
results["AdaBN"] = accuracy(adabn)

tent = adapt_at_test_time(source_model, xt, batch_size=64)
results["TENT (adapted on the unlabelled set)"] = accuracy(tent)

# The online form, as in the TENT paper: predict the test stream batch by batch, adapting as it goes.
online = TENT(keras.models.clone_model(source_model))
online.model.set_weights(source_model.get_weights())
online.compile()  # Adam(1e-3)
stream = np.random.default_rng(1).permutation(len(x_test))
predictions = np.empty((len(x_test), 10))
predictions[stream] = online.predict(x_test[stream], batch_size=64, verbose=0)
results["TENT online (on the test stream)"] = float(np.mean(predictions.argmax(1) == y_test))
for name, value in results.items():
    print(f"{name:<36} {value:.3f}")

# %% [markdown]
# ## SHOT
#
# `SHOT.from_model` splits the model into a feature extractor (everything up to the last Dense
# layer) and the classifier (that layer, frozen), on a copy. `fit(target_x)` takes no labels.
# Each epoch begins with an inference pass that labels every target image by its nearest class
# centroid in feature space; then the feature extractor trains on *mean entropy − entropy of the
# mean prediction + 0.3 × cross-entropy to those pseudo-labels*, with the paper's SGD.

# %%
shot = SHOT.from_model(source_model)  # beta=0.3, cosine centroids
steps = 10 * int(np.ceil(len(xt) / 64))
shot.compile(optimizer=keras.optimizers.SGD(DANNLearningRate(steps), momentum=0.9))
history = shot.fit(xt, epochs=10, batch_size=64, verbose=0)
results["SHOT"] = accuracy(shot)
print({k: [round(v, 3) for v in vals[::3]] for k, vals in history.history.items()})
for name, value in results.items():
    print(f"{name:<36} {value:.3f}")
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.barh(list(results), list(results.values()), color="tab:blue")
ax.axvline(results["source only"], color="gray", linestyle="--", linewidth=1)
ax.set_xlabel("target test accuracy (one seed)")
ax.invert_yaxis()
plt.tight_layout()
plt.show()

# %% [markdown]
# On this seed, with 450 unlabelled target images, AdaBN lifts the target accuracy by a few
# points, TENT adds nothing to it (a handful of Adam steps at 1e-3 barely move gamma and beta), and
# SHOT ends *below* source-only: its pseudo-labels start from a model that is right on fewer than
# half of the target images, and ten epochs on 450 images let it reinforce its mistakes. Over three
# seeds on this pair (`benchmarks/README.md`, "Source-free and test-time adaptation") source-only
# gets 0.381 ± 0.051, AdaBN and TENT 0.530 ± 0.007, SHOT 0.542 ± 0.004: most of what source-free
# adaptation recovers here comes from the BatchNorm statistics alone, and none of it reaches the
# methods that still have the source images on the harder pairs (MNIST → MNIST-M: SHOT 0.586,
# DANN + self-training 0.805). SHOT needs a source model that is already fairly good on the target.
#
# With scikit-learn estimators the same two methods are one call on a fitted estimator:
# `keras_transfer.sklearn.adapt_source_free(clf, X_target, method="shot")` returns an adapted
# copy.

# %% [markdown]
# ## When it fails, and how you find out without labels
#
# TENT normalises every batch with its own statistics. That assumes batches that mix classes. A
# test stream sorted by class (a camera that sees one product at a time) breaks it: on a batch of
# one class, the batch statistics remove exactly what the class has in common. The predictions
# fall towards chance, yet their overall class balance looks healthy. TENT's `predict` checks the
# batches with the model before adaptation and warns.

# %%
sorted_stream = np.argsort(y_test, kind="stable")  # in practice: whatever order the images come in
victim = TENT(keras.models.clone_model(source_model))
victim.model.set_weights(source_model.get_weights())
victim.compile()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", CollapseWarning)
    p = victim.predict(x_test[sorted_stream], batch_size=32, verbose=0)
print(f"accuracy on the class-sorted stream: {np.mean(p.argmax(1) == y_test[sorted_stream]):.3f}")
print(victim.collapse_report)
print("warnings:", [w.category.__name__ for w in caught])

# %% [markdown]
# The same check runs after every `SHOT.fit`, `TENT.predict` and `adapt_at_test_time`, and in the
# estimators. What it cannot see: a model that is confidently and evenly wrong. Keep a few labelled
# target images if you can, and score on them.
