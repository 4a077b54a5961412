"""get_backbone("kerashub:<folder>") on a tiny random keras-hub ResNet saved with save_to_preset."""

import numpy as np
import pytest

keras_hub = pytest.importorskip("keras_hub")

import keras  # noqa: E402

from keras_transfer.backbones import KerasHubBackbone, get_backbone  # noqa: E402
from keras_transfer.policies import UnfreezeTop  # noqa: E402


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("kerashub") / "tiny_resnet")
    model = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        use_pre_activation=False,
        image_shape=(None, None, 3),
    )
    model.save_to_preset(path)
    keras_hub.layers.ResNetImageConverter(image_size=(32, 32), scale=1 / 255.0).save_to_preset(path)
    return path


def test_kerashub_backbone_features_groups_and_save(preset, tmp_path):
    bb = get_backbone(f"kerashub:{preset}")
    assert isinstance(bb, KerasHubBackbone)
    assert bb.input_size == (32, 32) and bb.block_names == ["stem", "stack0_block0", "stack1_block0", "top"]
    x = np.random.default_rng(0).integers(0, 255, (4, 40, 40, 3)).astype("uint8")
    features = np.asarray(bb(x))
    assert features.shape == (4, 16)
    assert UnfreezeTop(1).trainable_groups(bb) == ["stack1_block0", "top"]
    path = str(tmp_path / "bb.keras")
    bb.save(path)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path)(x)), features, atol=1e-5)
