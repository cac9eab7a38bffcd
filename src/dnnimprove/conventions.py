"""One configuration in our (the course's) terms, and in PyTorch's, Keras's and scikit-learn's.

The same idea carries different numbers in each library. ``translate`` expresses one of our settings in
another library's terms, ``translate_back`` does the reverse; both return a :class:`Translation` with the
values, a one-line snippet to paste, ``exact`` and, for an approximate translation, a ``caveat`` that
says how far it deviates::

    >>> from dnnimprove import conventions
    >>> print(conventions.translate("momentum", "pytorch", lr=0.01, beta=0.9))
    momentum: ours -> pytorch (exact)
      lr=0.001  momentum=0.9  nesterov=False
      torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, nesterov=False)
      note: PyTorch's buffer buf = beta buf + g has no (1 - beta): it is our v / (1 - beta), so its lr ...

=================  ==========================================  ==========================================
setting            ours                                        the clash
=================  ==========================================  ==========================================
``momentum``       ``v = beta v + (1-beta) g``; ``W -= lr v``  PyTorch/Keras/sklearn: no ``(1-beta)``
``rmsprop``        ``lr g / (sqrt(s) + epsilon)``              Keras: epsilon inside the square root
``adam``           epsilon added after the bias correction     Keras/sklearn: "epsilon hat", before it
``adamw``          decay on the weights only                   PyTorch/Keras decay biases too by default
``l2``             ``lambd/(2m) sum W**2``                     ``weight_decay = lambd/m``; Keras ``lambd/(2m)``
``dropout``        ``keep_prob``                               drop probability ``1 - keep_prob``
``batch_norm``     ``momentum`` weights the old value          PyTorch: weights the new one (0.1)
``inverse_time``   per epoch                                   Keras per step, sklearn per sample
``fixed_interval`` ``floor(epoch / time_interval)``            Keras: staircase over steps
``weight_layout``  ``(fan_in, fan_out)``                       PyTorch (and the course): ``(fan_out, fan_in)``
=================  ==========================================  ==========================================

Floating-point values are chosen among the doubles within a few units in the last place (ulps) of the
computed one: the shortest decimal that translates back to the original exactly, so round trips of the
values people type are exact (``0.01 * (1 - 0.9)`` is shown as 0.001, not 0.0009999999999999998, and reads
back as 0.01). A few ulps are far below any effect on a trajectory (the tests compare to 1e-10). Where no
double within reach translates back exactly, the round trip is within a few ulps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ._validation import Boolean, Integer, Real, check_choice

__all__ = ["Translation", "LIBRARIES", "SETTINGS", "translate", "translate_back", "convert", "parameters"]

LIBRARIES = ("ours", "pytorch", "keras", "sklearn")
_NAMES = {"ours": "ours", "pytorch": "PyTorch", "keras": "Keras", "sklearn": "scikit-learn"}
_REQUIRED = object()
_NUDGE_ULPS = 8
_SNAP_ULPS = 4


@dataclass(frozen=True)
class Translation:
    """A setting expressed in one library's terms.

    Attributes
    ----------
    setting : str
        E.g. ``"momentum"``.
    source, library : str
        The convention translated from, and the one ``values`` and ``snippet`` are in.
    values : dict
        The library's parameter names and values.
    snippet : str
        One line to paste (``model``, ``optimizer``, ``weights``/``biases``, ``units`` are placeholders).
    exact : bool
        Whether the library then computes what the source convention computes (to float64 rounding).
    caveat : str
        Empty when exact; otherwise how far the translation deviates, in numbers.
    note : str
        Anything else a user must do or know for the translation to hold.
    """

    setting: str
    source: str
    library: str
    values: dict[str, Any]
    snippet: str
    exact: bool
    caveat: str = ""
    note: str = ""

    def __str__(self) -> str:
        lines = [
            f"{self.setting}: {self.source} -> {self.library} ({'exact' if self.exact else 'approximate'})",
            "  " + "  ".join(f"{key}={value!r}" for key, value in self.values.items()),
            "  " + self.snippet,
        ]
        if self.caveat:
            lines.append("  caveat: " + self.caveat)
        if self.note:
            lines.append("  note: " + self.note)
        return "\n".join(lines)


# -- parameters and their legal ranges ---------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One named value of a convention, with its default and its check (``check(name, value) -> value``)."""

    name: str
    check: Callable[[str, Any], Any]
    default: Any = _REQUIRED


# A Param's check is a constraint's ``check(name, value)`` (:mod:`dnnimprove._validation`): one error format.
_positive = Real(low=0.0, low_open=True).check
_non_negative = Real(low=0.0).check
_unit = Real(low=0.0, high=1.0, high_open=True).check
_unit_open_low = Real(low=0.0, high=1.0, low_open=True).check
_count = Integer(low=1).check
_optional_count = Integer(low=1, none_ok=True).check
_bool = Boolean().check


