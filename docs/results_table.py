"""Print the README's table of headline results from a report folder: ``python docs/results_table.py results``.

Run ``dnnimprove study all --seeds 5`` first. For each study, each variant's test accuracy (the dev
accuracy where a study has no test set) as the median over the seeds with the range in brackets: several
of these runs are chaotic (large random initialization, a plain deep network at lr 1.0), so one seed's value
would not reproduce on another machine, while the median and range do, closely.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ORDER = ["initialization", "regularization", "optimization", "minibatch", "batch_norm", "softmax", "tuning", "augmentation"]


def variant_cell(run: dict) -> str:
    key = "test_accuracy" if run.get("test_accuracy") is not None else "dev_accuracy"
    values = [seed[key] for seed in run.get("per_seed", []) if seed.get(key) is not None]
    if not values:
        return f"{run['name']} -"
    median = statistics.median(values)
    if max(values) - min(values) < 0.005:
        return f"{run['name']} {median:.2f}"
    return f"{run['name']} {median:.2f} [{min(values):.2f}-{max(values):.2f}]"


def table(folder: Path) -> str:
    lines = ["| study | test accuracy, median [range] over seeds | course's conclusion |", "|---|---|---|"]
    for name in ORDER:
        path = folder / name / "results.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        held = sum(1 for check in result["checks"] if check["ok"])
        cells = "; ".join(variant_cell(run) for run in result["runs"])
        lines.append(f"| {name} | {cells} | {held}/{len(result['checks'])} hold |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(Path(sys.argv[1] if len(sys.argv) > 1 else "results")))
