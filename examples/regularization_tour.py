"""Regularization, batch normalization and diagnosis in one short run (a few seconds).

    PYTHONPATH=src python3 examples/regularization_tour.py

Prints the figures quoted in the README's "Regularization, batch normalization and diagnosis" section.
"""

from __future__ import annotations

import numpy as np

import dnnimprove as dn


def weight_norm(model: dn.Sequential) -> float:
    return float(np.sqrt(sum(np.sum(model.params[i.slice] ** 2) for i in model.table if i.role == "weight")))


def main() -> None:
    # Gradient checks with the regularizers on (float64, 16 rows, two hidden layers).
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 4)), rng.integers(0, 2, 16)
    nets = {
        "L2 0.7": (dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=1), 0.7),
        "dropout 0.8": (dn.Sequential([dn.Dense(6), dn.Tanh(), dn.Dropout(0.8), dn.Dense(5), dn.ReLU(),
                                       dn.Dropout(0.8), dn.Dense(1)], seed=1), 0.0),
        "batch norm": (dn.Sequential([dn.Dense(6, use_bias=False), dn.BatchNorm(), dn.ReLU(),
                                      dn.Dense(5, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dense(1)], seed=1), 0.0),
    }
    for name, (model, lambd) in nets.items():
        model.build(4)
        for info in model.table:  # a generic point: biases off zero, so no ReLU input sits on its kink
            if info.role in ("bias", "shift"):
                model.params[info.slice] = rng.normal(0.0, 0.1, info.size)
        print(f"gradient check, {name:<12} difference {dn.check_gradients(model, X, y, l2=lambd).difference:.1e}")

    # L2 shrinks the weights (moons, 2-6-5-1 ReLU, Adam 0.01, 300 full-batch epochs, seed 3).
    X, y = dn.datasets.moons(300, 0.2, seed=3)
    for lambd in (0.0, 0.7):
        model = dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=3)
        history = model.fit(X, y, epochs=300, optimizer=dn.Adam(0.01), l2=lambd)
        print(f"l2={lambd}: ||W||_F = {weight_norm(model):.2f}, data cost {history.data_cost[-1]:.4f}, "
              f"penalty {history.penalty[-1]:.4f}")

    # Early stopping on a run that overfits: 40 noisy training points, 260 dev points, 2-64-64-1 ReLU.
    X, y = dn.datasets.moons(300, 0.35, seed=0)
    model = dn.Sequential([dn.Dense(64), dn.ReLU(), dn.Dense(64), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X[:40], y[:40], epochs=300, optimizer=dn.Adam(0.01), validation_data=(X[40:], y[40:]),
                        callbacks=[dn.EarlyStopping(patience=20)])
    best = history.epoch.index(history.best_epoch)
    print(f"early stopping: best epoch {history.best_epoch} (dev cost {history.val_cost[best]:.4f}), stopped at "
          f"{history.stopped_epoch} (dev cost {history.val_cost[-1]:.4f}); restored model's dev cost "
          f"{model.evaluate(X[40:], y[40:])['cost']:.4f}")
    print(dn.diagnose_model(model, X[:40], y[:40], X[40:], y[40:]))

    # Training health: 10 layers of 8 units, standardized moons, seed 0, 10 epochs.
    X, y = dn.datasets.moons(200, 0.2, seed=3)
    X = dn.Standardizer().fit_transform(X)
    for activation, init in (("sigmoid", "random"), ("relu", "he")):
        layers = []
        for _ in range(9):
            layers += [dn.Dense(8, init=init), dn.get_activation(activation)]
        health = dn.TrainingHealth()
        dn.Sequential(layers + [dn.Dense(1, init=init)], seed=0).fit(
            X, y, epochs=10, batch_size=50, optimizer=dn.Adam(0.001), callbacks=[health])
        norms = health.records[0].grad_norm
        print(f"{activation} / {init}: ||dW_1|| / ||dW_10|| = {norms['dense_1'] / norms['dense_10']:.1e}; "
              f"vanishing flags: {[flag.layer for flag in health.flagged('vanishing')]}")


if __name__ == "__main__":
    main()
