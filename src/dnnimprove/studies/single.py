"""One network trained once (``dnnimprove train``), as the report reads a study's result.

:class:`TrainResult` carries what :func:`dnnimprove.report.write_study` and
:func:`dnnimprove.report.text_table` read (``name``, ``title``, ``lesson``, ``mode``, ``data``,
``variants``, ``checks``, ``extras``, ``figures``, ``smoke_test``, ``to_json``): one variant, ``"train"``,
with one run and no checks, so a single run is written as ``OUT/train/results.json`` with the same keys
as a study's, its cost curve and (on 2-D data) its decision boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .recipe import Data
from .runner import SeedRun, VariantResult

__all__ = ["TrainResult"]


@dataclass
class TrainResult:
    """The result of one training run.

    Parameters
    ----------
    title : str
        The table's title.
    mode : {"robust", "course-exact"}
        Which random source trained it (``course-exact``: the course's legacy stream).
    dataset : mapping
        Where the data came from (a ``DataSpec``'s or ``TableSpec``'s ``as_dict()``).
    data : Data
        The arrays it was trained and evaluated on.
    hidden : tuple of int
    loss : str
    settings : mapping
        The run's full settings (:data:`dnnimprove.studies.SETTINGS` keys).
    run : SeedRun
    seconds : float
        Wall time from loading the data to the end of the evaluation.
    """

    title: str
    mode: str
    dataset: Mapping[str, Any]
    data: Data
    hidden: tuple[int, ...]
    loss: str
    settings: Mapping[str, Any]
    run: SeedRun
    seconds: float = 0.0
    name: str = "train"
    lesson: str = "One run of dnnimprove train."
    checks: list[tuple[str, bool]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    smoke_test: bool = False

    @property
    def variants(self) -> list[VariantResult]:
        """The run as a study's single variant (``"train"``), for the table and the figures."""
        return [VariantResult(self.name, dict(self.settings), [self.run])]

    @property
    def figures(self) -> tuple[str, ...]:
        """The cost curve, and the decision boundary on 2-D data."""
        return ("cost", "boundary") if self.data.n_features == 2 else ("cost",)

    def to_json(self) -> dict[str, Any]:
        """The results.json dictionary, with a study's keys (``study`` is ``"train"``, ``checks`` empty)."""
        return {
            "study": self.name,
            "title": self.title,
            "mode": self.mode,
            "smoke_test": self.smoke_test,
            "dataset": dict(self.dataset),
            "architecture": {"hidden": list(self.hidden), "loss": self.loss},
            "runs": [variant.summary() for variant in self.variants],
            "checks": [],
            "seconds": self.seconds,
        }
