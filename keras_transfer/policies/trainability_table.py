"""The table behind ``policy.summary(model)`` and ``plot_trainability(model)``."""

from __future__ import annotations

import numpy as np

from keras_transfer.policies._groups import HEAD, find_backbone, group_weights, is_batch_norm


def trainability_table(model, policy=None) -> list[dict]:
    """One row per block group (bottom to top) plus ``'head'``, read from the model's flags.

    Each row: ``group``, ``layers``, ``params``, ``trainable_params``, ``lr_multiplier`` (``None``
    when the group is frozen) and ``bn`` (``'frozen'``, ``'train'``, or ``'-'`` without BN).
    """
    backbone = find_backbone(model)
    policy = policy if policy is not None else getattr(model, "policy", None)
    mults = policy.lr_multipliers(backbone) if policy is not None else {}
    trainable = {id(v) for v in model.trainable_weights}
    rows = []
    for group in backbone.block_groups:
        items = backbone.group_layers(group)
        weights = group_weights(backbone, group)
        bns = [
            sub
            for layer in items
            if hasattr(layer, "_flatten_layers")
            for sub in layer._flatten_layers(include_self=True)
            if is_batch_norm(sub)
        ]
        rows.append(_row(group, len(items), weights, trainable, mults, bns, model))
    backbone_ids = {id(v) for v in backbone.weights}
    head = [v for v in model.weights if id(v) not in backbone_ids and v.trainable]
    head_layers = (
        [
            layer
            for layer in model._flatten_layers(include_self=False)
            if layer is not backbone
            and layer.weights
            and not any(layer is s for s in backbone._flatten_layers(include_self=False))
        ]
        if model is not backbone
        else []
    )
    if model is not backbone:
        rows.append(_row(HEAD, len(head_layers), head, trainable, mults, [], model))
    return rows


def _row(group, num_layers, weights, trainable, mults, bns, model):
    params = int(sum(np.prod(v.shape) for v in weights))
    train = int(sum(np.prod(v.shape) for v in weights if id(v) in trainable))
    if not bns:
        bn = "-"
    else:
        active = [b for b in bns if b.trainable and _all_trainable(model, b)]
        bn = "train" if active else "frozen"
    return {
        "group": group,
        "layers": num_layers,
        "params": params,
        "trainable_params": train,
        "lr_multiplier": float(mults.get(group, 1.0)) if train else None,
        "bn": bn,
    }


def _all_trainable(model, layer) -> bool:
    trainable = {id(v) for v in model.trainable_weights}
    return any(id(v) in trainable for v in layer.weights)


def format_table(rows: list[dict], title: str = "") -> str:
    header = f"{'group':<24} {'layers':>6} {'trainable params':>18} {'lr x':>8} {'BN':>7}"
    lines = [title, header, "-" * len(header)] if title else [header, "-" * len(header)]
    for r in rows:
        lr = "-" if r["lr_multiplier"] is None else f"{r['lr_multiplier']:.3g}"
        lines.append(
            f"{r['group']:<24} {r['layers']:>6} {r['trainable_params']:>9,}/{r['params']:<8,} {lr:>8} {r['bn']:>7}"
        )
    return "\n".join(lines)