# -- one setting in one library ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    """How one of our settings reads in one library.

    ``to_values(ours) -> theirs`` and ``from_values(theirs) -> ours`` (both dicts of named values);
    ``snippet(theirs) -> str``; ``assess(ours, theirs) -> (exact, caveat, note)``.
    """

    params: tuple[Param, ...]
    to_values: Callable[[dict], dict]
    from_values: Callable[[dict], dict]
    snippet: Callable[[dict], str]
    assess: Callable[[dict, dict], tuple[bool, str, str]]


@dataclass(frozen=True)
class Setting:
    name: str
    ours: tuple[Param, ...]
    ours_snippet: Callable[[dict], str]
    libraries: dict[str, Mapping] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)


def _renamed(names: dict[str, str]) -> dict[str, Callable[[dict], dict]]:
    """``to_values`` and ``from_values`` of a mapping that only renames: ``names`` is {our name: their name}."""
    return {
        "to_values": lambda ours: {their: ours[our] for our, their in names.items()},
        "from_values": lambda theirs: {our: theirs[their] for our, their in names.items()},
    }


def _exact(note: str = "") -> Callable[[dict, dict], tuple[bool, str, str]]:
    return lambda ours, theirs: (True, "", note)


def _g(value: float) -> str:
    """A number as Python would print it (repr), for snippets."""
    return repr(float(value))


# momentum --------------------------------------------------------------------------------------------

_VELOCITY_NOTE = (
    "velocity = momentum velocity - lr g is -lr v / (1 - beta) for a constant lr, so its learning rate carries "
    "the (1 - beta); under a schedule the past rates stay inside the velocity and it is no longer ours"
)


def _momentum_pytorch_from(theirs: dict) -> dict:
    momentum, dampening = theirs["momentum"], theirs.get("dampening", 0.0)
    if dampening == 0:
        return {"lr": theirs["lr"] / (1 - momentum), "beta": momentum, "nesterov": theirs["nesterov"]}
    if theirs["nesterov"]:
        raise ValueError(f"nesterov needs dampening=0 (as in PyTorch); got dampening={dampening!r}")
    if dampening == momentum:
        return {"lr": theirs["lr"], "beta": momentum, "nesterov": False}
    raise ValueError(
        f"dampening must be 0 or equal to momentum ({momentum!r}) to have a course equivalent; got {dampening!r}"
    )


def _momentum_pytorch_assess(ours: dict, theirs: dict) -> tuple[bool, str, str]:
    if theirs.get("dampening", 0) and ours["beta"]:
        beta = ours["beta"]
        return (
            False,
            f"PyTorch's first step sets buf = g, not (1 - beta) g: its first step is 1/(1 - beta) = "
            f"{1 / (1 - beta):.6g} times ours and step t carries lr * beta**t * g_1 more "
            f"(lr * g_1 * {beta / (1 - beta):.6g} in all); pre-set optimizer.state[p]['momentum_buffer'] = "
            "torch.zeros_like(p) before the first step to make it exact",
            "",
        )
    return True, "", (
        "PyTorch's buffer buf = beta buf + g has no (1 - beta): it is our v / (1 - beta), so its lr carries the "
        "(1 - beta) (scale a schedule's rate by it too)"
    )


def _velocity_momentum(lr: str, lr_default: float, momentum_default: float, nesterov: str,
                       nesterov_default: bool) -> dict[str, Any]:
    """Keras's and scikit-learn's ``velocity = momentum velocity - lr g``: their lr is ours times (1 - beta)."""
    return {
        "params": (Param(lr, _positive, lr_default), Param("momentum", _unit, momentum_default),
                   Param(nesterov, _bool, nesterov_default)),
        "to_values": lambda o: {lr: o["lr"] * (1 - o["beta"]), "momentum": o["beta"], nesterov: o["nesterov"]},
        "from_values": lambda t: {"lr": t[lr] / (1 - t["momentum"]), "beta": t["momentum"], "nesterov": t[nesterov]},
    }


MOMENTUM = Setting(
    "momentum",
    ours=(Param("lr", _positive, 0.01), Param("beta", _unit, 0.9), Param("nesterov", _bool, False)),
    ours_snippet=lambda v: f"dn.Momentum(lr={_g(v['lr'])}, beta={_g(v['beta'])}, nesterov={v['nesterov']})",
    libraries={
        "pytorch": Mapping(
            params=(Param("lr", _positive), Param("momentum", _unit, 0.0), Param("dampening", _unit, 0.0),
                    Param("nesterov", _bool, False)),
            to_values=lambda o: {"lr": o["lr"] * (1 - o["beta"]), "momentum": o["beta"], "nesterov": o["nesterov"]},
            from_values=_momentum_pytorch_from,
            snippet=lambda t: f"torch.optim.SGD(model.parameters(), lr={_g(t['lr'])}, momentum={_g(t['momentum'])}, "
            + (f"dampening={_g(t['dampening'])}, " if t.get("dampening") else "")
            + f"nesterov={t['nesterov']})",
            assess=_momentum_pytorch_assess,
        ),
        "keras": Mapping(
            **_velocity_momentum("learning_rate", 0.01, 0.0, "nesterov", False),
            snippet=lambda t: f"keras.optimizers.SGD(learning_rate={_g(t['learning_rate'])}, "
            f"momentum={_g(t['momentum'])}, nesterov={t['nesterov']})",
            assess=_exact("Keras's " + _VELOCITY_NOTE),
        ),
        "sklearn": Mapping(
            **_velocity_momentum("learning_rate_init", 0.001, 0.9, "nesterovs_momentum", True),
            snippet=lambda t: f"MLPClassifier(solver='sgd', learning_rate='constant', "
            f"learning_rate_init={_g(t['learning_rate_init'])}, momentum={_g(t['momentum'])}, "
            f"nesterovs_momentum={t['nesterovs_momentum']}, alpha=0.0)",
            assess=_exact("scikit-learn's " + _VELOCITY_NOTE + "; its defaults nesterovs_momentum=True and alpha=0.0001 (L2) differ from ours"),
        ),
    },
)

# RMSprop ---------------------------------------------------------------------------------------------

RMSPROP = Setting(
    "rmsprop",
    ours=(Param("lr", _positive, 0.001), Param("beta", _unit, 0.999), Param("epsilon", _positive, 1e-8)),
    ours_snippet=lambda v: f"dn.RMSProp(lr={_g(v['lr'])}, beta={_g(v['beta'])}, epsilon={_g(v['epsilon'])})",
    libraries={
        "pytorch": Mapping(
            params=(Param("lr", _positive, 0.01), Param("alpha", _unit, 0.99), Param("eps", _positive, 1e-8)),
            **_renamed({"lr": "lr", "beta": "alpha", "epsilon": "eps"}),
            snippet=lambda t: f"torch.optim.RMSprop(model.parameters(), lr={_g(t['lr'])}, alpha={_g(t['alpha'])}, "
            f"eps={_g(t['eps'])})",
            assess=_exact("PyTorch's alpha is our beta (its default is 0.99, ours 0.999)"),
        ),
        "keras": Mapping(
            params=(Param("learning_rate", _positive, 0.001), Param("rho", _unit, 0.9),
                    Param("epsilon", _positive, 1e-7)),
            to_values=lambda o: {"learning_rate": o["lr"], "rho": o["beta"], "epsilon": o["epsilon"] ** 2},
            from_values=lambda t: {"lr": t["learning_rate"], "beta": t["rho"], "epsilon": math.sqrt(t["epsilon"])},
            snippet=lambda t: f"keras.optimizers.RMSprop(learning_rate={_g(t['learning_rate'])}, rho={_g(t['rho'])}, "
            f"epsilon={_g(t['epsilon'])})",
            assess=lambda o, t: (
                False,
                "Keras adds epsilon inside the square root, lr g / sqrt(s + epsilon_k); with epsilon_k = epsilon**2 "
                "its step is (sqrt(s) + epsilon) / sqrt(s + epsilon**2) times ours: 1 where s = 0, at most "
                "sqrt(2) = 1.414 (at s = epsilon**2), and within 1 + epsilon / sqrt(s) where s >> epsilon**2",
                "",
            ),
        ),
    },
    unsupported={"sklearn": "scikit-learn's MLP solvers are 'sgd' (with momentum), 'adam' and 'lbfgs'"},
)

# Adam, AdamW -----------------------------------------------------------------------------------------


def _epsilon_hat_caveat(ours: dict, library: str) -> str:
    factor = 1 / math.sqrt(1 - ours["beta2"])
    return (
        f"{library}'s epsilon is 'epsilon hat', added to sqrt(s) before the bias correction: its step equals ours "
        f"with epsilon / sqrt(1 - beta2**t) in place of epsilon, {factor:.4g} times ours at t = 1 and tending to "
        "ours as t grows; the steps differ only while sqrt(s_hat) is not much larger than that"
    )


_ADAM_OURS = (Param("lr", _positive, 0.001), Param("beta1", _unit, 0.9), Param("beta2", _unit, 0.999),
              Param("epsilon", _positive, 1e-8))


def _adam_names(lr: str, beta1: str, beta2: str, epsilon: str, epsilon_default: float) -> dict[str, Any]:
    """A library's Adam parameters (its names, our defaults except epsilon) and the renaming to ours."""
    params = (Param(lr, _positive, 0.001), Param(beta1, _unit, 0.9), Param(beta2, _unit, 0.999),
              Param(epsilon, _positive, epsilon_default))
    return {"params": params, **_renamed({"lr": lr, "beta1": beta1, "beta2": beta2, "epsilon": epsilon})}


