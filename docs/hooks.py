"""MkDocs hooks: pages that are generated from the library instead of typed twice.

A page may hold, on a line of its own,

- ``<!-- conventions-table -->``: replaced by the table of every setting in every library, computed by
  :func:`dnnimprove.conventions.translate` from the example values in ``EXAMPLES``;
- ``<!-- include: PATH -->``: replaced by the text of ``PATH`` (relative to the repository root), so that
  a file outside ``docs/`` (``benchmarks/README.md``) appears on the site without a copy.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EXAMPLES = {
    "momentum": {"lr": 0.01, "beta": 0.9},
    "rmsprop": {},
    "adam": {},
    "adamw": {},
    "l2": {"lambd": 0.7, "batch_size": 64, "n_samples": 300},
    "dropout": {"keep_prob": 0.8},
    "batch_norm": {},
    "inverse_time": {"lr0": 0.1, "decay_rate": 1.0, "steps_per_epoch": 5, "n_samples": 300},
    "fixed_interval": {"lr0": 0.1, "decay_rate": 1.0, "time_interval": 1000, "steps_per_epoch": 5},
    "weight_layout": {"fan_in": 2, "fan_out": 5},
}
"""The values each setting is shown with (ours, in our parameter names)."""

LIBRARIES = {"pytorch": "PyTorch", "keras": "Keras", "sklearn": "scikit-learn"}


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no column breaks, no emphasis from ``**`` or ``_``)."""
    return text.replace("|", "\\|").replace("\n", " ").replace("*", "\\*").replace("_", "\\_")


def conventions_table() -> str:
    """A Markdown table (one row per setting, our snippet and each library's) and the caveats as notes below."""
    from dnnimprove import conventions

    header = "| setting | ours | " + " | ".join(LIBRARIES.values()) + " |"
    lines = [header, "|" + "---|" * (2 + len(LIBRARIES))]
    notes: list[str] = []
    for setting, values in EXAMPLES.items():
        ours = conventions.translate(setting, "ours", **values)
        row = [f"`{setting}`", f"`{ours.snippet}`"]
        for library, name in LIBRARIES.items():
            try:
                theirs = conventions.translate(setting, library, **values)
            except ValueError as error:
                reason = str(error).rsplit(": the setting", 1)[0]
                row.append("— (" + _cell(reason) + ")")
                continue
            cell = f"`{theirs.snippet.replace('|', '&#124;')}`"
            if theirs.exact:
                cell += " (exact)"
            else:
                notes.append(f"{len(notes) + 1}. `{setting}` in {name}: {_cell(theirs.caveat)}")
                cell += f" ≈ (note {len(notes)})"
            row.append(cell)
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n\nNotes on the approximate translations:\n\n" + "\n".join(notes)


def _include(match: re.Match) -> str:
    return (ROOT / match["path"].strip()).read_text(encoding="utf-8")


def on_page_markdown(markdown: str, **_: object) -> str:
    markdown = re.sub(r"^<!-- include: (?P<path>[^>]+?) -->$", _include, markdown, flags=re.MULTILINE)
    if "<!-- conventions-table -->" in markdown:
        markdown = markdown.replace("<!-- conventions-table -->", conventions_table())
    return markdown
