"""The course's remedies as candidate configurations, for :func:`dnnimprove.recipe`.

A configuration is a flat dict: the study settings (see :data:`dnnimprove.studies.recipe.SETTINGS`) plus
``hidden`` (hidden widths), ``epochs`` and ``noise`` (input augmentation). A remedy maps the current best
configuration to the candidates that change **one knob**; an empty list means it does not apply.

Two families:

- :data:`BIAS_REMEDIES` and :data:`VARIANCE_REMEDIES`: the basic recipe's remedies in the course's
  order, walked while a gap is worth closing;
- :data:`TUNING_KNOBS`: the same remedies as knobs tuned coarse to fine while a time budget remains
  (the course's hyperparameter tuning: the learning rate and L2 strength on a log scale, dropout's
  ``keep_prob``, the network's width and depth, the mini-batch size, training longer with early
  stopping, learning-rate decay, Adam, batch normalization). Each takes a ``factor`` ``f > 1``: a value
  ``v`` on a log scale moves to ``v / f`` and ``v * f`` (``f ** 2`` for L2, whose useful range spans
  orders of magnitude); the walk shrinks ``f`` to ``sqrt(f)`` after a round of knobs that kept nothing.
"""

from __future__ import annotations

import math
from typing import Callable

__all__ = ["BIAS_REMEDIES", "VARIANCE_REMEDIES", "TUNING_KNOBS", "MAX_WIDTH", "MAX_DEPTH", "L2_RANGE"]

MAX_WIDTH = 512
"""No hidden layer grows wider than this."""
MAX_DEPTH = 4
"""No network grows deeper than this many hidden layers."""
L2_RANGE = (1e-4, 100.0)
"""The L2 strengths ``lambd`` tried: log-uniform over this range, first at every power of ten."""
MAX_EPOCHS = 3200
"""Training longer stops doubling the epochs here."""
PATIENCE = 20
"""Early stopping's patience (in recorded epochs) when the recipe turns it on."""

Remedy = Callable[[dict], list[dict]]
Knob = Callable[[dict, float], list[dict]]


# -- the basic recipe's remedies ----------------------------------------------------------------------------
def _wider(config: dict) -> list[dict]:
    hidden = tuple(min(MAX_WIDTH, 2 * units) for units in config["hidden"])
    return [] if hidden == config["hidden"] else [{**config, "hidden": hidden}]


def _deeper(config: dict) -> list[dict]:
    if len(config["hidden"]) >= MAX_DEPTH:
        return []
    return [{**config, "hidden": config["hidden"] + config["hidden"][-1:]}]


def _longer(config: dict) -> list[dict]:
    return [{**config, "epochs": 2 * config["epochs"]}]


def _adam(config: dict) -> list[dict]:
    if config["optimizer"] == "adam":
        return []
    return [{**config, "optimizer": "adam", "lr": lr} for lr in (0.001, 0.003, 0.01)]


def _he(config: dict) -> list[dict]:
    return [] if config["init"] == "he" else [{**config, "init": "he"}]


def _batch_norm(config: dict) -> list[dict]:
    return [] if config.get("batch_norm") else [{**config, "batch_norm": True}]


def _l2(config: dict) -> list[dict]:
    lambd = config.get("l2")
    values = (0.01, 0.1, 1.0, 10.0) if not lambd else (lambd / 10, lambd / 3, lambd * 3, lambd * 10)
    return [{**config, "l2": value} for value in values]


def _dropout(config: dict) -> list[dict]:
    keep = config.get("keep_prob")
    values = (0.9, 0.7) if not keep else tuple(v for v in (round(keep - 0.1, 2), round(keep + 0.05, 2)) if 0.3 <= v < 1)
    return [{**config, "keep_prob": value} for value in values]


def _architecture(config: dict) -> list[dict]:
    candidates = _wider(config)
    much_wider = tuple(min(MAX_WIDTH, 4 * units) for units in config["hidden"])
    if much_wider != config["hidden"] and all(much_wider != c["hidden"] for c in candidates):
        candidates.append({**config, "hidden": much_wider})
    return candidates + _deeper(config)


def _early_stopping(config: dict) -> list[dict]:
    if config.get("early_stopping"):
        return []
    return [{**config, "early_stopping": 10, "epochs": 2 * config["epochs"]}]


def _augment(config: dict) -> list[dict]:
    return [] if config.get("noise") else [{**config, "noise": noise} for noise in (0.05, 0.2)]


BIAS_REMEDIES: list[tuple[str, Remedy]] = [
    ("wider network", _wider), ("deeper network", _deeper), ("train longer", _longer),
    ("Adam", _adam), ("He initialization", _he), ("batch norm", _batch_norm),
]
"""The course's remedies for high avoidable bias, in order; each gives the candidate configurations."""

