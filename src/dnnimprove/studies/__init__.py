"""The classic experiments of the course, as recipes, and the runner that turns them into results.

``STUDIES`` maps each study's name to its recipe, in the order ``dnnimprove study all`` runs them.
"""

from __future__ import annotations

from .augmentation import AUGMENTATION, run_augmentation
from .classic import BATCH_NORM, INITIALIZATION, MINIBATCH, OPTIMIZATION, REGULARIZATION, SOFTMAX
from .batch_norm_noise import BATCH_NORM_NOISE, run_batch_norm_noise
from .ewma import EWMA, run_ewma
from .landscape import LANDSCAPE, run_landscape
from .gradient_checking import GRADIENT_CHECKING, run_gradient_checking
from .tuning import TUNING, run_tuning
from .recipe import SETTINGS, CourseVersion, Data, DataSpec, Expectation, Study, Variant
from .runner import MODES, StudyResult, VariantResult, build_model, run_comparison, train_once

__all__ = [
    "STUDIES", "RUNNERS", "get_study", "run_study",
    "SETTINGS", "CourseVersion", "Data", "DataSpec", "Expectation", "Study", "Variant",
    "MODES", "StudyResult", "VariantResult", "build_model", "run_comparison", "train_once",
]

STUDIES: dict[str, Study] = {
    study.name: study for study in (
        INITIALIZATION, REGULARIZATION, GRADIENT_CHECKING, OPTIMIZATION, MINIBATCH, BATCH_NORM, SOFTMAX, TUNING,
        AUGMENTATION, LANDSCAPE, EWMA, BATCH_NORM_NOISE,
    )
}

RUNNERS = {
    "compare": run_comparison, "gradcheck": run_gradient_checking, "tuning": run_tuning,
    "augmentation": run_augmentation, "landscape": run_landscape, "ewma": run_ewma,
    "batch_norm_noise": run_batch_norm_noise,
}
"""Which function runs a study of each ``kind``; all take ``(study, mode, seeds, epochs, progress)``."""


def get_study(name: str) -> Study:
    """The recipe called ``name`` (an unknown name lists the valid ones)."""
    from .._validation import check_choice

    check_choice("study", name, STUDIES)
    return STUDIES[name]


def run_study(study: Study | str, **options) -> StudyResult:
    """Run ``study`` (a recipe or its name) with the runner its ``kind`` names; see ``run_comparison``."""
    study = get_study(study) if isinstance(study, str) else study
    return RUNNERS[study.kind](study, **options)
