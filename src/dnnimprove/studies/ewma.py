"""The exponentially weighted averages study: a year of noisy daily temperatures averaged with beta 0.5, 0.9, 0.98.

``v_t = beta v_{t-1} + (1 - beta) theta_t`` (:func:`dnnimprove.ewma`, the average behind momentum, RMSprop,
Adam and batch norm's running statistics) averages over roughly the last ``1 / (1 - beta)`` days: 2, 10 and
50 days here, the span after which a day's weight ``(1 - beta) beta**k`` has fallen to about ``1/e`` of the
newest. A larger beta gives a smoother curve that lags further behind (by about ``beta / (1 - beta)``
days); a smaller one follows the noise. Started from ``v_0 = 0`` the average is biased towards 0 for its
first ``~1 / (1 - beta)`` days; dividing by ``1 - beta**t`` (bias correction) removes that, and so does
starting from the first value (``v0 = theta_1``).

Measured per seed on :func:`dnnimprove.data.daily_temperatures` (its clean seasonal curve is known):

- roughness: the standard deviation of the day-to-day change of the average;
- lag: the shift ``L`` (days) for which the average best matches the seasonal curve ``L`` days earlier
  (least squares over the days after 100, so that no start-up enters); ``beta / (1 - beta)`` is the lag
  behind a straight trend, and a little more than the lag behind a yearly wave once the window is not
  short against the year (about 40 days instead of 49 for beta 0.98);
- tracking error: the root mean square distance to the seasonal curve after day 100;
- start-up error: the mean distance to the seasonal curve over the first ``1 / (1 - beta)`` days, with
  and without bias correction, and started from the first day's value (``v0="first"``). That start has
  no bias towards 0 but keeps the first day's noise with weight ``beta**t``: with 3 °C of noise and a
  January near 4 °C it is sometimes no better than starting from 0 (seed 3: 3.3 against 2.8 °C for beta
  0.9), so it is reported, not checked.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

import numpy as np

from .._validation import Integer, validate_params
from ..data import daily_temperatures
from ..ewma import ewma
from .recipe import Data, DataSpec, Study, Variant
from .runner import RUNNER_CONSTRAINTS, StudyResult, checked_seeds, mean_and_spread

__all__ = ["BETAS", "EWMA", "run_ewma", "measure", "lag", "RUN_CONSTRAINTS"]

RUN_CONSTRAINTS = {**RUNNER_CONSTRAINTS, "epochs": Integer(low=4)}
"""The legal values of :func:`run_ewma`'s ``mode``, each of its ``seeds`` and ``epochs`` (the number of days, at
least 4)."""

BETAS = (0.5, 0.9, 0.98)
"""The course's three averages."""

NOISE = 3.0
"""Standard deviation of the daily noise, degrees Celsius."""

SETTLED = 100
"""Days after which every average has forgotten its start (``0.98**100 < 0.14``)."""

MAX_LAG = 120

EWMA = Study(
    name="ewma",
    title="Exponentially weighted averages: a noisy year of temperatures averaged with beta 0.5, 0.9, 0.98",
    lesson="An exponentially weighted average with beta averages over about the last 1/(1-beta) values: a larger "
    "beta is smoother but lags further behind; started at 0 it is biased low for its first ~1/(1-beta) "
    "values, which bias correction v/(1-beta^t) removes.",
    data=DataSpec("moons", {"n_samples": 2}),
    hidden=(),
    epochs=365,
    quick_epochs=120,
    variants=tuple(Variant(f"beta_{beta:g}") for beta in BETAS),
    figures=("ewma_curves", "ewma_start", "ewma_weights"),
    kind="ewma",
)


def lag(average: np.ndarray, seasonal: np.ndarray, settled: int = SETTLED, max_lag: int = MAX_LAG) -> int:
    """The shift ``L`` in ``[0, max_lag]`` minimizing ``mean((average[t] - seasonal[t - L])**2)`` over ``t >= settled``."""
    days = np.arange(settled, len(average))
    errors = [np.mean((average[days] - seasonal[days - shift]) ** 2) for shift in range(min(max_lag, settled) + 1)]
    return int(np.argmin(errors))


