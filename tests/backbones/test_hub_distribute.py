"""HubLayer / HubBackbone under tf.distribute.MirroredStrategy on two logical CPU devices.

Logical devices must be configured before TensorFlow initialises, so the check runs in a fresh
Python process.
"""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from keras_transfer.backbones.hub_backbone import HubBackbone

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        backbone = HubBackbone(sys.argv[1], input_size=(8, 8))
        model = keras.Sequential([keras.Input((8, 8, 3)), backbone, keras.layers.Dense(2)])
        model.compile(keras.optimizers.Adam(1e-2), keras.losses.MeanSquaredError())
    module_vars = backbone.hub_layer._module.variables
    assert all(isinstance(v, tf.distribute.DistributedValues) for v in module_vars)
    before = [v.numpy().copy() for v in module_vars]
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 8, 8, 3)).astype("float32")
    model.fit(x, rng.random((8, 2)), batch_size=8, epochs=1, verbose=0)
    moved = [not np.allclose(b, v.numpy()) for b, v in zip(before, module_vars)]
    print("REPLICAS", strategy.num_replicas_in_sync, "MOVED", sum(moved), "OF", len(moved))
    """
)


def test_hub_backbone_fit_step_under_mirrored_strategy(hub_module_dir):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, hub_module_dir], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REPLICAS 2 MOVED 6 OF 6" in result.stdout, result.stdout + result.stderr[-2000:]
