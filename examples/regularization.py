"""Regularization: a network that overfits a small noisy set, and L2, dropout and early stopping.

The course's football data cannot be downloaded; ``noisy_wave`` is a seeded stand-in: 300 points,
labels noisy near a wavy boundary. A 2-20-3-1 ReLU network memorizes its 120 training points.

    python examples/regularization.py            # about 2 s
    python examples/regularization.py --quick    # a few epochs, to check the script runs
"""

import sys

import dnnimprove as dn

QUICK = "--quick" in sys.argv[1:]
EPOCHS = 30 if QUICK else 3000

X, y = dn.datasets.noisy_wave(n_samples=300, noise=0.3, seed=0)
# Train / dev / test: the dev set picks when to stop, the test set is looked at once at the end.
X_train, X_dev, X_test, y_train, y_dev, y_test = dn.train_dev_test_split(X, y, dev=0.2, test=0.4, seed=0)


def network(keep_prob=None):
    """2-20-3-1 with ReLU; inverted dropout after each hidden activation when keep_prob is given."""
    layers = [dn.Dense(20), dn.ReLU()]
    layers += [dn.Dropout(keep_prob)] if keep_prob else []
    layers += [dn.Dense(3), dn.ReLU()]
    layers += [dn.Dropout(keep_prob)] if keep_prob else []
    return dn.Sequential(layers + [dn.Dense(1)], loss="binary_crossentropy", seed=0)


runs = {
    "none": (network(), {}),
    "L2 (lambd 0.7)": (network(), {"l2": 0.7}),  # adds lambd / (2m) * sum ||W||^2 to the cost
    "dropout (keep_prob 0.86)": (network(keep_prob=0.86), {}),  # on in training only
    "early stopping": (network(), {"validation_data": (X_dev, y_dev), "record_every": 30,
                                   "callbacks": [dn.EarlyStopping(patience=5, restore_best=True)]}),
}
for name, (model, settings) in runs.items():
    history = model.fit(X_train, y_train, epochs=EPOCHS, optimizer=dn.Adam(lr=0.01), **settings)
    train = model.evaluate(X_train, y_train)["accuracy"]
    test = model.evaluate(X_test, y_test)["accuracy"]
    stopped = f"  (stopped at epoch {history.stopped_epoch})" if history.stopped_epoch is not None else ""
    print(f"{name:<26} train {train:.3f}  test {test:.3f}  gap {train - test:+.3f}{stopped}")
    if name == "none":
        dev = model.evaluate(X_dev, y_dev)["accuracy"]
        # Bias or variance? With 1 - accuracy as the error: a big train-dev gap is high variance.
        print(f"{'':<26} diagnosis: {dn.diagnose(1 - train, 1 - dev).verdict}")
