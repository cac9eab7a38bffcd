"""Hyperparameter search as the course teaches it: random, on the right scale, coarse to fine; and at scale.

:func:`random_search` holds out a dev set (the course's train/dev split), trains one clone of the
estimator per configuration and scores it on the dev set; :func:`coarse_to_fine` repeats that for
``rounds`` rounds, narrowing every range around the best trials so far. Trials run in this process, in
joblib workers (``n_jobs``) or on the workers of a Dask cluster (``scheduler="tcp://host:8786"`` or
``client=``); the same seed gives the same configurations and the same scores either way. With
``storage=`` every trial persists as it finishes (Optuna's database, or a JSON-lines file), a rerun
with ``resume=True`` runs only what is missing, and several processes can share one study; a pruner
(:class:`MedianPruner`, :class:`SuccessiveHalving`) stops hopeless trials on their dev accuracy per epoch.

The parts, one job each:

==============  ====================================================================================
``spaces``      dimensions (``LogUniform``, ``OneMinusLogUniform``, ...), conditions, narrowing
``named``       ready-made spaces by name (``course_space``)
``priorities``  the course's tuning priorities as spaces (``priority_space``, ``course_space(priority=)``)
``sampling``    configurations drawn lazily per trial; Optuna's TPE
``trial``       one trial where it runs: train, report the dev score per epoch, score
``pruning``     the median rule and successive halving
``execution``   trials streamed through this process, joblib or Dask
``storage``     trials persisted (Optuna's RDB storage, JSON lines) and claimed
``results``     ``SearchResult``: the ranked trials, table, CSV
``runner``      ``random_search``, ``coarse_to_fine``, ``grid_search``
==============  ====================================================================================
"""

from .named import SPACES, course_space, get_space
from .priorities import PRIORITIES, priority_space
from .pruning import MedianPruner, SuccessiveHalving
from .results import SearchResult, read_csv
from .runner import MAX_TRIALS, coarse_to_fine, grid_search, random_search
from .spaces import (
    Choice,
    Dimension,
    HiddenLayers,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    PowersOfTwo,
    Switch,
    Uniform,
    narrow_space,
)
from .storage import StudyMismatch

__all__ = [
    "Dimension",
    "LogUniform",
    "Uniform",
    "OneMinusLogUniform",
    "IntUniform",
    "PowersOfTwo",
    "Choice",
    "Switch",
    "HiddenLayers",
    "course_space",
    "priority_space",
    "PRIORITIES",
    "get_space",
    "SPACES",
    "SearchResult",
    "read_csv",
    "random_search",
    "coarse_to_fine",
    "grid_search",
    "narrow_space",
    "MedianPruner",
    "SuccessiveHalving",
    "StudyMismatch",
    "MAX_TRIALS",
]
