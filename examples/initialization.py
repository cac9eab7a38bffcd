"""Initialization: zeros never learn, large random weights learn slowly, He initialization works.

The course's first exercise, exactly: a 2-10-5-1 ReLU network on the circles data, full-batch
gradient descent with lr 0.01 for 15 000 epochs, weights drawn from the course's random stream.

    python examples/initialization.py            # about 3 s; prints the course's published figures beside ours
    python examples/initialization.py --quick    # a few epochs, to check the script runs
"""

import sys

import dnnimprove as dn

QUICK = "--quick" in sys.argv[1:]
EPOCHS = 100 if QUICK else 15000
PUBLISHED = {"zeros": (0.50, 0.50), "large_random": (0.83, 0.86), "he": (0.9933, 0.96)}

# Rows are examples: X is (300, 2), y is (300,). Train and test are drawn with different seeds.
X_train, y_train = dn.datasets.circles(n_samples=300, noise=0.05, seed=1)
X_test, y_test = dn.datasets.circles(n_samples=100, noise=0.05, seed=2)

for init in ["zeros", "large_random", "he"]:
    # Every Dense layer uses the same initializer; the sigmoid output is fused with the loss.
    model = dn.Sequential(
        [dn.Dense(10, init=init), dn.ReLU(), dn.Dense(5, init=init), dn.ReLU(), dn.Dense(1, init=init)],
        loss="binary_crossentropy",
        seed=dn.CourseRandom(init_seed=3),  # the course's np.random.seed(3) and draw order
    )
    # batch_size=None is batch gradient descent; the cost is only computed every 1000 epochs.
    model.fit(X_train, y_train, epochs=EPOCHS, optimizer=dn.GradientDescent(lr=0.01), record_every=1000)
    train = model.evaluate(X_train, y_train)["accuracy"]
    test = model.evaluate(X_test, y_test)["accuracy"]
    published = "" if QUICK else "   (published %.4g / %.4g)" % PUBLISHED[init]
    print(f"{init:<13} train {train:.4f}  test {test:.4f}{published}")

# Zeros: every unit of a layer computes the same thing and gets the same update, forever (50%).
# Large random (std 10): the sigmoid saturates, the gradient vanishes, training crawls.
# He (std sqrt(2 / fan_in)): activations keep their scale through ReLU layers.
