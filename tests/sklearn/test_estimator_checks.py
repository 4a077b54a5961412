"""scikit-learn's estimator checks over every estimator, with the expected failures in ONE dict."""
from sklearn.utils.estimator_checks import parametrize_with_checks

from keras_transfer.sklearn import DomainAdaptationClassifier, FeatureExtractor, FineTunedClassifier
from tests.sklearn._tiny import TINY_CNN

# Every check that cannot pass for these estimators, with the reason. Nothing is swallowed by
# try/except: a check listed here that starts passing fails the run (xfail_strict).
_NOT_SQUARE = (
    "the checks feed 2-D X with 2, 5 or 10 columns; FeatureExtractor reads 2-D rows as flattened "
    "square images (S*S or 3*S*S pixels, like load_digits().data) and rejects other widths with "
    "an error asking for (n, height, width, channels)"
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
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


ESTIMATORS = [
    FeatureExtractor(**TINY_CNN, verbose=0),
    FineTunedClassifier(**TINY_CNN, head_epochs=0, epochs=1, batch_size=16, random_state=0),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
