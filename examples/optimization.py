"""Optimization: mini-batch gradient descent vs momentum vs Adam, then learning-rate decay.

The course's exercise, exactly: moons (300 points), a 2-5-2-1 ReLU network, mini-batches of 64
reshuffled every epoch, He initialization, all drawn from the course's random stream.

    python examples/optimization.py            # about 15 s; prints the published figures beside ours
    python examples/optimization.py --quick    # a few epochs, to check the script runs
"""

import sys

import dnnimprove as dn

QUICK = "--quick" in sys.argv[1:]
EPOCHS = 50 if QUICK else 5000  # the course's version B

X, y = dn.datasets.moons(n_samples=300, noise=0.2, seed=3)


def train(optimizer, schedule=None):
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)],
                          loss="binary_crossentropy",
                          seed=dn.CourseRandom(init_seed=3, shuffle_seed=10))  # np.random.seed(10 + epoch + 1)
    model.fit(X, y, epochs=EPOCHS, batch_size=64, optimizer=optimizer, schedule=schedule, record_every=EPOCHS)
    return model.evaluate(X, y)["accuracy"]


def course_decay(lr0):
    # The course decays *after* epoch i, from its index: epochs 0 and 1 both run at lr0.
    # Shifted makes the textbook lr0 / (1 + floor(epoch / 1000)) one epoch late, as the course does.
    return dn.Shifted(dn.FixedIntervalDecay(lr0, decay_rate=1.0, time_interval=1000))


runs = [
    ("gradient descent, lr 0.0007", lambda: train(dn.GradientDescent(lr=0.0007)), 0.7167),
    ("momentum (beta 0.9)", lambda: train(dn.Momentum(lr=0.0007, beta=0.9)), 0.7167),
    ("Adam", lambda: train(dn.Adam(lr=0.0007)), 0.9433),
    ("gradient descent + fixed-interval decay, lr0 0.1",
     lambda: train(dn.GradientDescent(lr=0.1), course_decay(0.1)), 0.9433),
    ("Adam + fixed-interval decay, lr0 0.01", lambda: train(dn.Adam(lr=0.01), course_decay(0.01)), 0.94),
]
for name, run, published in runs:
    accuracy = run()
    print(f"{name:<50} train {accuracy:.4f}" + ("" if QUICK else f"   (published {published})"))

# Adam divides each step by a running root-mean-square of the gradient, so it moves fast along flat
# directions; a larger learning rate decayed on a fixed interval lets even gradient descent catch up.
