"""Every object the package registers for `.keras` saving round-trips; saved models always load.

* `FACTORIES` holds one small instance of every class registered as ``keras_transfer>...``; a
  registered class without a factory fails `test_every_registered_class_has_a_factory`, so a new
  class gets its round-trip tests by adding one line here.
* The matrix test saves and loads backbone kind x trainability policy, inside a
  `TransferClassifier` and bare, and checks predictions and trainable flags.
* Safe mode: what names outside code (TF-Hub SavedModels) loads only with the opt-in; what does
  not (registry backbones, EfficientNet-Lite) loads under the default safe_mode without reading
  anything but the `.keras` file.
"""

import copy
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_transfer
from keras_transfer.atomic_files import save_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HUB_CLASSES = {"HubLayer", "HubBackbone"}  # load only with safe_mode=False


def _import_everything():
    for module in pkgutil.walk_packages(keras_transfer.__path__, "keras_transfer."):
        importlib.import_module(module.name)


def _registered() -> dict:
    _import_everything()
    prefix = "keras_transfer>"
    found = {
        k[len(prefix) :]: v for k, v in keras.saving.get_custom_objects().items() if k.startswith(prefix)
    }
    # Only classes the package itself defines: a docstring example may register a class of its own.
    return {name: cls for name, cls in found.items() if _defined_in_package(cls)}


def _defined_in_package(cls) -> bool:
    module = sys.modules.get(getattr(cls, "__module__", ""))
    return (
        module is not None
        and module.__name__.startswith("keras_transfer")
        and getattr(module, cls.__name__, None) is cls
    )


@keras.saving.register_keras_serializable(package="tests")
class Holder(keras.layers.Layer):
    """An identity layer that carries a non-layer object (policy, loss, schedule) in its config,
    so the object goes through a real `.keras` file."""

    def __init__(self, obj, **kwargs):
        super().__init__(**kwargs)
        self.obj = obj

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), "obj": keras.saving.serialize_keras_object(self.obj)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["obj"] = keras.saving.deserialize_keras_object(config["obj"])
        return cls(**config)


def _features(n=4, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _images(n=4, side=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, side, side, 3)).astype("float32")


def _mlp():
    return keras.Sequential([keras.layers.Dense(8, activation="relu")])


def _tiny_backbone():
    from tests.policies._helpers import tiny_backbone

    return tiny_backbone()


def _bn_classifier():
    """A built classifier with BatchNorm (SHOT and TENT wrap a trained classifier)."""
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def _models():
    from keras_transfer import models

    return models


def _policies():
    from keras_transfer import policies

    return policies


def _adaptation():
    from keras_transfer import adaptation

    return adaptation


