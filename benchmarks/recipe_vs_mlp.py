"""The basic recipe against a RandomizedSearchCV-tuned scikit-learn MLP, the same wall time for both.

For each table (written to a CSV first, so the recipe reads a file as a user's would):

- breast cancer (569 rows, 30 numeric columns, text labels ``malignant``/``benign``);
- digits (1797 rows, 64 columns, 10 classes);
- a ``make_classification`` set with 10% of the labels flipped and a text column (one-hot encoded);
- diabetes (442 rows, 10 columns, a regression target).

``dnnimprove.recipe`` runs first with ``--max-minutes`` as its budget and its defaults otherwise (with a
budget on these small tables: every configuration measured by 3-fold cross-validation over the train+dev
rows, the remedies tuned once the gaps are closed; it may stop sooner when the time left fits no
candidate); then ``RandomizedSearchCV`` over
``MLPClassifier``/``MLPRegressor`` (hidden sizes, ``alpha`` and ``learning_rate_init`` log-uniform, batch
size; 3-fold CV on the recipe's train+dev rows) gets the same budget, or the recipe's time when that was
longer: it runs searches of 2 candidates (a new random_state each) until the next would overrun the
budget, then refits the best candidate on the train+dev rows. Both are scored once on the same test
rows (accuracy, or R2 for regression). Both see the same arrays: the recipe's split, inputs standardized
(and text columns one-hot encoded) on its training rows, a regression target standardized there too (R2
is unchanged by that affine map; scikit-learn's MLPRegressor would not scale the target itself). Prints
one table, every recipe's steps and the machine load.

One split of a small table is a noisy measurement (one test row of breast cancer is 0.0088 of accuracy).
``--splits N`` repeats the whole comparison on the splits drawn with seeds ``seed .. seed + N - 1`` (the
same split for both systems each time) and prints, beside the first split's figures, the mean and
standard deviation over the N splits and on how many the recipe was at least the MLP.

    python benchmarks/recipe_vs_mlp.py --max-minutes 1
    python benchmarks/recipe_vs_mlp.py --max-minutes 1 --splits 3
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def tables(folder: str) -> list[tuple[str, str, str]]:
    """Write the four CSV files; returns ``(name, path, target)``."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification

    out = []
    cancer = load_breast_cancer(as_frame=True)
    frame = cancer.frame.copy()
    frame["target"] = np.where(cancer.target == 0, "malignant", "benign")
    out.append(("breast_cancer", frame, "target"))
    digits = load_digits(as_frame=True)
    out.append(("digits", digits.frame.copy(), "target"))
    X, y = make_classification(n_samples=1500, n_features=20, n_informative=8, n_redundant=4, flip_y=0.1,
                               random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(20)])
    frame["band"] = pd.cut(X[:, 0], [-np.inf, -1, 0, 1, np.inf], labels=["low", "mid", "high", "top"]).astype(str)
    frame["label"] = y
    out.append(("noisy_classification", frame, "label"))
    diabetes = load_diabetes(as_frame=True)
    out.append(("diabetes", diabetes.frame.copy(), "target"))
    written = []
    for name, frame, target in out:
        path = os.path.join(folder, f"{name}.csv")
        frame.to_csv(path, index=False)
        written.append((name, path, target))
    return written


def mlp_search(result, seconds: float, seed: int) -> tuple[float, float, int, dict]:
    """RandomizedSearchCV over an MLP for about ``seconds``; returns ``(test score, wall seconds, candidates, the
    chosen parameters)``."""
    from scipy.stats import loguniform
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import RandomizedSearchCV
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    import warnings

    data = result.data
    X = np.vstack([data.X_train, data.X_dev])
    y = np.concatenate([data.y_train, data.y_dev])
    regression = data.task == "regression"
    estimator = MLPRegressor(max_iter=200, random_state=seed) if regression else MLPClassifier(max_iter=200,
                                                                                               random_state=seed)
    space = {
        "hidden_layer_sizes": [(32,), (64,), (128,), (64, 32), (128, 64)],
        "alpha": loguniform(1e-5, 10.0),
        "learning_rate_init": loguniform(1e-4, 1e-1),
        "batch_size": [32, 64, 128],
    }
    started = time.perf_counter()
    best, n_iter, chunk = None, 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        while True:  # searches of 2 candidates each, until the next one would overrun the budget
            search = RandomizedSearchCV(estimator, space, n_iter=2, cv=3, random_state=seed + chunk, n_jobs=1,
                                        refit=False).fit(X, y)
            n_iter, chunk = n_iter + 2, chunk + 1
            if best is None or search.best_score_ > best.best_score_:
                best = search
            elapsed = time.perf_counter() - started
            if elapsed + 2 * elapsed / n_iter > seconds:
                break
        model = clone(estimator).set_params(**best.best_params_).fit(X, y)
    spent = time.perf_counter() - started
    return float(model.score(data.X_test, data.y_test)), spent, n_iter, best.best_params_


