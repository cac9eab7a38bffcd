"""The classic comparisons of the course, written down as recipes (data, not scripts).

The course-exact versions carry the figures the course's assignments print (each ``Variant``'s
``published``), reproduced on the course's random stream; the robust
versions carry the course's conclusions as :class:`~dnnimprove.studies.recipe.Expectation` s.
Epochs are the ones that show the effect, so that ``dnnimprove study all`` stays within minutes.
"""

from __future__ import annotations

from .recipe import CourseVersion, DataSpec, Expectation, Study, Variant

__all__ = ["INITIALIZATION", "REGULARIZATION", "OPTIMIZATION", "MINIBATCH", "BATCH_NORM", "SOFTMAX"]

CIRCLES = DataSpec(
    "circles",
    {"n_samples": 300, "noise": 0.05, "seed": 1},
    test_settings={"n_samples": 100, "noise": 0.05, "seed": 2},
)
MOONS = DataSpec(
    "moons",
    {"n_samples": 300, "noise": 0.2, "seed": 3},
    test_settings={"n_samples": 300, "noise": 0.2, "seed": 4},
)

INITIALIZATION = Study(
    name="initialization",
    title="Initialization: zeros vs large random vs He (and Xavier, Glorot)",
    lesson="Zeros never break symmetry (every unit of a layer stays the same, 50%); weights 10x too large "
    "saturate the sigmoid and train slowly; He's sqrt(2/fan_in) suits ReLU.",
    data=CIRCLES,
    hidden=(10, 5),
    epochs=15000,
    quick_epochs=300,
    base={"optimizer": "gd", "lr": 0.01, "batch_size": None},
    variants=(
        Variant("zeros", {"init": "zeros"}),
        Variant("large_random", {"init": "large_random"}),
        Variant("he", {"init": "he"}),
        Variant("xavier", {"init": "xavier"}),
        Variant("glorot", {"init": "glorot"}),
    ),
    expectations=(
        Expectation("zeros stays at chance (0.50)", "zeros", "<=", 0.5),
        Expectation("He beats large random", "he", ">", "large_random"),
        Expectation("He beats zeros", "he", ">", "zeros"),
    ),
    figures=("cost", "boundary"),
    course=(
        CourseVersion(
            "course",
            15000,
            (
                Variant("zeros", {"init": "zeros"}, {"train_accuracy": 0.50, "test_accuracy": 0.50}),
                Variant("large_random", {"init": "large_random"}, {"train_accuracy": 0.83, "test_accuracy": 0.86}),
                Variant("he", {"init": "he"}, {"train_accuracy": 0.9933, "test_accuracy": 0.96}),
            ),
        ),
    ),
)

REGULARIZATION = Study(
    name="regularization",
    title="Regularization: none vs L2 vs dropout vs early stopping vs L1 on a noisy 2-D set",
    lesson="A 2-20-3-1 network memorizes 120 noisy points; L2 (lambd 0.7), dropout (keep_prob 0.86), "
    "early stopping on a dev set and L1 (lambd 0.4) each trade a little training accuracy for a smaller "
    "train-test gap; L1 leaves most weights near zero (a sparse network), L2 only shrinks them.",
    data=DataSpec("noisy_wave", {"n_samples": 300, "noise": 0.3, "seed": 0}, test=0.4, dev=0.2, split_seed=0),
    hidden=(20, 3),
    epochs=3000,
    quick_epochs=50,
    base={"optimizer": "adam", "lr": 0.01, "batch_size": None},
    variants=(
        Variant("none"),
        Variant("l2", {"l2": 0.7}),
        Variant("dropout", {"keep_prob": 0.86}),
        Variant("early_stopping", {"early_stopping": 5}),
        Variant("l1", {"l1": 0.4}),
    ),
    expectations=(
        Expectation("L2 shrinks the train-test gap", "l2", "<", "none", metric="gap"),
        Expectation("dropout shrinks the train-test gap", "dropout", "<", "none", metric="gap"),
        Expectation("early stopping shrinks the train-test gap", "early_stopping", "<", "none", metric="gap"),
        Expectation("L2 raises test accuracy", "l2", ">", "none", metric="test_accuracy"),
        Expectation("L1 shrinks the train-test gap", "l1", "<", "none", metric="gap"),
        Expectation("L1 leaves more weights near zero than L2", "l1", ">", "l2", metric="near_zero"),
    ),
    figures=("cost", "boundary", "sparsity"),
)

_MINI_BATCH = {"batch_size": 64}
_FIXED = {"schedule": "fixed_interval", "decay_rate": 1.0, "time_interval": 1000}