# name -> factory(hub_module_dir) -> (object, sample input for layers and models, else None)
FACTORIES = {
    "Backbone": lambda hub: (_tiny_backbone(), _images(side=32)),
    "HubBackbone": lambda hub: (
        keras_transfer.backbones.HubBackbone(hub, input_size=(8, 8), variable_pattern=r"^(conv|bn|dense)_"),
        _images(),
    ),
    "HubLayer": lambda hub: (keras_transfer.backbones.HubLayer(hub), _images() / 255.0),
    "FamilyPreprocessing": lambda hub: (keras_transfer.layers.FamilyPreprocessing("caffe"), _images()),
    "GradientReversal": lambda hub: (
        keras_transfer.layers.GradientReversal(
            keras_transfer.schedules.ReversalSchedule("dann", total_steps=50)
        ),
        _features(),
    ),
    "TransferClassifier": lambda hub: (
        _models().TransferClassifier(_tiny_backbone(), 3, policy=_policies().UnfreezeTop(1)),
        _images(side=32),
    ),
    "DANN": lambda hub: (_models().DANN(_mlp(), 3, adaptation_weight=0.5), _features()),
    "CDAN": lambda hub: (_models().CDAN(_mlp(), 3, entropy_conditioning=True), _features()),
    "DiscrepancyModel": lambda hub: (
        _models().DiscrepancyModel(_mlp(), 3, discrepancy=_adaptation().MMDLoss(bandwidths=[1.0, 2.0])),
        _features(),
    ),
    "TargetRegularizedModel": lambda hub: (
        _models().TargetRegularizedModel(_mlp(), 3, adaptation_weight=0.5),
        _features(),
    ),
    "SelfTraining": lambda hub: (
        _models().SelfTraining(keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(8)]), 3),
        _images(),
    ),
    "CORALLoss": lambda hub: (_adaptation().CORALLoss(), None),
    "MMDLoss": lambda hub: (_adaptation().MMDLoss(num_kernels=3, kernel_mul=3.0), None),
    "EntropyLoss": lambda hub: (_adaptation().EntropyLoss(epsilon=1e-4), None),
    "MinimumClassConfusionLoss": lambda hub: (_adaptation().MinimumClassConfusionLoss(temperature=2.0), None),
    "ReversalSchedule": lambda hub: (
        keras_transfer.schedules.ReversalSchedule("dann", total_steps=100),
        None,
    ),
    "DANNLearningRate": lambda hub: (keras_transfer.schedules.DANNLearningRate(total_steps=100), None),
    "TrainabilityPolicy": lambda hub: (_policies().TrainabilityPolicy(bn="train"), None),
    "FreezeAll": lambda hub: (_policies().FreezeAll(), None),
    "UnfreezeAll": lambda hub: (_policies().UnfreezeAll(bn="train"), None),
    "UnfreezeTop": lambda hub: (_policies().UnfreezeTop(2), None),
    "UnfreezeFrom": lambda hub: (_policies().UnfreezeFrom("block2"), None),
    "GradualUnfreezing": lambda hub: (_policies().GradualUnfreezing(every=2, max_blocks=3), None),
    "DiscriminativeLR": lambda hub: (
        _policies().DiscriminativeLR(base_lr=1e-4, decay=0.3, base_policy=_policies().UnfreezeTop(2)),
        None,
    ),
    "L2SP": lambda hub: (_policies().L2SP(alpha=0.1, beta=0.0, base_policy=_policies().UnfreezeAll()), None),
    "WeightNormalizedDense": lambda hub: (keras_transfer.layers.WeightNormalizedDense(3), _features()),
    # the identity left where fold_batch_norm folded a BatchNorm layer into the convolution before it
    "FoldedBatchNormalization": lambda hub: (
        keras_transfer.backbones.FoldedBatchNormalization(),
        _features(),
    ),
    "SHOT": lambda hub: (_models().SHOT.from_model(_bn_classifier(), beta=0.5), _features()),
    "TENT": lambda hub: (_models().TENT(_bn_classifier(), steps=2, episodic=True), _features()),
}
# Classes that need an optional extra (keras-hub) and a model folder: their save/load round trips
# live in their own test files, which skip without the extra.
OWN_ROUND_TRIP_TESTS = {
    "KerasHubBackbone": "tests/backbones/test_keras_hub_backbone.py",
    "TextBackbone": "tests/backbones/test_text_backbone.py",
}
# a two-domain method registered in keras_transfer.models.ADAPTATION_METHODS without an entry above
# is tested with its registered arguments on small images (every method's defaults accept them)
for _method in _models().ADAPTATION_METHODS.values():
    FACTORIES.setdefault(
        _method.model.__name__,
        lambda hub, m=_method: (
            m.build(keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(8)]), 3),
            _images(),
        ),
    )


def test_every_registered_class_has_a_factory():
    registered = set(_registered())
    covered = set(FACTORIES) | set(OWN_ROUND_TRIP_TESTS)
    missing, stale = sorted(registered - covered), sorted(set(FACTORIES) - registered)
    for name, path in OWN_ROUND_TRIP_TESTS.items():
        assert os.path.exists(os.path.join(ROOT, path)), f"{name}: its round-trip test file {path} is gone"
    assert not missing, f"registered classes without a factory in FACTORIES: {missing}"
    assert not stale, f"FACTORIES names classes that are no longer registered: {stale}"


def _config(obj):
    """The serialized config as a `.keras` file stores it (JSON: tuples become lists)."""
    return json.loads(json.dumps(keras.saving.serialize_keras_object(obj)))


def _load(path, name):
    return keras.saving.load_model(path, safe_mode=name not in HUB_CLASSES)


