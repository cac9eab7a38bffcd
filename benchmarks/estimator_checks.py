"""scikit-learn's estimator checks on DNNClassifier / DNNRegressor and on MLPClassifier / MLPRegressor, in one run.

Runs ``sklearn.utils.estimator_checks.check_estimator(..., on_fail=None)`` (no expected failures declared)
on each estimator at its defaults and with dropout + batch norm + early stopping, and prints one row per
estimator: checks passed, failed, skipped, and the failed checks' names.

    python benchmarks/estimator_checks.py
"""

from __future__ import annotations

import collections
import warnings

from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.estimator_checks import check_estimator

import dnnimprove as dn

EVERYTHING_ON = {"keep_prob": 0.9, "batch_norm": True, "early_stopping": True, "random_state": 0}

ESTIMATORS = [
    ("DNNClassifier() defaults", dn.DNNClassifier(random_state=0)),
    ("DNNRegressor() defaults", dn.DNNRegressor(random_state=0)),
    ("DNNClassifier dropout+bn+early stopping", dn.DNNClassifier(**EVERYTHING_ON)),
    ("DNNRegressor dropout+bn+early stopping", dn.DNNRegressor(**EVERYTHING_ON)),
    ("MLPClassifier() defaults", MLPClassifier(random_state=0)),
    ("MLPRegressor() defaults", MLPRegressor(random_state=0)),
    ("MLPClassifier early stopping", MLPClassifier(early_stopping=True, random_state=0)),
]


def main() -> None:
    print(f"{'estimator':<42}{'passed':>7}{'failed':>7}{'skipped':>8}  failed checks")
    for label, estimator in ESTIMATORS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(estimator, on_fail=None)
        counts = collections.Counter(result["status"] for result in results)
        failed = sorted({result["check_name"] for result in results if result["status"] == "failed"})
        print(f"{label:<42}{counts['passed']:>7}{counts['failed']:>7}{counts['skipped']:>8}  {', '.join(failed) or '-'}")


if __name__ == "__main__":
    main()