def _adam_ours_snippet(v: dict) -> str:
    return f"dn.Adam(lr={_g(v['lr'])}, beta1={_g(v['beta1'])}, beta2={_g(v['beta2'])}, epsilon={_g(v['epsilon'])})"


_TORCH_ADAM = _adam_names("lr", "beta1", "beta2", "eps", 1e-8)
_KERAS_ADAM = _adam_names("learning_rate", "beta_1", "beta_2", "epsilon", 1e-7)
_SKLEARN_ADAM = _adam_names("learning_rate_init", "beta_1", "beta_2", "epsilon", 1e-8)

ADAM = Setting(
    "adam",
    ours=_ADAM_OURS,
    ours_snippet=_adam_ours_snippet,
    libraries={
        "pytorch": Mapping(
            **_TORCH_ADAM,
            snippet=lambda t: f"torch.optim.Adam(model.parameters(), lr={_g(t['lr'])}, "
            f"betas=({_g(t['beta1'])}, {_g(t['beta2'])}), eps={_g(t['eps'])})",
            assess=_exact(),
        ),
        "keras": Mapping(
            **_KERAS_ADAM,
            snippet=lambda t: f"keras.optimizers.Adam(learning_rate={_g(t['learning_rate'])}, "
            f"beta_1={_g(t['beta_1'])}, beta_2={_g(t['beta_2'])}, epsilon={_g(t['epsilon'])})",
            assess=lambda o, t: (False, _epsilon_hat_caveat(o, "Keras"), "Keras's default epsilon is 1e-7, ours 1e-8"),
        ),
        "sklearn": Mapping(
            **_SKLEARN_ADAM,
            snippet=lambda t: f"MLPClassifier(solver='adam', learning_rate_init={_g(t['learning_rate_init'])}, "
            f"beta_1={_g(t['beta_1'])}, beta_2={_g(t['beta_2'])}, epsilon={_g(t['epsilon'])}, alpha=0.0)",
            assess=lambda o, t: (False, _epsilon_hat_caveat(o, "scikit-learn"),
                                 "scikit-learn's default alpha=0.0001 adds L2; set alpha=0.0 for none"),
        ),
    },
)


