"""Text encoders from TF-Hub-style SavedModels: a string preprocessor and a BERT-like encoder."""

import keras
import numpy as np
import pytest

from keras_transfer.backbones.hub_backbone import build_text_encoder
from keras_transfer.backbones.hub_handles import hub_entry

SEQ = 6


def _save_text_modules(folder):
    """A preprocessor (strings -> BERT-style dict of ids) and an encoder (dict -> pooled/sequence)."""
    import tensorflow as tf

    class Preprocessor(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, text):
            words = tf.strings.split(tf.strings.lower(text))
            ids = tf.strings.to_hash_bucket_fast(words, 50) + 1
            ids = tf.cast(ids.to_tensor(0, shape=[None, SEQ]), tf.int32)
            mask = tf.cast(ids > 0, tf.int32)
            return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": tf.zeros_like(ids)}

    class Encoder(tf.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = tf.Variable(tf.random.stateless_normal((51, 4), seed=(5, 6)), name="embeddings")
            self.pooler = tf.Variable(tf.random.stateless_normal((4, 3), seed=(7, 8)), name="pooler_kernel")

        @tf.function
        def __call__(self, inputs, training=False):
            seq = tf.gather(self.embeddings, inputs["input_word_ids"])
            mask = tf.cast(inputs["input_mask"], tf.float32)[..., None]
            pooled = tf.reduce_sum(seq * mask, 1) / tf.maximum(tf.reduce_sum(mask, 1), 1.0)
            return {"pooled_output": tf.tanh(pooled @ self.pooler), "sequence_output": seq}

    encoder = Encoder()
    spec = {
        k: tf.TensorSpec([None, SEQ], tf.int32) for k in ("input_word_ids", "input_mask", "input_type_ids")
    }
    for training in (True, False):
        encoder.__call__.get_concrete_function(spec, training)
    tf.saved_model.save(Preprocessor(), str(folder / "pre"))
    tf.saved_model.save(encoder, str(folder / "enc"))
    return str(folder / "enc"), str(folder / "pre")


@pytest.fixture(scope="module")
def text_modules(tmp_path_factory):
    return _save_text_modules(tmp_path_factory.mktemp("text"))


def test_text_encoder_strings_in_features_out_and_fine_tunes(text_modules):
    encoder, preprocessor = text_modules
    model = build_text_encoder(encoder, preprocessor)
    import tensorflow as tf

    text = tf.constant(["transfer learning works", "keras three", "hub modules train now", "a b"])
    assert tuple(model(text).shape) == (4, 3)
    assert model.get_layer("preprocessor").trainable is False
    assert [w.name for w in model.trainable_weights] == ["embeddings", "pooler_kernel"]
    clf = keras.Sequential([keras.Input((), dtype="string"), model, keras.layers.Dense(1)])
    clf.compile(keras.optimizers.Adam(1e-2), "mse")
    before = [w.numpy().copy() for w in model.trainable_weights]
    clf.fit(text, np.array([0.0, 1.0, 0.0, 1.0]), epochs=1, verbose=0)
    assert all(not np.allclose(b, w.numpy()) for b, w in zip(before, model.trainable_weights))


def test_text_encoder_through_the_hub_route(text_modules):
    encoder, preprocessor = text_modules
    seq = build_text_encoder(encoder, preprocessor, output_key="sequence_output", trainable=False)
    import tensorflow as tf

    assert tuple(seq(tf.constant(["one two"])).shape) == (1, SEQ, 4) and seq.trainable_weights == []
    entry = hub_entry("hub:small_bert_L-2_H-128_A-2")
    assert entry["modality"] == "text" and entry["num_features"] == 128


def test_text_encoder_keras_file_loads_only_with_the_opt_in(text_modules, tmp_path):
    import tensorflow as tf

    encoder, preprocessor = text_modules
    model = build_text_encoder(encoder, preprocessor)
    text = tf.constant(["transfer learning works", "a b"])
    path = str(tmp_path / "text.keras")
    model.save(path)
    with pytest.raises(ValueError, match="HubLayer.*safe_mode=False"):
        keras.saving.load_model(path)
    loaded = keras.saving.load_model(path, safe_mode=False)
    np.testing.assert_allclose(np.asarray(loaded(text)), np.asarray(model(text)), atol=1e-6)


def test_hub_text_backbone_mean_pools_sequence_output_over_the_mask(text_modules):
    import tensorflow as tf

    from keras_transfer.backbones import TextBackbone, hub_text_backbone
    from keras_transfer.models import TransferClassifier

    encoder, preprocessor = text_modules
    bb = hub_text_backbone(encoder, preprocessor)
    assert isinstance(bb, TextBackbone) and bb.num_features == 4 and bb.block_names == ["encoder"]
    texts = ["transfer learning works", "keras", "hub modules train now"]
    features = np.asarray(bb(texts))
    # by hand: the SavedModels' own token ids, mask and embedding table, averaged over real tokens
    tokens = tf.saved_model.load(preprocessor)(tf.constant(texts))
    table = tf.saved_model.load(encoder).embeddings.numpy()
    mask = tokens["input_mask"].numpy()[..., None].astype("float32")
    expected = (table[tokens["input_word_ids"].numpy()] * mask).sum(1) / mask.sum(1)
    np.testing.assert_allclose(features, expected, atol=1e-6)
    cls = np.asarray(hub_text_backbone(encoder, preprocessor, pooling="cls")(texts))
    np.testing.assert_allclose(cls, table[tokens["input_word_ids"].numpy()[:, 0]], atol=1e-6)
    model = TransferClassifier(bb, num_classes=2, policy=None)
    before = bb.encoder.get_layer("encoder").trainable_weights[0].numpy().copy()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(np.array(texts * 2, dtype=object), np.array([0, 1, 0] * 2), epochs=1, batch_size=3, verbose=0)
    assert not np.allclose(before, bb.encoder.get_layer("encoder").trainable_weights[0].numpy())