VARIANCE_REMEDIES: list[tuple[str, Remedy]] = [
    ("L2 regularization", _l2), ("dropout", _dropout), ("early stopping", _early_stopping),
    ("augmentation", _augment), ("architecture search", _architecture),
]
"""The course's remedies for high variance, in order: more data (augmentation where it applies) being out of
reach, regularization, then another architecture (wider, much wider, deeper, keeping the regularization)."""


# -- tuning knobs, coarse to fine ---------------------------------------------------------------------------
def _tune_lr(config: dict, factor: float) -> list[dict]:
    return [{**config, "lr": _round(config["lr"] * scale)} for scale in (1 / factor, factor)]


def _tune_l2(config: dict, factor: float) -> list[dict]:
    low, high = L2_RANGE
    lambd = config.get("l2") or 0.0
    if not lambd:
        decades = range(round(math.log10(low)), round(math.log10(high)) + 1)
        return [{**config, "l2": 10.0 ** decade} for decade in decades]
    values = [_round(lambd * scale) for scale in (1 / factor**2, factor**2)]
    return [{**config, "l2": value} for value in values if low <= value <= high] + [{**config, "l2": 0.0}]


def _tune_dropout(config: dict, factor: float) -> list[dict]:
    keep = config.get("keep_prob")
    if not keep:
        return [{**config, "keep_prob": value} for value in (0.9, 0.8, 0.6)]
    step = 0.1 * (factor - 1) / 2  # 0.1 at the first factor (3), then smaller
    values = [round(keep - step, 3), round(keep + step, 3)]
    return [{**config, "keep_prob": value if value < 1 else None} for value in values if value >= 0.3]


def _tune_width(config: dict, factor: float) -> list[dict]:
    """Every hidden layer wider or narrower: x4, x2 and x1/2 at a coarse factor, then ``x factor`` and ``/ factor``."""
    multipliers = (4.0, 2.0, 0.5) if factor >= 2 else (factor, 1 / factor)
    candidates = []
    for multiplier in multipliers:
        hidden = tuple(max(2, min(MAX_WIDTH, round(units * multiplier))) for units in config["hidden"])
        if hidden != config["hidden"]:
            candidates.append({**config, "hidden": hidden})
    return candidates


def _tune_depth(config: dict, factor: float) -> list[dict]:
    candidates = _deeper(config)
    if len(config["hidden"]) > 1:
        candidates.append({**config, "hidden": config["hidden"][:-1]})
    return candidates


def _tune_batch_size(config: dict, factor: float) -> list[dict]:
    size = config["batch_size"]
    if not size:
        return []
    values = sorted({max(8, round(size / 2)), round(size * 2)} - {size})
    return [{**config, "batch_size": value} for value in values]


def _tune_epochs(config: dict, factor: float) -> list[dict]:
    """Train longer; with early stopping on the dev set (turned on here if it was off) to stop in time."""
    epochs = min(MAX_EPOCHS, 2 * config["epochs"])
    if config.get("early_stopping"):
        return [] if epochs == config["epochs"] else [{**config, "epochs": epochs}]
    return [{**config, "epochs": epochs, "early_stopping": PATIENCE}]


def _tune_decay(config: dict, factor: float) -> list[dict]:
    """Learning-rate decay ``lr0 / (1 + k * epoch)`` reaching a tenth or a hundredth of ``lr0`` at the last epoch
    (a rate per epoch, so a shorter refit follows the same curve), or no decay."""
    if config.get("schedule"):
        return [{**config, "schedule": None, "decay_rate": 1.0}]
    return [{**config, "schedule": "inverse_time", "decay_rate": _round(ratio / config["epochs"])} for ratio in (9, 99)]


def _tune_optimizer(config: dict, factor: float) -> list[dict]:
    if config["optimizer"] == "adam":
        return []
    return [{**config, "optimizer": "adam", "lr": lr} for lr in (0.001, 0.003, 0.01)]


def _tune_batch_norm(config: dict, factor: float) -> list[dict]:
    return [{**config, "batch_norm": not config.get("batch_norm")}]


def _round(value: float) -> float:
    """Three significant digits, so that the report reads ``0.0333``, not ``0.033333333333333333``."""
    return float(f"{value:.3g}")


TUNING_KNOBS: list[tuple[str, str, Knob]] = [
    ("tune learning rate (log scale)", "bias", _tune_lr),
    ("tune network width", "bias", _tune_width),
    ("tune network depth", "bias", _tune_depth),
    ("Adam", "bias", _tune_optimizer),
    ("tune mini-batch size", "bias", _tune_batch_size),
    ("learning-rate decay", "bias", _tune_decay),
    ("batch norm", "bias", _tune_batch_norm),
    ("tune L2 (log scale)", "variance", _tune_l2),
    ("tune dropout keep_prob", "variance", _tune_dropout),
    ("train longer with early stopping", "variance", _tune_epochs),
]
"""``(name, the gap it mostly works on, knob)``; the walk tries the knobs for its larger gap first."""