def _with_decay(adam: dict[str, Any], default: float) -> dict[str, Any]:
    """An Adam mapping's parameters and renaming, plus weight_decay and decay_biases (same names as ours)."""
    extra = (Param("weight_decay", _non_negative, default), Param("decay_biases", _bool, True))
    to_values, from_values = adam["to_values"], adam["from_values"]
    keep = lambda values: {"weight_decay": values["weight_decay"], "decay_biases": values["decay_biases"]}  # noqa: E731
    return {
        "params": adam["params"] + extra,
        "to_values": lambda ours: {**to_values(ours), **keep(ours)},
        "from_values": lambda theirs: {**from_values(theirs), **keep(theirs)},
    }


def _adamw_torch_snippet(t: dict) -> str:
    decay = _g(t["weight_decay"])
    groups = (
        "model.parameters()"
        if t["decay_biases"]
        else f'[{{"params": weights, "weight_decay": {decay}}}, {{"params": biases, "weight_decay": 0.0}}]'
    )
    return (
        f"torch.optim.AdamW({groups}, lr={_g(t['lr'])}, betas=({_g(t['beta1'])}, {_g(t['beta2'])}), "
        f"eps={_g(t['eps'])}" + (f", weight_decay={decay})" if t["decay_biases"] else ")")
    )


def _adamw_keras_snippet(t: dict) -> str:
    line = (
        f"keras.optimizers.AdamW(learning_rate={_g(t['learning_rate'])}, weight_decay={_g(t['weight_decay'])}, "
        f"beta_1={_g(t['beta_1'])}, beta_2={_g(t['beta_2'])}, epsilon={_g(t['epsilon'])})"
    )
    return line if t["decay_biases"] else line + '.exclude_from_weight_decay(var_names=["bias"])'


_ADAMW_NOTE = "ours decays the weights only (decay_biases=False, the model's weight mask); the snippet excludes the biases"

ADAMW = Setting(
    "adamw",
    ours=_ADAM_OURS + (Param("weight_decay", _non_negative, 0.01), Param("decay_biases", _bool, False)),
    ours_snippet=lambda v: _adam_ours_snippet(v).replace("dn.Adam(", "dn.AdamW(")[:-1]
    + f", weight_decay={_g(v['weight_decay'])})"
    + ("  # opt.init(params) without the weight mask decays every parameter" if v["decay_biases"] else ""),
    libraries={
        "pytorch": Mapping(
            **_with_decay(_TORCH_ADAM, 0.01),
            snippet=_adamw_torch_snippet,
            assess=lambda o, t: (True, "", "" if o["decay_biases"] else "PyTorch decays every parameter; " + _ADAMW_NOTE),
        ),
        "keras": Mapping(
            **_with_decay(_KERAS_ADAM, 0.004),
            snippet=_adamw_keras_snippet,
            assess=lambda o, t: (False, _epsilon_hat_caveat(o, "Keras") + "; the decay itself is the same",
                                 "" if o["decay_biases"] else "Keras decays every variable; " + _ADAMW_NOTE),
        ),
    },
    unsupported={"sklearn": "scikit-learn's MLP has no decoupled weight decay (its alpha is L2: see 'l2')"},
)

# L2 ----------------------------------------------------------------------------------------------------


def _l2_assess(library: str, per_batch_scaled: bool) -> Callable[[dict, dict], tuple[bool, str, str]]:
    def assess(ours: dict, theirs: dict) -> tuple[bool, str, str]:
        m, n = ours["batch_size"], ours["n_samples"]
        note = {
            "pytorch": "put the biases in a parameter group with weight_decay=0 (PyTorch decays every parameter); "
            "this is L2 through the gradient for SGD, momentum, RMSprop and Adam, not AdamW's decoupled decay",
            "keras": "on every Dense layer's kernel only (not the bias)",
            "sklearn": "scikit-learn divides by the examples in each mini-batch, as we do, and leaves the biases out",
        }[library]
        if per_batch_scaled or n is None or n % m == 0:
            return True, "", note + ("" if n is not None or per_batch_scaled else
                                     f"; exact when every mini-batch has batch_size={m} examples")
        last = n % m
        return (
            False,
            f"the last mini-batch has {last} examples, where ours adds (lambd / {last}) W and {_NAMES[library]}'s fixed "
            f"value gives (lambd / {m}) W: {last}/{m} = {last / m:.4g} of ours on that step (every other step is exact)",
            note,
        )

    return assess


_L2_CONTEXT = (Param("batch_size", _count), Param("n_samples", _optional_count, None))

L2 = Setting(
    "l2",
    ours=(Param("lambd", _non_negative),) + _L2_CONTEXT,
    ours_snippet=lambda v: f"model.fit(X, y, l2={_g(v['lambd'])}, batch_size={v['batch_size']})",
    libraries={
        "pytorch": Mapping(
            params=(Param("weight_decay", _non_negative),) + _L2_CONTEXT,
            to_values=lambda o: {"weight_decay": o["lambd"] / o["batch_size"], "batch_size": o["batch_size"],
                                 "n_samples": o["n_samples"]},
            from_values=lambda t: {"lambd": t["weight_decay"] * t["batch_size"], "batch_size": t["batch_size"],
                                   "n_samples": t["n_samples"]},
            snippet=lambda t: f'torch.optim.SGD([{{"params": weights, "weight_decay": {_g(t["weight_decay"])}}}, '
            '{"params": biases, "weight_decay": 0.0}], lr=lr)',
            assess=_l2_assess("pytorch", False),
        ),
        "keras": Mapping(
            params=(Param("l2", _non_negative),) + _L2_CONTEXT,
            to_values=lambda o: {"l2": o["lambd"] / (2 * o["batch_size"]), "batch_size": o["batch_size"],
                                 "n_samples": o["n_samples"]},
            from_values=lambda t: {"lambd": t["l2"] * (2 * t["batch_size"]), "batch_size": t["batch_size"],
                                   "n_samples": t["n_samples"]},
            snippet=lambda t: f"keras.layers.Dense(units, kernel_regularizer=keras.regularizers.L2({_g(t['l2'])}))",
            assess=_l2_assess("keras", False),
        ),
        "sklearn": Mapping(
            params=(Param("alpha", _non_negative, 0.0001),) + _L2_CONTEXT,
            to_values=lambda o: {"alpha": o["lambd"], "batch_size": o["batch_size"], "n_samples": o["n_samples"]},
            from_values=lambda t: {"lambd": t["alpha"], "batch_size": t["batch_size"], "n_samples": t["n_samples"]},
            snippet=lambda t: f"MLPClassifier(alpha={_g(t['alpha'])}, batch_size={t['batch_size']})",
            assess=_l2_assess("sklearn", True),
        ),
    },
)