def _outputs(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_config_round_trip(name, hub_module_dir):
    obj, _ = FACTORIES[name](hub_module_dir)
    config = _config(obj)
    # a copy: Keras' functional from_config consumes the nested config it is given
    clone = keras.saving.deserialize_keras_object(copy.deepcopy(config), safe_mode=name not in HUB_CLASSES)
    assert type(clone) is _registered()[name]
    assert _config(clone) == config


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_keras_file_round_trip(name, hub_module_dir, tmp_path):
    obj, x = FACTORIES[name](hub_module_dir)
    path = str(tmp_path / f"{name}.keras")
    if x is None:  # not a layer: carried through the file in a layer's config
        model = keras.Sequential([keras.Input((2,)), Holder(obj, name="holder")])
        save_model(model, path)
        loaded = _load(path, name).get_layer("holder").obj
        assert type(loaded) is type(obj) and _config(loaded) == _config(obj)
        return
    model = obj if isinstance(obj, keras.Model) else keras.Sequential([keras.Input(x.shape[1:]), obj])
    expected = _outputs(model, x)
    save_model(model, path)
    loaded = _load(path, name)
    np.testing.assert_allclose(_outputs(loaded, x), expected, atol=1e-5)
    inner = loaded if isinstance(obj, keras.Model) else loaded.layers[0]
    assert type(inner) is type(obj) and _config(inner) == _config(obj)


# -- backbone kind x policy ---------------------------------------------------------------------

KINDS = ("mobilenet_v3_small", "efficientnet_lite0", "hub")
POLICIES = (
    "FreezeAll",
    "UnfreezeAll",
    "UnfreezeTop",
    "UnfreezeFrom",
    "DiscriminativeLR",
    "L2SP",
    "GradualUnfreezing",
)


def _backbone(kind, hub_module_dir):
    from keras_transfer.backbones import HubBackbone, get_backbone

    if kind == "hub":
        return HubBackbone(hub_module_dir, input_size=(16, 16)), _images(side=16)
    weights = "imagenet" if kind == "efficientnet_lite0" else None  # Lite0's ship with the package
    return get_backbone(kind, input_shape=(32, 32, 3), weights=weights), _images(side=32)


def _policy(name, backbone):
    from keras_transfer import policies

    named = [g for g in backbone.block_names if g not in ("stem", "top")]
    return {
        "FreezeAll": lambda: policies.FreezeAll(),
        "UnfreezeAll": lambda: policies.UnfreezeAll(bn="train"),
        "UnfreezeTop": lambda: policies.UnfreezeTop(1),
        "UnfreezeFrom": lambda: policies.UnfreezeFrom(named[-1]),
        "DiscriminativeLR": lambda: policies.DiscriminativeLR(base_policy=policies.UnfreezeFrom(named[0])),
        "L2SP": lambda: policies.L2SP(alpha=0.1, base_policy=policies.UnfreezeTop(1)),
        "GradualUnfreezing": lambda: policies.GradualUnfreezing(every=1),
    }[name]()


def _flags(model):
    return [w.trainable for w in model.weights], len(model.trainable_weights)


def _check_round_trip(model, x, path, safe_mode):
    expected = model.predict(x, verbose=0)
    flags = _flags(model)
    save_model(model, path)
    loaded = keras.saving.load_model(path, safe_mode=safe_mode)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-5)
    assert _flags(loaded) == flags
    return loaded


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("kind", KINDS)
def test_transfer_classifier_saves_and_loads_with_every_backbone_and_policy(
    kind, policy, hub_module_dir, tmp_path
):
    from keras_transfer.models import TransferClassifier

    backbone, x = _backbone(kind, hub_module_dir)
    chosen = _policy(policy, backbone)
    model = TransferClassifier(backbone, 3, policy=chosen, policy_epoch=1)
    loaded = _check_round_trip(model, x, str(tmp_path / "clf.keras"), safe_mode=kind != "hub")
    assert loaded.policy == chosen and loaded.policy_epoch == 1
    assert _flags(loaded.backbone) == _flags(model.backbone)


# The bare backbone holds the same flags as inside a classifier: two policies per kind by default
# (all frozen, partly frozen), every policy with `-m slow`.
BARE = [
    pytest.param(kind, policy, marks=() if policy in ("FreezeAll", "UnfreezeTop") else pytest.mark.slow)
    for kind in KINDS
    for policy in POLICIES
]


