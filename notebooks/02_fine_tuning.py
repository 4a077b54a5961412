# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Fine-tuning with trainability policies
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/keras-transfer/keras-transfer/blob/main/notebooks/02_fine_tuning.ipynb)
#
# Feature extraction (notebook 01) never changes the backbone. Fine-tuning lets some of its layers
# adapt to the new task. *Which* layers, with *which* learning rate and with BatchNorm in which mode
# is a **trainability policy** in `keras_transfer.policies`:
#
# | policy | what trains |
# |---|---|
# | `FreezeAll()` | only the new head |
# | `UnfreezeTop(n)` | the top *n* blocks (+ the `top` layers) and the head |
# | `GradualUnfreezing(every=k)` | one more block from the top every *k* epochs (ULMFiT) |
# | `DiscriminativeLR(base_lr, decay)` | everything, with the learning rate shrinking by `decay` per block downwards |
#
# `TransferClassifier(backbone, num_classes, policy=...)` applies the policy and
# `fine_tune(...)` runs the two phases of the Keras transfer-learning guide: train the head on the
# frozen backbone, then fine-tune per policy at a lower learning rate, BatchNorm kept in inference
# mode.

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
# ## Data and backbone
#
# 300 labelled Fashion-MNIST images (30 per class) and 200 test images. EfficientNet-Lite0 with
# ImageNet weights, run at 64×64 to keep this notebook a few minutes long on a laptop CPU.

# %%
from keras_transfer.backbones import get_backbone
from keras_transfer.datasets import load_fashion_mnist
from keras_transfer.models import TransferClassifier
from keras_transfer.policies import DiscriminativeLR, FreezeAll, GradualUnfreezing, UnfreezeTop

x_train, y_train = load_fashion_mnist("train", source="subset", num_per_class=30, seed=1)
x_test, y_test = load_fashion_mnist("test", source="subset", num_per_class=20, seed=1)
x_train, x_test = x_train[..., None], x_test[..., None]  # (N, 28, 28, 1): Keras models take a channel axis
SHAPE = (64, 64, 3)

backbone = get_backbone("efficientnet_lite0", input_shape=SHAPE, weights="imagenet")
print(
    backbone.name, f"{backbone.base.count_params():,} parameters,", len(backbone.block_names), "named blocks"
)
print("block groups:", list(backbone.block_groups))

# %% [markdown]
# ## What trains: the policy table and the trainability plot
#
# `policy.summary(model)` reads the model's actual trainable flags, per block group; the plot draws
# the same thing (bar = parameters of the group, blue = the trainable part, labels = learning-rate
# multiplier and BatchNorm mode).

# %%
model = TransferClassifier(backbone, num_classes=10, policy=UnfreezeTop(2), dropout=0.2)
_ = model.policy.summary(model)

# %%
from keras_transfer.plots import plot_trainability

fig = plot_trainability(model)
plt.show()

# %% [markdown]
# The four policies side by side on the same backbone. `GradualUnfreezing` is shown at its third
# epoch (it starts with one block and adds one per epoch: three blocks); `DiscriminativeLR` trains everything, lower blocks at a smaller rate.

# %%
policies = {
    "FreezeAll": FreezeAll(),
    "UnfreezeTop(3)": UnfreezeTop(3),
    "GradualUnfreezing(every=1)": GradualUnfreezing(every=1, start_blocks=1),
    "DiscriminativeLR(decay=0.7)": DiscriminativeLR(base_lr=1e-3, decay=0.7),
}
fig, axes = plt.subplots(len(policies), 1, figsize=(10, 3.2 * len(policies)))
for ax, (label, policy) in zip(axes, policies.items()):
    policy.apply(model, epoch=2)
    plot_trainability(model, ax=ax, policy=policy)
    ax.set_title(label)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Two-phase fine-tuning, one run per policy
#
# Each run starts from the same pretrained weights: 2 epochs of head training (frozen backbone,
# lr 1e-3, i.e. `FreezeAll`), then 2 epochs under the policy (lr 1e-4; `DiscriminativeLR` uses its own `base_lr` and
# decays it downwards). Test accuracy is tracked as validation data, so the curves show what each
# policy buys.

# %%
import time

histories, scores = {}, {}
for label, policy in list(policies.items())[1:]:  # FreezeAll is the head phase of every run
    keras.utils.set_random_seed(0)
    clf = TransferClassifier(
        get_backbone("efficientnet_lite0", input_shape=SHAPE, weights="imagenet"),
        num_classes=10,
        policy=policy,
        dropout=0.2,
    )
    t0 = time.perf_counter()
    history = clf.fine_tune(
        x_train,
        y_train,
        head_epochs=2,
        epochs=2,
        head_learning_rate=1e-3,
        learning_rate=1e-4,
        batch_size=32,
        validation_data=(x_test, y_test),
        verbose=0,
    )
    histories[label] = history.history
    scores[label] = history.history["val_accuracy"][-1]
    print(
        f"{label:<28} phases {clf.phases}  test accuracy {scores[label]:.3f}  ({time.perf_counter() - t0:.0f} s)"
    )
print(f"{'FreezeAll (head phase only)':<28} test accuracy {history.history['val_accuracy'][1]:.3f}")

# %% [markdown]
# The curves of one run, with the phase change marked (`history["phase"]` says which phase each
# epoch belongs to):

# %%
from keras_transfer.plots import plot_history

fig = plot_history(histories["UnfreezeTop(3)"], metrics=("loss", "accuracy"))
fig.suptitle("UnfreezeTop(3): head phase, then fine-tuning", y=1.02)
plt.show()

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for label, h in histories.items():
    ax.plot(range(1, len(h["val_accuracy"]) + 1), h["val_accuracy"], marker="o", label=label)
ax.axvline(2.5, color="gray", linestyle="--")
ax.text(2.55, ax.get_ylim()[0], " fine-tuning starts", color="gray", va="bottom", fontsize=8)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_title("Two-phase fine-tuning under three policies")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With 300 labels, fine-tuning lifts test accuracy from about 0.66 after the head phase (what
# `FreezeAll` gives) to about 0.77 in two epochs, under all three policies; the differences between
# policies are within the noise of a 200-image test set. What matters more is the recipe the
# policies share: the head is trained first (a randomly initialised head back-propagating through a
# pretrained backbone damages its features), and fine-tuning runs at a lower learning rate with
# BatchNorm statistics frozen.
#
# A fine-tuned `TransferClassifier` saves and loads as one `.keras` file; the policy comes back with
# it, so the trainable set is the same after loading. `keras_transfer.atomic_files.save_model` writes
# the file atomically (a temporary file in the same folder, moved into place): a save that fails
# midway, e.g. on a full disk, leaves any earlier file at `path` intact.

# %%
import os
import tempfile

from keras_transfer.atomic_files import save_model

path = save_model(clf, os.path.join(tempfile.mkdtemp(), "fine_tuned.keras"))
reloaded = keras.saving.load_model(path)
print(type(reloaded).__name__, reloaded.policy)
print(
    "same predictions:",
    np.allclose(reloaded.predict(x_test[:16], verbose=0), clf.predict(x_test[:16], verbose=0), atol=1e-5),
)

# %% [markdown]
# **Next:** [03 · domain adaptation](03_domain_adaptation.ipynb): when the test images do not look like the training images.