# dropout -----------------------------------------------------------------------------------------------

_DROPOUT_NOTE = "their masks come from their own random generator, so the dropped units differ; the scaling is the same"

DROPOUT = Setting(
    "dropout",
    ours=(Param("keep_prob", _unit_open_low, 0.5),),
    ours_snippet=lambda v: f"dn.Dropout(keep_prob={_g(v['keep_prob'])})",
    libraries={
        "pytorch": Mapping(
            params=(Param("p", _unit, 0.5),),
            to_values=lambda o: {"p": 1 - o["keep_prob"]},
            from_values=lambda t: {"keep_prob": 1 - t["p"]},
            snippet=lambda t: f"torch.nn.Dropout(p={_g(t['p'])})",
            assess=_exact("p is the drop probability 1 - keep_prob; kept units are divided by 1 - p as ours by "
                          "keep_prob; " + _DROPOUT_NOTE),
        ),
        "keras": Mapping(
            params=(Param("rate", _unit),),
            to_values=lambda o: {"rate": 1 - o["keep_prob"]},
            from_values=lambda t: {"keep_prob": 1 - t["rate"]},
            snippet=lambda t: f"keras.layers.Dropout(rate={_g(t['rate'])})",
            assess=_exact("rate is the drop probability 1 - keep_prob; " + _DROPOUT_NOTE),
        ),
    },
    unsupported={"sklearn": "scikit-learn's MLP has no dropout"},
)

# batch norm --------------------------------------------------------------------------------------------

BATCH_NORM = Setting(
    "batch_norm",
    ours=(Param("momentum", _unit, 0.9), Param("epsilon", _positive, 1e-5)),
    ours_snippet=lambda v: f"dn.BatchNorm(momentum={_g(v['momentum'])}, epsilon={_g(v['epsilon'])})",
    libraries={
        "pytorch": Mapping(
            params=(Param("momentum", _unit_open_low, 0.1), Param("eps", _positive, 1e-5)),
            to_values=lambda o: {"momentum": 1 - o["momentum"], "eps": o["epsilon"]},
            from_values=lambda t: {"momentum": 1 - t["momentum"], "epsilon": t["eps"]},
            snippet=lambda t: f"torch.nn.BatchNorm1d(num_features, momentum={_g(t['momentum'])}, eps={_g(t['eps'])})",
            assess=_exact("PyTorch's momentum weights the new batch statistic: 1 - ours; both average the "
                          "unbiased batch variance"),
        ),
        "keras": Mapping(
            params=(Param("momentum", _unit, 0.99), Param("epsilon", _positive, 1e-3)),
            **_renamed({"momentum": "momentum", "epsilon": "epsilon"}),
            snippet=lambda t: f"keras.layers.BatchNormalization(momentum={_g(t['momentum'])}, "
            f"epsilon={_g(t['epsilon'])})",
            assess=lambda o, t: (
                False,
                "Keras averages the biased batch variance (divided by m), ours the unbiased one (m - 1): after t "
                "updates from the initial 1 its moving variance is momentum**t + (m - 1)/m * (ours - momentum**t), "
                "(m - 1)/m of ours in the long run (0.984 for m = 64); the moving mean and the training-mode "
                "normalization are the same",
                "Keras's momentum has our meaning (default 0.99); its epsilon default is 1e-3, ours 1e-5",
            ),
        ),
    },
    unsupported={"sklearn": "scikit-learn's MLP has no batch normalization"},
)

# learning-rate decay -----------------------------------------------------------------------------------


def _needs_steps(ours: dict) -> int:
    steps = ours.get("steps_per_epoch")
    if steps is None:
        raise ValueError(
            "Keras counts optimizer steps: give steps_per_epoch (ceil(n_samples / batch_size)) to translate a "
            "per-epoch schedule"
        )
    return steps


def _inverse_time_keras_to(o: dict) -> dict:
    if o["per_step"]:
        return {"initial_learning_rate": o["lr0"], "decay_steps": 1, "decay_rate": o["decay_rate"],
                "staircase": False, "steps_per_epoch": o["steps_per_epoch"]}
    return {"initial_learning_rate": o["lr0"], "decay_steps": _needs_steps(o), "decay_rate": o["decay_rate"],
            "staircase": True, "steps_per_epoch": o["steps_per_epoch"]}


def _inverse_time_keras_from(t: dict) -> dict:
    if t["staircase"]:
        if t["decay_steps"] != t["steps_per_epoch"]:
            raise ValueError(
                f"a staircase InverseTimeDecay with decay_steps={t['decay_steps']} is our per-epoch form only when "
                f"decay_steps equals steps_per_epoch ({t['steps_per_epoch']}); use the setting 'fixed_interval'"
            )
        return {"lr0": t["initial_learning_rate"], "decay_rate": t["decay_rate"], "per_step": False,
                "steps_per_epoch": t["steps_per_epoch"]}
    return {"lr0": t["initial_learning_rate"], "decay_rate": t["decay_rate"] / t["decay_steps"], "per_step": True,
            "steps_per_epoch": t["steps_per_epoch"]}


