"""Draw the figures of the documentation's technique pages with the library: ``python docs/make_figures.py``.

Each figure is trained and drawn here (matplotlib, Agg) and written to ``docs/figures/<name>.png`` (small:
about 700 x 400 pixels). Runs that depend on the seed are drawn over several seeds, as a median with the
seeds' range shaded. ``--only NAME`` draws one figure. About a minute in all on one core.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import dnnimprove as dn

OUT = Path(__file__).resolve().parent / "figures"
SEEDS = (0, 1, 2, 3, 4)
DPI = 100


def _figure(width: float = 7.0, height: float = 4.0) -> tuple[Figure, object]:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return figure, figure.add_subplot()


def _spread(axes, curves: list[np.ndarray], label: str, color: str, style: str = "-", marker: str | None = None,
            step: int = 1, top: float | None = None) -> None:
    """Median over seeds with the seeds' range shaded.

    A curve cut short (the run diverged) ends with an x; with ``top``, values above it (one diverging seed
    would otherwise stretch the axis by dozens of decades) are drawn as triangles on the top edge.
    """
    length = max(len(curve) for curve in curves)
    stacked = np.full((len(curves), length), np.nan)
    for row, curve in enumerate(curves):
        stacked[row, : len(curve)] = curve
        if len(curve) < length:
            axes.plot((len(curve) - 1) * step, min(curve[-1], top or np.inf), "x", color=color, markersize=9)
    epochs = np.arange(length) * step
    with np.errstate(all="ignore"):
        median = np.nanmedian(stacked, axis=0)
        low, high = np.nanmin(stacked, axis=0), np.nanmax(stacked, axis=0)
    if top is not None:
        above = np.nan_to_num(stacked, nan=0.0, posinf=np.inf) > top
        if above.any():
            columns = np.flatnonzero(above.any(axis=0))
            axes.plot(epochs[columns], np.full(len(columns), top), "^", color=color, markersize=7, clip_on=False,
                      label=f"{label}: a seed off the scale (cost > {top:g})")
        high = np.minimum(high, top)
    every = max(1, length // 10)
    axes.plot(epochs, median, style, color=color, label=f"{label} (median of {len(curves)} seeds)", marker=marker, markevery=every)
    axes.fill_between(epochs, low, high, color=color, alpha=0.18, linewidth=0)


def standardization() -> Figure:
    X, y = dn.datasets.breast_cancer()
    X_train, _, _, y_train, _, _ = dn.train_dev_test_split(X, y, seed=0)
    columns = [0, 3]                                         # mean radius, mean area
    scaled = dn.Standardizer().fit(X_train).transform(X_train)
    figure = Figure(figsize=(8.0, 3.6), dpi=DPI, layout="constrained")
    for index, (data, title) in enumerate([(X_train, "raw"), (scaled, "standardized (train statistics)")]):
        axes = figure.add_subplot(1, 2, index + 1)
        for label, marker in ((0, "o"), (1, "^")):
            rows = y_train == label
            axes.scatter(data[rows, columns[0]], data[rows, columns[1]], s=8, marker=marker, label=f"class {label}", alpha=0.6)
        axes.set_title(title)
        axes.set_xlabel("feature 0 (mean radius)")
        axes.set_ylabel("feature 3 (mean area)")
        axes.legend()
    return figure


def initialization() -> Figure:
    X, y = dn.datasets.circles(n_samples=300, noise=0.05, seed=1)
    figure, axes = _figure()
    for (init, color, style) in (("zeros", "C0", "-"), ("large_random", "C3", "--"), ("he", "C2", "-.")):
        curves = []
        for seed in SEEDS:
            model = dn.Sequential([dn.Dense(10, init=init), dn.ReLU(), dn.Dense(5, init=init), dn.ReLU(),
                                   dn.Dense(1, init=init)], seed=seed)
            history = model.fit(X, y, epochs=15000, optimizer=dn.GradientDescent(lr=0.01), record_every=50)
            curves.append(np.asarray(history.cost))
        _spread(axes, curves, init, color, style, step=50)
    axes.set_yscale("log")
    axes.set_title("Initialization: training cost, circles, 2-10-5-1, GD lr 0.01")
    axes.set_xlabel("epoch")
    axes.set_ylabel("cost (log scale)")
    axes.legend()
    return figure


def regularization() -> Figure:
    X, y = dn.datasets.noisy_wave(n_samples=300, seed=0)
    X_train, X_dev, _, y_train, y_dev, _ = dn.train_dev_test_split(X, y, dev=0.2, test=0.4, seed=0)
    figure = Figure(figsize=(9.0, 3.2), dpi=DPI, layout="constrained")
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 150), np.linspace(-1, 1, 150)), axis=-1).reshape(-1, 2)
    for index, (name, keep_prob, l2) in enumerate([("none", None, 0.0), ("L2 0.7", None, 0.7), ("dropout 0.86", 0.86, 0.0)]):
        layers = [dn.Dense(20), dn.ReLU()] + ([dn.Dropout(keep_prob)] if keep_prob else []) + [dn.Dense(3), dn.ReLU(), dn.Dense(1)]
        model = dn.Sequential(layers, seed=0)
        model.fit(X_train, y_train, epochs=3000, optimizer=dn.Adam(lr=0.01), l2=l2)
        train = model.evaluate(X_train, y_train)["accuracy"]
        dev = model.evaluate(X_dev, y_dev)["accuracy"]
        axes = figure.add_subplot(1, 3, index + 1)
        axes.contourf(grid[:, 0].reshape(150, 150), grid[:, 1].reshape(150, 150),
                      model.predict(grid).reshape(150, 150), levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fdd0a2"])
        for label, marker, color in ((0, "o", "C0"), (1, "^", "C1")):
            rows = y_train == label
            axes.scatter(X_train[rows, 0], X_train[rows, 1], s=10, marker=marker, color=color, edgecolor="k", linewidth=0.3)
        axes.set_title(f"{name}: train {train:.2f}, dev {dev:.2f}", fontsize=10)
        axes.set_xlabel("x1")
        axes.set_ylabel("x2")
    return figure


def batch_norm() -> Figure:
    X, y = dn.datasets.digits()
    X_train, _, _, y_train, _, _ = dn.train_dev_test_split(X, y, seed=0)
    X_train = dn.Standardizer().fit(X_train).transform(X_train)
    figure, axes = _figure()
    for use_bn, color, style in ((False, "C3", "--"), (True, "C2", "-")):
        curves = []
        for seed in SEEDS:
            layers = []
            for _ in range(5):
                layers += [dn.Dense(32, use_bias=not use_bn)] + ([dn.BatchNorm()] if use_bn else []) + [dn.ReLU()]
            model = dn.Sequential(layers + [dn.Dense(10)], loss="categorical_crossentropy", seed=seed)
            try:
                history = model.fit(X_train, y_train, epochs=20, batch_size=64, optimizer=dn.Momentum(lr=1.0))
            except dn.TrainingDiverged:
                history = model.history_
            curves.append(np.asarray(history.cost))
        _spread(axes, curves, "batch norm" if use_bn else "plain", color, style, marker="o" if use_bn else "s", top=10.0)
    axes.set_yscale("log")
    axes.set_ylim(1e-3, 10.0)
    axes.set_title("Batch norm on digits: 5 x 32 hidden, momentum lr 1.0, batch 64")
    axes.set_xlabel("epoch")
    axes.set_ylabel("training cost (log scale)")
    axes.legend()
    return figure


def gradient_checking() -> Figure:
    X, y = dn.datasets.moons(n_samples=60, seed=3)

    class ScaledDense(dn.Dense):
        def backward(self, dZ):
            dX = super().backward(dZ)
            self.grads["W"] *= 2.0
            self.grads["b"] *= 4.0
            return dX

    figure, axes = _figure()
    width = 0.4
    for offset, (name, second) in enumerate([("correct", dn.Dense(5)), ("dense_2 scaled", ScaledDense(5))]):
        model = dn.Sequential([dn.Dense(10), dn.ReLU(), second, dn.ReLU(), dn.Dense(1)], seed=0)
        model.fit(X, y, epochs=20, optimizer=dn.Adam(lr=0.01))
        report = dn.check_gradients(model, X[:20], y[:20])
        names = list(report.per_tensor)
        positions = np.arange(len(names)) + (offset - 0.5) * width
        axes.bar(positions, list(report.per_tensor.values()), width, label=name, hatch="" if offset == 0 else "//")
    axes.set_xticks(np.arange(len(names)), names)
    axes.set_yscale("log")
    axes.axhline(1e-7, color="k", linestyle=":", label="1e-7: correct below")
    axes.axhline(1e-3, color="k", linestyle="--", label="1e-3: wrong above")
    axes.set_title("Gradient check: relative difference per tensor")
    axes.set_ylabel("relative difference (log scale)")
    axes.legend(fontsize=8)
    return figure


def optimization() -> Figure:
    X, y = dn.datasets.moons(n_samples=300, noise=0.2, seed=3)
    figure, axes = _figure()
    runs = [("gradient descent", dn.GradientDescent(lr=0.0007), "C0", "-", "o"),
            ("momentum (beta 0.9)", dn.Momentum(lr=0.0007, beta=0.9), "C1", "--", "s"),
            ("Adam", dn.Adam(lr=0.0007), "C2", "-.", "^")]
    for index, (name, optimizer, color, style, marker) in enumerate(runs):
        model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=3)
        history = model.fit(X, y, epochs=5000, batch_size=64, optimizer=optimizer, record_every=50)
        axes.plot(history.epoch, history.cost, style, color=color, marker=marker, markevery=(3 * index, 10), label=name)
    axes.set_title("Optimization on moons: 2-5-2-1, mini-batch 64, lr 0.0007")
    axes.set_xlabel("epoch")
    axes.set_ylabel("training cost")
    axes.legend()
    return figure


def schedules() -> Figure:
    figure, axes = _figure()
    epochs = np.arange(300)
    shown = [("InverseTimeDecay(0.1, 0.05)", dn.InverseTimeDecay(lr0=0.1, decay_rate=0.05), "-"),
             ("FixedIntervalDecay(0.1, 1, 50)", dn.FixedIntervalDecay(lr0=0.1, decay_rate=1.0, time_interval=50), "--"),
             ("ExponentialDecay(0.1, 0.99)", dn.ExponentialDecay(lr0=0.1, decay_rate=0.99), "-."),
             ("CosineDecay(0.1, 300)", dn.CosineDecay(lr0=0.1, total=300), ":")]
    for name, schedule, style in shown:
        axes.plot(epochs, [schedule(int(epoch)) for epoch in epochs], style, label=name, linewidth=2)
    axes.set_yscale("log")
    axes.set_title("Learning-rate schedules from lr0 = 0.1")
    axes.set_xlabel("epoch")
    axes.set_ylabel("learning rate (log scale)")
    axes.legend()
    return figure


def softmax() -> Figure:
    X, y = dn.datasets.digits()
    X_train, _, X_test, y_train, _, y_test = dn.train_dev_test_split(X, y, seed=0)
    scaler = dn.Standardizer().fit(X_train)
    model = dn.Sequential([dn.Dense(25), dn.ReLU(), dn.Dense(12), dn.ReLU(), dn.Dense(10)],
                          loss="categorical_crossentropy", seed=0)
    model.fit(scaler.transform(X_train), y_train, epochs=60, batch_size=32, optimizer=dn.Adam(lr=0.001))
    predicted = model.predict(scaler.transform(X_test))
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (y_test, predicted), 1)
    figure, axes = _figure(5.0, 4.4)
    image = axes.imshow(matrix, cmap="Blues")
    for row in range(10):
        for column in range(10):
            if matrix[row, column]:
                axes.text(column, row, matrix[row, column], ha="center", va="center", fontsize=7,
                          color="white" if matrix[row, column] > matrix.max() / 2 else "black")
    accuracy = float(np.mean(predicted == y_test))
    axes.set_title(f"Softmax on digits: test accuracy {accuracy:.3f}")
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("true digit")
    axes.set_xticks(range(10))
    axes.set_yticks(range(10))
    figure.colorbar(image, ax=axes, label="test examples")
    return figure


FIGURES = {
    "standardization": standardization, "initialization": initialization, "regularization": regularization,
    "batch-norm": batch_norm, "gradient-checking": gradient_checking, "optimization": optimization,
    "schedules": schedules, "softmax": softmax,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(FIGURES), action="append", help="draw only these figures")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    for name in args.only or FIGURES:
        path = OUT / f"{name}.png"
        FIGURES[name]().savefig(path, dpi=DPI)
        print(path)


if __name__ == "__main__":
    main()
