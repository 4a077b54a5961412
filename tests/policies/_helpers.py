"""Weight-diff helpers for the policy tests: what changed after a fit step, by block group."""
import numpy as np

from keras_transfer.policies._groups import group_weights, is_batch_norm

X = np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3)).astype("float32")
Y = np.array([0, 1, 2, 1])


def snapshot(model):
    return {id(v): np.array(v) for v in model.weights}


def changed_ids(model, before):
    return {id(v) for v in model.weights if id(v) in before and not np.array_equal(before[id(v)], np.array(v))}


def changed_groups(model, backbone, before):
    """Group names (plus 'head') with at least one changed weight."""
    changed = changed_ids(model, before)
    out = {g for g in backbone.block_groups if any(id(v) in changed for v in group_weights(backbone, g))}
    backbone_ids = {id(v) for v in backbone.weights}
    if any(i not in backbone_ids for i in changed):
        out.add("head")
    return out


def bn_statistics(backbone):
    """Every moving mean/variance of every BatchNormalization layer of the backbone."""
    return [w for layer in backbone.base._flatten_layers() if is_batch_norm(layer)
            for w in (layer.moving_mean, layer.moving_variance)]