@pytest.mark.parametrize(("kind", "policy"), BARE)
def test_bare_backbone_saves_and_loads_with_every_policy(kind, policy, hub_module_dir, tmp_path):
    backbone, x = _backbone(kind, hub_module_dir)
    _policy(policy, backbone).apply(backbone, epoch=1)
    _check_round_trip(backbone, x, str(tmp_path / "bb.keras"), safe_mode=kind != "hub")


def test_frozen_hub_backbone_from_get_backbone_loads(hub_module_dir, tmp_path):
    """The reported failure: a frozen hub: backbone saved, then failed to load (int('image'))."""
    from keras_transfer.backbones import get_backbone

    backbone = get_backbone("hub:" + hub_module_dir, input_shape=(16, 16, 3), trainable=False)
    loaded = _check_round_trip(backbone, _images(side=16), str(tmp_path / "frozen.keras"), safe_mode=False)
    assert loaded.trainable is False and loaded.trainable_weights == []


# -- safe mode --------------------------------------------------------------------------------------


def test_safe_mode_flag_reader_follows_keras():
    """`keras_transfer.safe_mode.in_safe_mode` reads a private Keras flag: pin what it sees."""
    from keras_transfer.safe_mode import in_safe_mode

    seen = {}

    @keras.saving.register_keras_serializable(package="tests")
    class Probe(keras.layers.Layer):
        @classmethod
        def from_config(cls, config):
            seen[len(seen)] = in_safe_mode()
            return cls(**config)

    config = _config(Probe())
    keras.saving.deserialize_keras_object(config)
    keras.saving.deserialize_keras_object(config, safe_mode=False)
    Probe.from_config(config["config"])
    assert seen == {0: True, 1: False, 2: False}


def test_registry_backbones_load_under_safe_mode_without_reading_weights(monkeypatch, tmp_path):
    """A Backbone config names a registry entry: loading rebuilds it with weights=None and takes
    the weights from the file; the EfficientNet-Lite PyTorch file is never read."""
    from keras_transfer.backbones import get_backbone, lite_weights

    backbone = get_backbone("efficientnet_lite0", input_shape=(32, 32, 3), weights="imagenet")
    x = _images(side=32)

    def refuse(*args, **kwargs):
        raise AssertionError("loading a .keras file read the PyTorch weights file")

    monkeypatch.setattr(lite_weights, "load_legacy_state_dict", refuse)
    _check_round_trip(backbone, x, str(tmp_path / "lite.keras"), safe_mode=True)


_UNSAFE_GLOBALLY = textwrap.dedent(
    """
    import sys
    import keras
    import keras_transfer.backbones  # registers the classes

    try:
        keras.saving.load_model(sys.argv[1])
    except ValueError as exc:
        print("refused:", "safe_mode=False" in str(exc))
    keras.config.enable_unsafe_deserialization()
    print("loaded:", type(keras.saving.load_model(sys.argv[1]).layers[0]).__name__)
    # process-wide: an explicit per-call safe_mode=True no longer refuses (the README says so)
    explicit = keras.saving.load_model(sys.argv[1], safe_mode=True)
    print("explicit safe_mode=True after the switch:", type(explicit.layers[0]).__name__)
    """
)


def test_enable_unsafe_deserialization_opts_in_to_hub_models(hub_module_dir, tmp_path):
    """The global opt-in, in a child process: it cannot be undone through public API."""
    from keras_transfer.backbones import HubBackbone

    model = keras.Sequential([keras.Input((8, 8, 3)), HubBackbone(hub_module_dir, input_size=(8, 8))])
    path = save_model(model, tmp_path / "hub.keras")
    run = subprocess.run(
        [sys.executable, "-c", _UNSAFE_GLOBALLY, path],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "refused: True" in run.stdout and "loaded: HubBackbone" in run.stdout, run.stdout
    assert "explicit safe_mode=True after the switch: HubBackbone" in run.stdout, run.stdout


def test_safe_mode_refusal_recommends_the_per_call_opt_in(hub_module_dir, tmp_path):
    from keras_transfer.backbones import HubBackbone

    model = keras.Sequential([keras.Input((8, 8, 3)), HubBackbone(hub_module_dir, input_size=(8, 8))])
    path = save_model(model, tmp_path / "hub.keras")
    with pytest.raises(ValueError) as info:
        keras.saving.load_model(path)
    message = str(info.value)
    assert "`safe_mode=False` to keras.saving.load_model for this load" in message
    assert "every later load in the process" in message  # the global switch is not equivalent