def measure(series: np.ndarray, seasonal: np.ndarray, beta: float) -> dict[str, float]:
    """The figures of one average of ``series`` (see the module docstring)."""
    corrected = ewma(series, beta, bias_correction=True)
    raw = ewma(series, beta, bias_correction=False)
    from_first = ewma(series, beta, bias_correction=False, v0="first")
    window = int(round(1 / (1 - beta)))
    settled = min(SETTLED, len(series) // 2)
    return {
        "roughness": float(np.std(np.diff(corrected))),
        "lag": float(lag(corrected, seasonal, settled, min(MAX_LAG, settled))),
        "tracking": float(np.sqrt(np.mean((corrected[settled:] - seasonal[settled:]) ** 2))),
        "start_corrected": float(np.mean(np.abs(corrected[:window] - seasonal[:window]))),
        "start_uncorrected": float(np.mean(np.abs(raw[:window] - seasonal[:window]))),
        "start_first": float(np.mean(np.abs(from_first[:window] - seasonal[:window]))),
    }


def run_ewma(
    study: Study,
    mode: str = "robust",
    seeds: Iterable[int] = (0, 1, 2),
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Average one seeded year per seed with every beta; ``epochs`` is the number of days.

    Course-exact mode has nothing published to match (the course's series is real London weather): it
    runs seed 3 only.
    """
    validate_params(RUN_CONSTRAINTS, mode=mode)
    started = time.perf_counter()
    n_days = validate_params(RUN_CONSTRAINTS, epochs=study.epochs if epochs is None else epochs)["epochs"]
    seeds = [3] if mode == "course-exact" else checked_seeds(seeds)
    per_beta: dict[float, list[dict[str, float]]] = {beta: [] for beta in BETAS}
    series_by_seed = {}
    for seed in seeds:
        series, seasonal = daily_temperatures(n_days, NOISE, seed)
        series_by_seed[seed] = (series, seasonal)
        for beta in BETAS:
            per_beta[beta].append(measure(series, seasonal, beta))
            if progress:
                progress(f"beta {beta:g} seed {seed}")
    summary = {
        f"{beta:g}": {key: dict(zip(("mean", "std"), mean_and_spread(run[key] for run in runs)))
                      for key in runs[0]}
        for beta, runs in per_beta.items()
    }
    checks = _checks(summary)
    header = ["beta", "window 1/(1-beta) (days)", "roughness (°C/day)", "lag (days)", "beta/(1-beta)",
              f"tracking error after day {min(SETTLED, n_days // 2)} (°C)", "start-up error: corrected (°C)",
              "start-up error: uncorrected (°C)", "start-up error: v0 = θ_1 (°C)"]
    rows = []
    for beta in BETAS:
        cell = summary[f"{beta:g}"]
        text = lambda key, digits=2: f"{cell[key]['mean']:.{digits}f} ± {cell[key]['std']:.{digits}f}"  # noqa: E731
        rows.append([f"{beta:g}", f"{1 / (1 - beta):.0f}", text("roughness"), text("lag", 1),
                     f"{beta / (1 - beta):.0f}", text("tracking"), text("start_corrected"), text("start_uncorrected"),
                     text("start_first")])
    first = seeds[0]
    extras = {
        "dataset": {"name": "daily_temperatures", "n_days": n_days, "noise": NOISE, "seeds": seeds},
        "architecture": {"hidden": [], "loss": "none (no network)"},
        "seeds": len(seeds),
        "betas": list(BETAS),
        "summary": summary,
        "table": {"header": header, "rows": rows},
        "_series": series_by_seed[first],
        "_seed": first,
    }
    return StudyResult(study, mode, study.title, _NO_DATA, [], checks, extras, time.perf_counter() - started)


_NO_DATA = Data(np.zeros((0, 1)), np.zeros(0))
"""The study trains no network: its series lives in ``extras``."""


def _checks(summary: dict[str, dict[str, dict[str, float]]]) -> list[tuple[str, bool]]:
    mean = lambda beta, key: summary[f"{beta:g}"][key]["mean"]  # noqa: E731
    checks = []
    for low, high in zip(BETAS, BETAS[1:]):
        ok = mean(high, "roughness") < mean(low, "roughness")
        checks.append((f"beta {high:g} is smoother than beta {low:g}: {'yes' if ok else 'NO'}, day-to-day change "
                       f"{mean(high, 'roughness'):.3f} < {mean(low, 'roughness'):.3f} °C", ok))
        ok = mean(high, "lag") > mean(low, "lag")
        checks.append((f"beta {high:g} lags further behind than beta {low:g}: {'yes' if ok else 'NO'}, "
                       f"{mean(high, 'lag'):.1f} > {mean(low, 'lag'):.1f} days", ok))
    middle = BETAS[1]
    ok = mean(middle, "tracking") < min(mean(BETAS[0], "tracking"), mean(BETAS[-1], "tracking"))
    errors = ", ".join(f"{beta:g}: {mean(beta, 'tracking'):.2f}" for beta in BETAS)
    checks.append((f"beta {middle:g} tracks the seasonal curve best (0.5 follows the noise, 0.98 lags): "
                   f"{'yes' if ok else 'NO'}, tracking error {errors} °C", ok))
    for beta in BETAS[1:]:
        ok = mean(beta, "start_corrected") < mean(beta, "start_uncorrected")
        checks.append((f"bias correction removes the start-up bias of beta {beta:g}: {'yes' if ok else 'NO'}, "
                       f"first {1 / (1 - beta):.0f} days' error {mean(beta, 'start_corrected'):.2f} < "
                       f"{mean(beta, 'start_uncorrected'):.2f} °C", ok))
    return checks
