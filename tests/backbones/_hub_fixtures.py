"""Real SavedModels for the TF-Hub tests, built once per session (imported by the test_hub_* files).

* ``hub_module_dir``: a TF-Hub-style TF2 SavedModel of a tiny tf.Module conv net saved the way
  TF-Hub models are: a ``__call__(x, training)`` traced for both training values, ``variables``,
  ``trainable_variables`` and ``regularization_losses`` attributes, BatchNorm-like moving
  statistics updated only with ``training=True``, and a dict-returning signature.
* ``keras_export_dir``: a Keras 3 ``model.export()`` artifact of a small conv net (pooled output).
"""

import numpy as np

REG_SCALE = 1e-2
NUM_FEATURES = 6


def save_hub_module(path):
    import tensorflow as tf

    class TinyNet(tf.Module):
        def __init__(self, channels=4, features=NUM_FEATURES):
            super().__init__(name="tiny_net")
            normal = tf.random.stateless_normal
            with tf.name_scope("conv"):
                self.kernel = tf.Variable(normal((3, 3, 3, channels), seed=(1, 2)) * 0.3, name="kernel")
            with tf.name_scope("bn"):
                self.gamma = tf.Variable(tf.ones([channels]), name="gamma")
                self.beta = tf.Variable(tf.zeros([channels]), name="beta")
                self.moving_mean = tf.Variable(tf.zeros([channels]), trainable=False, name="moving_mean")
                self.moving_var = tf.Variable(tf.ones([channels]), trainable=False, name="moving_variance")
            with tf.name_scope("dense"):
                self.dense = tf.Variable(normal((channels, features), seed=(3, 4)) * 0.5, name="kernel")

        def feature_map(self, x, training):
            y = tf.nn.conv2d(x, self.kernel, 1, "SAME")
            if training:
                mean, var = tf.nn.moments(y, [0, 1, 2])
                self.moving_mean.assign(0.9 * self.moving_mean + 0.1 * mean)
                self.moving_var.assign(0.9 * self.moving_var + 0.1 * var)
            else:
                mean, var = self.moving_mean, self.moving_var
            return tf.nn.relu(tf.nn.batch_normalization(y, mean, var, self.beta, self.gamma, 1e-3))

        @tf.function
        def __call__(self, x, training=False):
            return tf.matmul(tf.reduce_mean(self.feature_map(x, training), [1, 2]), self.dense)

    net = TinyNet()
    spec = tf.TensorSpec([None, None, None, 3], tf.float32)
    for training in (True, False):
        net.__call__.get_concrete_function(spec, training)
    root = tf.train.Checkpoint()
    root.net = net
    root.__call__ = net.__call__
    root.variables = list(net.variables)
    root.trainable_variables = list(net.trainable_variables)
    root.regularization_losses = [
        tf.function(lambda: REG_SCALE * tf.reduce_sum(tf.square(net.kernel)), input_signature=[])
    ]

    @tf.function(input_signature=[spec])
    def serve(x):
        return {
            "default": net(x, training=False),
            "pooled_map": tf.reduce_mean(net.feature_map(x, False), [1, 2]),
        }

    tf.saved_model.save(root, path, signatures={"serving_default": serve, "image_feature_vector": serve})
    return path


def save_keras_export(path, pooled=True):
    import keras

    layers = [
        keras.Input((16, 16, 3)),
        keras.layers.Conv2D(5, 3, name="conv"),
        keras.layers.BatchNormalization(name="bn"),
    ]
    if pooled:
        layers.append(keras.layers.GlobalAveragePooling2D(name="gap"))
    model = keras.Sequential(layers, name="exported")
    model.export(path, verbose=False)
    return model


def images(n=8, side=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, side, side, 3)).astype("float32"), rng.random((n, 2)).astype("float32")


def snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def changed(before, variables):
    return [not np.allclose(b, np.asarray(v.numpy())) for b, v in zip(before, variables)]


__all__ = ["save_hub_module", "save_keras_export", "images", "snapshot", "changed"]