def main() -> None:
    import dnnimprove as dn
    from dnnimprove.basic_recipe import recipe

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-minutes", type=float, default=1.0, help="the recipe's budget per table")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="comma-separated table names")
    parser.add_argument("--splits", type=int, default=1, help="also average over this many train/dev/test splits")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for split in range(args.seed, args.seed + args.splits):
            for name, path, target in tables(folder):
                if args.only and name not in args.only.split(","):
                    continue
                started = time.perf_counter()
                result = recipe(path, target=target, seed=split, max_minutes=args.max_minutes)
                recipe_seconds = time.perf_counter() - started
                budget = max(60.0 * args.max_minutes, recipe_seconds)
                mlp_score, mlp_seconds, n_iter, chosen = mlp_search(result, budget, split)
                print(f"\n== {name}, split seed {split} ==\n{result.table()}\nMLP RandomizedSearchCV: {n_iter} "
                      f"candidates, test {result.score_name} {mlp_score:.4f}, {mlp_seconds:.1f} s; chosen "
                      f"{ {key: round(float(value), 6) if isinstance(value, float) else value for key, value in chosen.items()} }",
                      flush=True)
                rows.append((name, split, result.score_name, result.test_score, mlp_score, recipe_seconds,
                             mlp_seconds, n_iter, len(result.steps), one_network(result)))
            print("load average:", _load(), flush=True)
    print(f"\nrecipe (dnnimprove {dn.__version__}) vs RandomizedSearchCV MLP, same wall time; budget "
          f"--max-minutes {args.max_minutes:g}")
    print(f"{'table':<22}{'split':>6}  {'metric':<10}{'recipe':>8}{'MLP':>8}{'ratio':>8}{'recipe s':>10}"
          f"{'MLP s':>8}{'MLP cand.':>10}{'steps':>7}{'one net':>9}")
    for name, split, metric, ours, theirs, s1, s2, n_iter, steps, single in rows:
        print(f"{name:<22}{split:>6}  {metric:<10}{ours:>8.4f}{theirs:>8.4f}{ours / theirs:>8.3f}{s1:>10.1f}"
              f"{s2:>8.1f}{n_iter:>10}{steps:>7}{single:>9.4f}")
    print("one net: the test score of the first of the networks the recipe's final model averages, alone")
    if args.splits > 1:
        print(f"\nover {args.splits} splits (seeds {args.seed}..{args.seed + args.splits - 1}): mean (standard deviation)")
        print(f"{'table':<22}{'metric':<10}{'recipe':>18}{'MLP':>18}{'recipe >= MLP':>15}{'one net':>18}")
        for name in dict.fromkeys(row[0] for row in rows):
            ours, theirs, single = (np.array([row[column] for row in rows if row[0] == name]) for column in (3, 4, 9))
            metric = next(row[2] for row in rows if row[0] == name)
            print(f"{name:<22}{metric:<10}{ours.mean():>10.4f} ({ours.std(ddof=1):.4f}){theirs.mean():>10.4f} "
                  f"({theirs.std(ddof=1):.4f}){f'{int(np.sum(ours >= theirs))} of {len(ours)}':>15}"
                  f"{single.mean():>10.4f} ({single.std(ddof=1):.4f})")
    print("load average:", _load())


def one_network(result) -> float:
    """The test score of the first network the final model averages (the recipe's model itself when it is one)."""
    from sklearn.metrics import r2_score

    network = result.networks[0] if result.networks else result.model
    data = result.data
    predicted = network.loss.predict(network.forward(data.X_test))
    if data.task == "regression":
        return float(r2_score(data.y_test, predicted))
    return float(np.mean(predicted == data.y_test))


def _load() -> list[str] | str:
    return open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "n/a"


if __name__ == "__main__":
    main()
