"""Softmax: a 3-layer classifier for 10 classes (25-12-10 ReLU, Adam, mini-batches of 32).

The course classifies hand signs; the 8x8 handwritten digits bundled with scikit-learn stand in for
them (1797 images, 10 classes, no download).

    python examples/softmax.py            # about 1 s
    python examples/softmax.py --quick    # a few epochs, to check the script runs
"""

import sys

import numpy as np

import dnnimprove as dn

QUICK = "--quick" in sys.argv[1:]
EPOCHS = 3 if QUICK else 60

X, y = dn.datasets.digits()  # X is (1797, 64) pixel intensities, y is (1797,) labels 0..9
X_train, _, X_test, y_train, _, y_test = dn.train_dev_test_split(X, y, dev=0.0, test=0.2, seed=0)
scaler = dn.Standardizer().fit(X_train)  # learned on the training set only, reused on the test set
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# Ten output units: the softmax is fused with categorical cross-entropy (computed from the logits).
model = dn.Sequential([dn.Dense(25), dn.ReLU(), dn.Dense(12), dn.ReLU(), dn.Dense(10)],
                      loss="categorical_crossentropy", seed=0)
model.fit(X_train, y_train, epochs=EPOCHS, batch_size=32, optimizer=dn.Adam(lr=0.001))
print(f"train accuracy {model.evaluate(X_train, y_train)['accuracy']:.4f}")
print(f"test accuracy  {model.evaluate(X_test, y_test)['accuracy']:.4f}")

# The confusion matrix: row = true digit, column = predicted digit; off the diagonal are mistakes.
predicted = model.predict(X_test)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
print("confusion matrix (rows: true 0..9, columns: predicted 0..9)")
print(confusion)