def _keras_schedule_snippet(t: dict) -> str:
    return (
        f"keras.optimizers.schedules.InverseTimeDecay(initial_learning_rate={_g(t['initial_learning_rate'])}, "
        f"decay_steps={t['decay_steps']}, decay_rate={_g(t['decay_rate'])}, staircase={t['staircase']})"
    )


def _lambda_snippet(lr: float, factor: str, per_step: bool) -> str:
    return (
        f"torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: {factor})  # optimizer built with "
        f"lr={_g(lr)}; scheduler.step() after every {'optimizer step' if per_step else 'epoch'}"
    )


def _invscaling_power(o: dict) -> float:
    """``power_t`` whose ``lr0 / (1 + n)**power_t`` equals our ``lr0 / (1 + decay_rate)`` at epoch 1."""
    if o["decay_rate"] == o["n_samples"]:
        return 1.0
    return math.log1p(o["decay_rate"]) / math.log1p(o["n_samples"])


def _invscaling_to(o: dict) -> dict:
    if o["per_step"]:
        raise ValueError("scikit-learn's invscaling changes the rate once per epoch; per_step=True has no equivalent")
    if o["n_samples"] is None:
        raise ValueError("scikit-learn's invscaling counts samples seen: give n_samples to translate")
    return {"learning_rate_init": o["lr0"], "power_t": _invscaling_power(o), "n_samples": o["n_samples"]}


def _invscaling_assess(o: dict, t: dict) -> tuple[bool, str, str]:
    note = "scikit-learn applies it with solver='sgd' only, updated after every epoch"
    if o["decay_rate"] == o["n_samples"]:
        return True, "", note + "; it counts samples seen, so our decay_rate must equal n_samples"
    k, n, power = o["decay_rate"], o["n_samples"], _invscaling_power(o)
    ratio = lambda epoch: (1 + k * epoch) / (1 + n * epoch) ** power  # noqa: E731
    return (
        False,
        f"scikit-learn's invscaling is lr0 / (1 + n_samples * epoch)**power_t (it counts samples); with "
        f"power_t = log(1 + decay_rate) / log(1 + n_samples) = {power:.6g} it equals ours at epochs 0 and 1, and "
        f"is {ratio(10):.6g} times ours at epoch 10 and {ratio(100):.6g} times at epoch 100",
        note,
    )


INVERSE_TIME = Setting(
    "inverse_time",
    ours=(Param("lr0", _positive), Param("decay_rate", _non_negative, 1.0), Param("per_step", _bool, False),
          Param("steps_per_epoch", _optional_count, None), Param("n_samples", _optional_count, None)),
    ours_snippet=lambda v: f"dn.InverseTimeDecay(lr0={_g(v['lr0'])}, decay_rate={_g(v['decay_rate'])}, "
    f"per_step={v['per_step']})",
    libraries={
        "pytorch": Mapping(
            params=(Param("lr", _positive), Param("decay_rate", _non_negative, 1.0), Param("per_step", _bool, False)),
            to_values=lambda o: {"lr": o["lr0"], "decay_rate": o["decay_rate"], "per_step": o["per_step"]},
            from_values=lambda t: {"lr0": t["lr"], "decay_rate": t["decay_rate"], "per_step": t["per_step"],
                                   "steps_per_epoch": None, "n_samples": None},
            snippet=lambda t: _lambda_snippet(t["lr"], f"1 / (1 + {_g(t['decay_rate'])} * epoch)", t["per_step"]),
            assess=_exact("PyTorch has no inverse-time scheduler: LambdaLR multiplies lr by the factor "
                          "(equal to ours up to one rounding)"),
        ),
        "keras": Mapping(
            params=(Param("initial_learning_rate", _positive), Param("decay_steps", _count),
                    Param("decay_rate", _non_negative), Param("staircase", _bool, False),
                    Param("steps_per_epoch", _optional_count, None)),
            to_values=_inverse_time_keras_to,
            from_values=_inverse_time_keras_from,
            snippet=_keras_schedule_snippet,
            assess=_exact("Keras evaluates it at the optimizer step (counted from 0); staircase=True with "
                          "decay_steps = steps_per_epoch is our per-epoch form"),
        ),
        "sklearn": Mapping(
            params=(Param("learning_rate_init", _positive), Param("power_t", _non_negative, 0.5),
                    Param("n_samples", _count)),
            to_values=_invscaling_to,
            from_values=lambda t: {"lr0": t["learning_rate_init"], "decay_rate": math.expm1(
                t["power_t"] * math.log1p(t["n_samples"])) if t["power_t"] != 1 else float(t["n_samples"]),
                "per_step": False, "steps_per_epoch": None, "n_samples": t["n_samples"]},
            snippet=lambda t: f"MLPClassifier(solver='sgd', learning_rate='invscaling', "
            f"learning_rate_init={_g(t['learning_rate_init'])}, power_t={_g(t['power_t'])})",
            assess=_invscaling_assess,
        ),
    },
)


