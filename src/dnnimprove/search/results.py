"""A search's outcome: the trials ranked by dev score, as a list of dicts, a text table and CSV.

Parameter values keep their types through the CSV: a number is written as Python writes it (``repr``
round-trips a float exactly), a tuple or list (``hidden_layer_sizes``) as a JSON list, ``None`` (an
inactive conditional entry) as an empty cell, a string as it is; :func:`read_csv` reads them back
(JSON lists as tuples).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .spaces import Switch

__all__ = ["SearchResult", "read_csv", "rank_trials", "STATES"]

STATES = ("complete", "pruned", "failed")
"""A finished trial's state: trained to the end; stopped early by a pruner; raised or was lost."""

_RESULT_COLUMNS = ("round", "trial", "state", "epochs", "seconds", "worker", "pid", "error")


@dataclass
class SearchResult:
    """Trials ranked by dev score: complete trials best first, then pruned ones, then failed ones (NaN).

    Attributes
    ----------
    trials : list of dict
        One flat dict per trial: ``rank``, ``dev_score``, ``train_score``, one key per searched
        parameter (``None`` where a conditional entry was inactive), ``round``, ``trial`` (its index in
        the round), ``state`` (``"complete"``, ``"pruned"`` or ``"failed"``), ``epochs`` (epochs trained
        for it, retraining included), ``seconds``, ``worker`` (the Dask worker's address, or
        ``"local"``), ``pid`` (the process that trained it) and ``error`` (why it failed; empty otherwise).
        A pruned trial's scores are those of its last epoch.
    param_names : list of str
    spaces : list of dict
        The space each round sampled from (coarse, then finer).
    seed : int
        The seed the search used (drawn when none was given), enough to rerun it.
    scoring : str
    best_estimator : estimator or None
        A clone with the best parameters fitted on the search's ``X, y`` (``refit=True``), dev part included.
    epochs_budget : int
        Epochs the trials would have trained without pruning (trials x epochs per trial).
    resumed : int
        Trials read back from the storage instead of run (a resumed search).
    """

    trials: list[dict[str, Any]]
    param_names: list[str]
    spaces: list[dict[str, Any]]
    seed: int
    scoring: str
    best_estimator: Any = None
    seconds: float = 0.0
    epochs_budget: int = 0
    resumed: int = 0
    study_name: str | None = None
    storage: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> dict[str, Any]:
        return self.trials[0]

    @property
    def best_params(self) -> dict[str, Any]:
        """The best trial's estimator parameters: active entries only, switches left out."""
        space = self.spaces[-1] if self.spaces else {}
        return {name: self.best[name] for name in self.param_names
                if self.best[name] is not None and not isinstance(space.get(name), Switch)}

    @property
    def best_score(self) -> float:
        return self.best["dev_score"]

    @property
    def epochs_trained(self) -> int:
        """Epochs trained over all trials (a pruned trial counts the epochs it ran)."""
        return sum(int(trial["epochs"]) for trial in self.trials)

    @property
    def epochs_saved(self) -> int:
        """Epochs pruning saved: ``epochs_budget - epochs_trained``."""
        return self.epochs_budget - self.epochs_trained

    def columns(self) -> list[str]:
        return ["rank", "dev_score", "train_score", *self.param_names, *_RESULT_COLUMNS]

    def table(self, top: int | None = None) -> str:
        """The ranked trials as a fixed-width text table (the ``top`` best, or all)."""
        columns = [name for name in self.columns() if name not in ("pid", "error")]
        rows = [[_cell(trial[name]) for name in columns] for trial in self.trials[:top]]
        short = [name.rsplit("__", 1)[-1] for name in columns]  # "dnnclassifier__lr" -> "lr"
        headers = short if len(set(short)) == len(short) else columns
        widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(headers)]
        lines = ["  ".join(name.ljust(width) for name, width in zip(headers, widths))]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
        return "\n".join(line.rstrip() for line in lines)

    def to_csv(self, path: Any = None) -> str:
        """Write the ranked trials as CSV to ``path`` (a file name or an open text file); return the text."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns(), lineterminator="\n")
        writer.writeheader()
        for trial in self.trials:
            writer.writerow({name: _csv_cell(trial[name]) for name in self.columns()})
        text = buffer.getvalue()
        if hasattr(path, "write"):
            path.write(text)
        elif path is not None:
            from ..safefiles import write_atomically

            write_atomically(path, lambda stream: stream.write(text.encode("utf-8")), what="trials CSV")
        return text

    def __str__(self) -> str:
        return self.table()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    return value


def _from_cell(text: str) -> Any:
    if text == "":
        return None
    if text.startswith("["):
        try:
            return tuple(json.loads(text))
        except ValueError:
            return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(text, text)


def read_csv(path: Any) -> list[dict[str, Any]]:
    """The trials of a CSV written by :meth:`SearchResult.to_csv`, with their types (see the module doc)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    trials = []
    for row in rows:
        trial = {name: _from_cell(text) for name, text in row.items()}
        for name in ("error", "worker", "state"):
            trial[name] = "" if trial.get(name) is None else str(trial[name])
        trials.append(trial)
    return trials


def rank_trials(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``trials`` sorted complete, pruned, failed; by dev score within each (best first); ranks set."""
    order = sorted(
        trials,
        key=lambda trial: (STATES.index(trial["state"]) if trial["state"] in STATES else len(STATES),
                           math.isnan(trial["dev_score"]), -np.nan_to_num(trial["dev_score"]),
                           trial["round"], trial["trial"]),
    )
    for rank, trial in enumerate(order, start=1):
        trial["rank"] = rank
    return order
