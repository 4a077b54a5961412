"""Weight-diff helpers for the policy tests: what changed after a fit step, by block group."""

import numpy as np

from keras_transfer.policies._groups import group_weights, is_batch_norm

X = np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3)).astype("float32")
Y = np.array([0, 1, 2, 1])


def snapshot(model):
    return {id(v): np.array(v) for v in model.weights}


def changed_ids(model, before):
    return {
        id(v) for v in model.weights if id(v) in before and not np.array_equal(before[id(v)], np.array(v))
    }


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
    return [
        w
        for layer in backbone.base._flatten_layers()
        if is_batch_norm(layer)
        for w in (layer.moving_mean, layer.moving_variance)
    ]


def tiny_backbone(name="tiny"):
    """A user's own small conv net with BN, wrapped as a Backbone with explicit block groups."""
    import keras

    from keras_transfer.backbones import Backbone

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    groups = {"stem": ["input", "stem_conv", "stem_bn"]}
    for i in (1, 2, 3):
        x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name=f"b{i}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"b{i}_bn")(x)
        groups[f"block{i}"] = [f"b{i}_conv", f"b{i}_bn"]
    x = keras.layers.Conv2D(16, 1, name="top_conv")(x)
    groups["top"] = ["top_conv"]
    model = keras.Model(keras.Input((32, 32, 3), name="input") if False else inputs, x, name=f"{name}_net")
    groups["stem"][0] = model.layers[0].name
    return Backbone(model, block_groups=groups, preprocessing="tf", name=name)


def group_change_recorder(backbone):
    """A callback that records, per epoch, the block groups (plus 'head') whose weights changed."""
    import keras

    class GroupChanges(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.backbone, self.groups = backbone, []

        def on_epoch_begin(self, epoch, logs=None):
            self.before = snapshot(self.model)

        def on_epoch_end(self, epoch, logs=None):
            self.groups.append(changed_groups(self.model, self.backbone, self.before))

    return GroupChanges()