FIXED_INTERVAL = Setting(
    "fixed_interval",
    ours=(Param("lr0", _positive), Param("decay_rate", _non_negative, 1.0), Param("time_interval", _count, 1000),
          Param("steps_per_epoch", _optional_count, None)),
    ours_snippet=lambda v: f"dn.FixedIntervalDecay(lr0={_g(v['lr0'])}, decay_rate={_g(v['decay_rate'])}, "
    f"time_interval={v['time_interval']})",
    libraries={
        "pytorch": Mapping(
            params=(Param("lr", _positive), Param("decay_rate", _non_negative, 1.0), Param("time_interval", _count)),
            to_values=lambda o: {"lr": o["lr0"], "decay_rate": o["decay_rate"], "time_interval": o["time_interval"]},
            from_values=lambda t: {"lr0": t["lr"], "decay_rate": t["decay_rate"], "time_interval": t["time_interval"],
                                   "steps_per_epoch": None},
            snippet=lambda t: _lambda_snippet(
                t["lr"], f"1 / (1 + {_g(t['decay_rate'])} * (epoch // {t['time_interval']}))", False),
            assess=_exact("PyTorch has no such scheduler: LambdaLR multiplies lr by the factor "
                          "(equal to ours up to one rounding)"),
        ),
        "keras": Mapping(
            params=(Param("initial_learning_rate", _positive), Param("decay_steps", _count),
                    Param("decay_rate", _non_negative), Param("staircase", _bool, True),
                    Param("steps_per_epoch", _count)),
            to_values=lambda o: {"initial_learning_rate": o["lr0"], "decay_steps": o["time_interval"] * _needs_steps(o),
                                 "decay_rate": o["decay_rate"], "staircase": True,
                                 "steps_per_epoch": o["steps_per_epoch"]},
            from_values=lambda t: _fixed_interval_keras_from(t),
            snippet=_keras_schedule_snippet,
            assess=_exact("Keras counts optimizer steps: decay_steps = time_interval * steps_per_epoch"),
        ),
    },
    unsupported={"sklearn": "scikit-learn's MLP schedules are 'constant', 'invscaling' and 'adaptive' "
                            "(divide by 5 when the loss stalls): none is a staircase"},
)


