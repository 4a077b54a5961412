"""An independent reference for BERT sentence embeddings: the forward pass written in numpy from the
Hugging Face ``model.safetensors`` weights (float64), with the Hugging Face ``tokenizers`` library
reading ``tokenizer.json`` for the token ids. It shares no code with Keras or keras-hub.

It follows ``transformers``' ``BertModel`` (post-LayerNorm encoder, exact erf GELU, LayerNorm
epsilon from ``config.json``) and sentence-transformers' pooling for all-MiniLM-L6-v2 (mean of the
token features over the attention mask, then L2 normalisation).
"""

from __future__ import annotations

import json
import math
import os

import numpy as np


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _linear(x, w, name):
    return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]


def reference_token_ids(folder: str, texts: list[str], max_length: int = 128) -> list[list[int]]:
    """Token ids of ``texts`` by the ``tokenizers`` library from ``tokenizer.json``."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length)
    return [enc.ids for enc in tok.encode_batch(texts)]


def reference_embeddings(folder: str, texts: list[str], normalize: bool = True) -> np.ndarray:
    """Mean-pooled (and L2-normalised) BERT sentence embeddings of ``texts``, float64, in numpy."""
    from safetensors.numpy import load_file

    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    w = {k: v.astype(np.float64) for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}
    w = {k.removeprefix("bert."): v for k, v in w.items()}
    heads, eps = config["num_attention_heads"], config["layer_norm_eps"]
    out = []
    for ids in reference_token_ids(folder, texts):
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}"
            d = x.shape[-1] // heads

            def split(t):
                return t.reshape(n, heads, d).transpose(1, 0, 2)  # noqa: B023

            q = split(_linear(x, w, f"{p}.attention.self.query"))
            k = split(_linear(x, w, f"{p}.attention.self.key"))
            v = split(_linear(x, w, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = (scores / scores.sum(-1, keepdims=True)) @ v
            attn = attn.transpose(1, 0, 2).reshape(n, heads * d)
            h = _linear(attn, w, f"{p}.attention.output.dense")
            x = _layer_norm(
                x + h,
                w[f"{p}.attention.output.LayerNorm.weight"],
                w[f"{p}.attention.output.LayerNorm.bias"],
                eps,
            )
            h = _linear(_gelu(_linear(x, w, f"{p}.intermediate.dense")), w, f"{p}.output.dense")
            x = _layer_norm(x + h, w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], eps)
        pooled = x.mean(0)
        if normalize:
            pooled = pooled / np.linalg.norm(pooled)
        out.append(pooled)
    return np.stack(out)
