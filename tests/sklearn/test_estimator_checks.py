"""scikit-learn's estimator checks over every estimator, with the expected failures in ONE dict."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from keras_transfer.sklearn import DomainAdaptationClassifier, FeatureExtractor, FineTunedClassifier
from tests.sklearn._tiny import TINY_CNN

# Every check that cannot pass for these estimators, with the reason. Nothing is swallowed by
# try/except: a check listed here that starts passing fails the run (xfail_strict).
_NOT_SQUARE = (
    "the checks feed 2-D X with 2, 5 or 10 columns; these estimators read 2-D rows as flattened "
    "square images (S*S or 3*S*S pixels, like load_digits().data) and rejects other widths with "
    "an error asking for (n, height, width, channels)"
)
_NOT_SQUARE_CHECKS = (
    "check_estimators_overwrite_params",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_estimators_dtypes",
    "check_dtype_object",
    "check_fit2d_1sample",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
)
_NEEDS_TARGET = (
    "DomainAdaptationClassifier.fit needs X_target= (unlabelled target images) by design and the "
    "checks call fit(X, y); it raises a ValueError saying so"
)
EXPECTED_FAILED_CHECKS = {
    "FeatureExtractor": {
        "check_estimators_overwrite_params": _NOT_SQUARE,
        "check_estimators_fit_returns_self": _NOT_SQUARE,
        "check_readonly_memmap_input": _NOT_SQUARE,
        "check_estimators_dtypes": _NOT_SQUARE,
        "check_dtype_object": _NOT_SQUARE,
        "check_fit2d_1sample": _NOT_SQUARE,
        "check_fit_idempotent": _NOT_SQUARE,
        "check_fit_check_is_fitted": _NOT_SQUARE,
        "check_n_features_in": _NOT_SQUARE,
    },
    "FineTunedClassifier": {
        **{name: _NOT_SQUARE for name in _NOT_SQUARE_CHECKS},
        "check_classifier_data_not_an_array": _NOT_SQUARE,
        "check_classifiers_classes": _NOT_SQUARE,
        "check_classifiers_train": _NOT_SQUARE,
        "check_classifiers_train(readonly_memmap=True)": _NOT_SQUARE,
        "check_classifiers_train(readonly_memmap=True,X_dtype=float32)": _NOT_SQUARE,
    },
    "DomainAdaptationClassifier": {
        "check_classifier_data_not_an_array": _NOT_SQUARE,
        "check_classifiers_classes": _NOT_SQUARE,
        "check_dict_unchanged": _NEEDS_TARGET,
        "check_dont_overwrite_parameters": _NEEDS_TARGET,
        "check_dtype_object": _NOT_SQUARE,
        "check_estimators_dtypes": _NOT_SQUARE,
        "check_estimators_fit_returns_self": _NOT_SQUARE,
        "check_estimators_nan_inf": _NEEDS_TARGET,
        "check_estimators_overwrite_params": _NOT_SQUARE,
        "check_estimators_pickle": _NEEDS_TARGET,
        "check_f_contiguous_array_estimator": _NEEDS_TARGET,
        "check_fit2d_1feature": _NEEDS_TARGET,
        "check_fit2d_1sample": _NOT_SQUARE,
        "check_fit2d_predict1d": _NEEDS_TARGET,
        "check_fit_check_is_fitted": _NOT_SQUARE,
        "check_fit_idempotent": _NOT_SQUARE,
        "check_fit_score_takes_y": _NEEDS_TARGET,
        "check_n_features_in": _NOT_SQUARE,
        "check_n_features_in_after_fitting": _NEEDS_TARGET,
        "check_positive_only_tag_during_fit": _NEEDS_TARGET,
        "check_readonly_memmap_input": _NOT_SQUARE,
        "check_supervised_y_2d": _NEEDS_TARGET,
        "check_classifiers_train": _NOT_SQUARE,
        "check_classifiers_train(readonly_memmap=True)": _NOT_SQUARE,
        "check_classifiers_train(readonly_memmap=True,X_dtype=float32)": _NOT_SQUARE,
    },
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [
        FeatureExtractor(**TINY_CNN, verbose=0),
        DomainAdaptationClassifier(**TINY_CNN, epochs=1, batch_size=16),
    ],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.slow  # ~40 Keras trainings: about 2-3 minutes on a busy 2-core CPU
@parametrize_with_checks(
    [FineTunedClassifier(**TINY_CNN, head_epochs=0, epochs=1, batch_size=16, random_state=0)],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_estimator_checks_classifiers(estimator, check):
    check(estimator)
