"""scikit-learn's estimator checks on DNNClassifier / DNNRegressor and on MLPClassifier / MLPRegressor, in one run.

Runs ``sklearn.utils.estimator_checks.check_estimator(..., on_fail=None)`` on each estimator: at its
defaults, with batch norm + early stopping, and with dropout + batch norm + early stopping, where one
expected failure is declared (the test suite's own: ``check_sample_weight_equivalence_on_dense_data``
under dropout, whose masks differ between a weighted row and its repeated copies). A declared check that
fails is counted as ``xfail``, one that passes as passed; an undeclared failure is ``failed``. For
comparison the same run checks scikit-learn's MLPs at their defaults, with early stopping, and in the
settings scikit-learn's own suite uses for the weight-equivalence check (lbfgs; sgd with ``tol=1e-2``).
Prints one row per estimator: checks passed, failed, xfail, skipped, and the names of the failed and
xfail checks.

    python benchmarks/estimator_checks.py
"""

from __future__ import annotations

import collections
import warnings

from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.estimator_checks import check_estimator

import dnnimprove as dn

BN_AND_EARLY_STOPPING = {"batch_norm": True, "early_stopping": True, "random_state": 0}
EVERYTHING_ON = {"keep_prob": 0.9, **BN_AND_EARLY_STOPPING}
DROPOUT_MASKS = {"check_sample_weight_equivalence_on_dense_data": "dropout draws one mask per row, not per copy"}

ESTIMATORS = [
    ("DNNClassifier() defaults", dn.DNNClassifier(random_state=0), None),
    ("DNNRegressor() defaults", dn.DNNRegressor(random_state=0), None),
    ("DNNClassifier bn+early stopping", dn.DNNClassifier(**BN_AND_EARLY_STOPPING), None),
    ("DNNRegressor bn+early stopping", dn.DNNRegressor(**BN_AND_EARLY_STOPPING), None),
    ("DNNClassifier dropout+bn+early stopping", dn.DNNClassifier(**EVERYTHING_ON), DROPOUT_MASKS),
    ("DNNRegressor dropout+bn+early stopping", dn.DNNRegressor(**EVERYTHING_ON), DROPOUT_MASKS),
    ("MLPClassifier() defaults", MLPClassifier(random_state=0), None),
    ("MLPRegressor() defaults", MLPRegressor(random_state=0), None),
    ("MLPClassifier early stopping", MLPClassifier(early_stopping=True, random_state=0), None),
    ("MLPClassifier(solver='lbfgs')", MLPClassifier(solver="lbfgs", random_state=0), None),
    ("MLPRegressor(solver='sgd', tol=1e-2)", MLPRegressor(solver="sgd", tol=1e-2, random_state=42), None),
]


def main() -> None:
    print(f"{'estimator':<42}{'passed':>7}{'failed':>7}{'xfail':>6}{'skipped':>8}  failed / xfail checks")
    for label, estimator, expected in ESTIMATORS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(estimator, on_fail=None, on_skip=None, expected_failed_checks=expected)
        counts = collections.Counter(result["status"] for result in results)
        names = {status: sorted({result["check_name"] for result in results if result["status"] == status})
                 for status in ("failed", "xfail")}
        listed = ", ".join(names["failed"]) or "-"
        if names["xfail"]:
            listed += " / xfail: " + ", ".join(names["xfail"])
        print(f"{label:<42}{counts['passed']:>7}{counts['failed']:>7}{counts['xfail']:>6}{counts['skipped']:>8}  {listed}")


if __name__ == "__main__":
    main()