def _fixed_interval_keras_from(t: dict) -> dict:
    if not t["staircase"] or t["decay_steps"] % t["steps_per_epoch"]:
        raise ValueError(
            f"an InverseTimeDecay is our fixed-interval form only with staircase=True and decay_steps a multiple "
            f"of steps_per_epoch ({t['steps_per_epoch']}); got decay_steps={t['decay_steps']}, "
            f"staircase={t['staircase']}"
        )
    return {"lr0": t["initial_learning_rate"], "decay_rate": t["decay_rate"],
            "time_interval": t["decay_steps"] // t["steps_per_epoch"], "steps_per_epoch": t["steps_per_epoch"]}


# weight layout -----------------------------------------------------------------------------------------

def _layout(fan_in: str, fan_out: str, shape_name: str, transposed: bool) -> dict[str, Any]:
    """A library's names for a dense layer's widths, and the shape its weight matrix has."""
    shape = (lambda o: (o["fan_out"], o["fan_in"])) if transposed else (lambda o: (o["fan_in"], o["fan_out"]))
    return {
        "params": (Param(fan_in, _count), Param(fan_out, _count)),
        "to_values": lambda o: {fan_in: o["fan_in"], fan_out: o["fan_out"], shape_name: shape(o)},
        "from_values": lambda t: {"fan_in": t[fan_in], "fan_out": t[fan_out]},
    }


WEIGHT_LAYOUT = Setting(
    "weight_layout",
    ours=(Param("fan_in", _count), Param("fan_out", _count)),
    ours_snippet=lambda v: f"dn.Dense({v['fan_out']})  # W: ({v['fan_in']}, {v['fan_out']}), Z = X @ W + b",
    libraries={
        "pytorch": Mapping(
            **_layout("in_features", "out_features", "weight_shape", transposed=True),
            snippet=lambda t: f"linear = torch.nn.Linear({t['in_features']}, {t['out_features']}); "
            'linear.weight.data.copy_(torch.from_numpy(model.tensor("dense_1.W").T))',
            assess=_exact("nn.Linear keeps weight as (out_features, in_features), the course's (n_l, n_{l-1}): "
                          "transpose ours; biases are the same vector"),
        ),
        "keras": Mapping(
            **_layout("input_dim", "units", "kernel_shape", transposed=False),
            snippet=lambda t: f"dense = keras.layers.Dense({t['units']}); dense.build(({t['input_dim']},)); "
            'dense.kernel.assign(model.tensor("dense_1.W"))',
            assess=_exact("Keras's kernel is (input_dim, units), as ours: no transpose"),
        ),
        "sklearn": Mapping(
            **_layout("n_in", "n_out", "coef_shape", transposed=False),
            snippet=lambda t: 'clf.coefs_[0] = model.tensor("dense_1.W").copy()',
            assess=_exact("MLPClassifier's coefs_[i] is (n_in, n_out), as ours: no transpose"),
        ),
    },
)

SETTINGS: dict[str, Setting] = {
    setting.name: setting
    for setting in (MOMENTUM, RMSPROP, ADAM, ADAMW, L2, DROPOUT, BATCH_NORM, INVERSE_TIME, FIXED_INTERVAL,
                    WEIGHT_LAYOUT)
}


# -- the machinery ---------------------------------------------------------------------------------------


def _setting(name: Any) -> Setting:
    check_choice("setting", name, SETTINGS)
    return SETTINGS[name]


def _mapping(setting: Setting, library: Any) -> Mapping:
    check_choice("library", library, LIBRARIES)
    if library in setting.unsupported:
        supported = ", ".join(repr(name) for name in sorted(setting.libraries))
        raise ValueError(f"{setting.unsupported[library]}: the setting {setting.name!r} translates to {supported}")
    if library not in setting.libraries:
        raise ValueError(f"the setting {setting.name!r} has no {library} form")
    return setting.libraries[library]


def _resolve(params: tuple[Param, ...], given: dict, setting: str, library: str) -> dict:
    """Check ``given`` against ``params``: unknown names listed, missing ones defaulted or reported, ranges checked."""
    valid = {param.name for param in params}
    unknown = sorted(set(given) - valid)
    if unknown:
        raise ValueError(
            f"unknown {setting} parameter {unknown[0]!r} for {library}; valid parameters: "
            f"{', '.join(repr(name) for name in sorted(valid))}"
        )
    values = {}
    for param in params:
        if param.name in given:
            values[param.name] = param.check(param.name, given[param.name])
        elif param.default is _REQUIRED:
            raise ValueError(f"{setting} in {library} terms needs {param.name!r}")
        else:
            values[param.name] = param.default
    return values


def _neighbours(value: float, ulps: int) -> list[float]:
    """``value`` and the doubles up to ``ulps`` units in the last place either side of it."""
    candidates = [value]
    up = down = value
    for _ in range(ulps):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        candidates += [up, down]
    return candidates


def _shortest(candidates: list[float], value: float) -> float:
    return min(candidates, key=lambda c: (len(repr(c)), abs(c - value)))


def _snap(values: dict) -> dict:
    """Each float as the shortest decimal within ``_SNAP_ULPS`` ulps: undoes the rounding of ``1 - x``, ``x * y / y``.

    A value a person typed (0.003) comes back from a round trip as 0.003, not 0.0030000000000000005; the
    change is a few units in the last place, far below any effect on a trajectory.
    """
    return {
        key: _shortest(_neighbours(value, _SNAP_ULPS), value)
        if isinstance(value, float) and math.isfinite(value) and value != 0.0
        else value
        for key, value in values.items()
    }


def _from(mapping: Mapping, theirs: dict) -> dict:
    return _snap(mapping.from_values(theirs))


def _nudge(result: dict, mapping: Mapping, original: dict) -> dict:
    """Move each float of ``result`` by at most ``_NUDGE_ULPS`` ulps so that translating back gives ``original``.

    Among the candidates that do, the shortest decimal is kept (0.2 rather than 0.19999999999999996).
    """
    result = dict(result)
    for key, value in result.items():
        if not isinstance(value, float) or not math.isfinite(value):
            continue
        good = []
        for candidate in _neighbours(value, _NUDGE_ULPS):
            try:
                back = _from(mapping, {**result, key: candidate})
            except (ValueError, ZeroDivisionError, OverflowError):
                continue
            if all(back.get(name) == original[name] for name in original):
                good.append(candidate)
        if good:
            result[key] = _shortest(good, value)
    return result


def _ours_values(setting: Setting, given: dict) -> dict:
    return _resolve(setting.ours, given, setting.name, "ours")


def translate(setting: str, library: str, **ours: Any) -> Translation:
    """Express our ``setting`` (with our parameter names and values) in ``library``'s terms.

    Parameters
    ----------
    setting : {"momentum", "rmsprop", "adam", "adamw", "l2", "dropout", "batch_norm", "inverse_time",
        "fixed_interval", "weight_layout"}
    library : {"pytorch", "keras", "sklearn", "ours"}
    **ours
        Our parameters (see :func:`parameters`); omitted ones take our defaults.

    Returns
    -------
    Translation
        ``values`` in the library's names, a one-line ``snippet``, ``exact`` and a ``caveat`` when not.

    Raises
    ------
    ValueError
        Unknown setting, library or parameter (the valid ones are listed), a value outside our legal range,
        or a setting the library does not have.
    """
    spec = _setting(setting)
    values = _ours_values(spec, ours)
    if library == "ours":
        return Translation(spec.name, "ours", "ours", values, spec.ours_snippet(values), True)
    mapping = _mapping(spec, library)
    theirs = _nudge(mapping.to_values(values), mapping, values)
    exact, caveat, note = mapping.assess(values, theirs)
    return Translation(spec.name, "ours", library, theirs, mapping.snippet(theirs), exact, caveat, note)


def translate_back(setting: str, library: str, **theirs: Any) -> Translation:
    """Express ``library``'s form of ``setting`` (its parameter names and values) in our terms.

    Omitted parameters take the library's defaults; values outside the library's legal range (where our
    form needs them legal too) are a clear error. See :func:`translate`.
    """
    spec = _setting(setting)
    if library == "ours":
        return translate(setting, "ours", **theirs)
    mapping = _mapping(spec, library)
    given = _resolve(mapping.params, theirs, spec.name, library)
    ours = _ours_values(spec, _from(mapping, given))
    exact, caveat, note = mapping.assess(ours, given)
    return Translation(spec.name, library, "ours", ours, spec.ours_snippet(ours), exact, caveat, note)


def convert(setting: str, values: dict[str, Any], *, to: str | None = None, source: str | None = None) -> Translation:
    """``translate`` (``to=``, from ours) or ``translate_back`` (``source=``, to ours): the CLI's entry point."""
    if (to is None) == (source is None):
        raise ValueError("give exactly one of to (ours -> library) and source (library -> ours)")
    if to is not None:
        return translate(setting, to, **values)
    return translate_back(setting, source, **values)


def parameters(setting: str, library: str = "ours") -> dict[str, Any]:
    """The parameter names of ``setting`` in ``library``'s terms, with their defaults (``None`` if required)."""
    spec = _setting(setting)
    params = spec.ours if library == "ours" else _mapping(spec, library).params
    return {param.name: (None if param.default is _REQUIRED else param.default) for param in params}