OPTIMIZATION = Study(
    name="optimization",
    title="Optimization: gradient descent vs momentum vs Adam, with and without learning-rate decay",
    lesson="Adam adapts each parameter's step and converges where plain mini-batch gradient descent crawls; "
    "a larger learning rate decayed on a fixed interval lets even gradient descent catch up.",
    data=MOONS,
    hidden=(5, 2),
    epochs=5000,
    quick_epochs=100,
    base={**_MINI_BATCH, "lr": 0.0007},
    variants=(
        Variant("gd", {"optimizer": "gd"}),
        Variant("momentum", {"optimizer": "momentum", "beta": 0.9}),
        Variant("adam", {"optimizer": "adam", "beta1": 0.9, "beta2": 0.999}),
        Variant("gd_inverse_time", {"optimizer": "gd", "lr": 0.1, "schedule": "inverse_time", "decay_rate": 1.0}),
        Variant("gd_fixed_interval", {"optimizer": "gd", "lr": 0.1, **_FIXED}),
        Variant("momentum_fixed_interval", {"optimizer": "momentum", "beta": 0.9, "lr": 0.1, **_FIXED}),
        Variant("adam_fixed_interval", {"optimizer": "adam", "lr": 0.01, **_FIXED}),
    ),
    expectations=(
        Expectation("Adam beats gradient descent", "adam", ">", "gd"),
        Expectation("fixed-interval decay beats no decay", "gd_fixed_interval", ">", "gd"),
        Expectation("decay every epoch stalls below fixed-interval decay", "gd_inverse_time", "<", "gd_fixed_interval"),
    ),
    figures=("cost", "lr", "boundary"),
    course=(
        CourseVersion(
            "version A (10000 epochs)",
            10000,
            (
                Variant("gd", {"optimizer": "gd"}, {"train_accuracy": 0.7967}),
                Variant("momentum", {"optimizer": "momentum", "beta": 0.9}, {"train_accuracy": 0.7967}),
                Variant("adam", {"optimizer": "adam"}, {"train_accuracy": 0.94}),
            ),
        ),
        CourseVersion(
            "version B (5000 epochs)",
            5000,
            (
                Variant("gd", {"optimizer": "gd"}, {"train_accuracy": 0.7167}),
                Variant("momentum", {"optimizer": "momentum", "beta": 0.9}, {"train_accuracy": 0.7167}),
                Variant("adam", {"optimizer": "adam"}, {"train_accuracy": 0.9433}),
                Variant(
                    "gd_inverse_time",
                    {"optimizer": "gd", "lr": 0.1, "schedule": "inverse_time", "decay_rate": 1.0},
                    {"train_accuracy": 0.6533},
                ),
                Variant("gd_fixed_interval", {"optimizer": "gd", "lr": 0.1, **_FIXED}, {"train_accuracy": 0.9433}),
                Variant(
                    "momentum_fixed_interval",
                    {"optimizer": "momentum", "beta": 0.9, "lr": 0.1, **_FIXED},
                    {"train_accuracy": 0.9533},
                ),
                Variant("adam_fixed_interval", {"optimizer": "adam", "lr": 0.01, **_FIXED}, {"train_accuracy": 0.94}),
            ),
        ),
    ),
)

MINIBATCH = Study(
    name="minibatch",
    title="Mini-batch size: batch vs mini-batch (64) vs stochastic gradient descent",
    lesson="Per epoch, smaller batches take more (noisier) steps and lower the cost faster; per second, "
    "mini-batches keep most of the vectorization that stochastic descent loses.",
    data=MOONS,
    hidden=(5, 2),
    epochs=300,
    quick_epochs=10,
    base={"optimizer": "gd", "lr": 0.05},
    variants=(
        Variant("batch", {"batch_size": None}),
        Variant("mini_batch_64", {"batch_size": 64}),
        Variant("stochastic", {"batch_size": 1}),
    ),
    expectations=(
        Expectation("mini-batch reaches a lower cost than batch in the same epochs", "mini_batch_64", "<", "batch",
                    metric="final_cost"),
        Expectation("stochastic reaches a lower cost than batch in the same epochs", "stochastic", "<", "batch",
                    metric="final_cost"),
    ),
    figures=("iterations", "cost_time"),
    record_iterations=True,
)

DIGITS = DataSpec("digits", {}, test=0.2, split_seed=0, standardize=True)

BATCH_NORM = Study(
    name="batch_norm",
    title="Batch norm: a 5-hidden-layer network on digits at a high learning rate, with and without",
    lesson="Normalizing every hidden layer's pre-activations over the mini-batch keeps a deep network "
    "trainable at a learning rate (momentum, lr 1.0) where the plain network blows up or stalls.",
    data=DIGITS,
    hidden=(32, 32, 32, 32, 32),
    loss="categorical_crossentropy",
    epochs=20,
    quick_epochs=2,
    base={"optimizer": "momentum", "beta": 0.9, "lr": 1.0, "batch_size": 64},
    variants=(
        Variant("plain"),
        Variant("batch_norm", {"batch_norm": True}),
        Variant("plain_lr_0.05", {"lr": 0.05}),
    ),
    expectations=(
        Expectation("batch norm beats the plain network at lr 1.0", "batch_norm", ">", "plain", metric="test_accuracy"),
        Expectation("the plain network needs a smaller learning rate", "plain_lr_0.05", ">", "plain",
                    metric="test_accuracy"),
    ),
    figures=("cost",),
)

SOFTMAX = Study(
    name="softmax",
    title="Softmax: a 3-layer classifier (25-12-10) on 8x8 digits",
    lesson="A softmax output with categorical cross-entropy turns the same network into a 10-class "
    "classifier; the confusion matrix shows which digits it still mixes up.",
    data=DIGITS,
    hidden=(25, 12),
    loss="categorical_crossentropy",
    epochs=60,
    quick_epochs=3,
    base={"optimizer": "adam", "lr": 0.001, "batch_size": 32},
    variants=(Variant("adam_minibatch_32"),),
    expectations=(Expectation("test accuracy reaches 0.95", "adam_minibatch_32", ">=", 0.95, metric="test_accuracy"),),
    figures=("cost", "confusion"),
)
