"""The report's files: ``OUT/<study>/results.json`` with the figures, and ``OUT/index.html`` built from every
``results.json`` found under ``OUT``."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .study_figures import draw_figures
from .text import Result, reading, study_table


def write_study(result: Result, out: str | os.PathLike, figures: bool = True) -> Path:
    """Write ``OUT/<study>/results.json`` (and the figures); returns the path of results.json."""
    folder = Path(out) / result.name
    folder.mkdir(parents=True, exist_ok=True)
    summary = result.to_json()
    summary["reading"] = reading(result)
    summary["environment"] = _environment(result)
    summary["figures"] = draw_figures(result, folder) if figures else []
    path = folder / "results.json"
    path.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return path


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; }
table.facts th { text-align: left; } table.facts td { text-align: left; }
td.text, th.text { text-align: left; }
nav { line-height: 1.8; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; max-width: 700px; }
.reading { background: #f7f7f2; border-left: 4px solid #999; padding: 0.4em 0.8em; }
.ok { color: #1a7f37; } .no { color: #b42318; } .skipped { color: #666; }
.smoke { background: #fff4e5; border: 2px solid #d9822b; padding: 0.5em 0.8em; font-weight: bold; }
.badge { background: #d9822b; color: white; font-size: 0.6em; padding: 0.1em 0.5em; border-radius: 0.3em;
         vertical-align: middle; }
nav a { margin-right: 1em; }
"""

_KEY_NAMES = {"n_samples": "examples", "test_set": "test set", "dev_fraction": "dev fraction",
              "test_fraction": "test fraction", "split_seed": "split seed", "standardize": "standardized"}


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "x".join(str(item) for item in value)
    return str(value)


def _settings_text(settings: dict[str, Any]) -> str:
    parts = []
    for key, value in settings.items():
        if value is None or key == "name":
            continue
        name = _KEY_NAMES.get(key, key.replace("_", " "))
        if isinstance(value, dict):
            parts.append(f"{name}: {_settings_text(value)}")
        elif key == "n_samples":
            parts.append(f"{value} {name}")
        else:
            parts.append(f"{name} {_value_text(value)}")
    return ", ".join(parts)


def dataset_text(dataset: dict[str, Any]) -> str:
    """A dataset's settings as a phrase: ``circles: 300 examples, noise 0.05, seed 1, test set: ...``."""
    details = _settings_text(dataset)
    return f"{dataset.get('name', 'data')}: {details}" if details else str(dataset.get("name", "data"))


def _environment(result: Result) -> dict[str, Any]:
    """Where and when the study ran: the machine, its BLAS library, the engine, the date."""
    import platform
    from datetime import datetime, timezone

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        found = [f"{pool.get('internal_api', '?')} {pool.get('version') or ''} ({pool.get('architecture') or '?'} kernels)"
                 .replace("  ", " ") for pool in threadpool_info() if pool.get("user_api") == "blas"]
        blas = "; ".join(dict.fromkeys(found)) or blas
    except Exception:  # noqa: BLE001 -- the report must not fail on an odd BLAS setup
        pass
    engine = result.extras.get("engine")
    if engine is None:
        import inspect

        from ..training import fit

        parameter = inspect.signature(fit).parameters.get("engine")
        engine = parameter.default if parameter is not None else "numpy"
    return {"machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}", "blas": blas,
            "engine": str(engine), "python": platform.python_version(), "numpy": np.__version__,
            "written": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _check_item(check: dict[str, Any]) -> str:
    if check["ok"] is None:
        return f'<li class="skipped">&ndash; not evaluated (smoke test): {html.escape(check["text"])}</li>'
    css, mark = ("ok", "&#10003;") if check["ok"] else ("no", "&#10007;")
    return f'<li class="{css}">{mark} {html.escape(check["text"])}</li>'


def _section(summary: dict[str, Any]) -> str:
    name = html.escape(summary["study"])
    smoke = summary.get("smoke_test", False)
    header, rows = study_table(summary)
    badge = ' <span class="badge">smoke test</span>' if smoke else ""
    parts = [f'<section id="{name}">', f"<h2>{html.escape(summary['title'])}{badge}</h2>"]
    if smoke:
        parts.append('<p class="smoke">Smoke test (--quick): a few epochs per run, to check that the study runs. '
                     "These numbers are not results and the conclusions are not evaluated.</p>")
    hidden = "-".join(str(width) for width in summary["architecture"]["hidden"]) or "none"
    parts.append(f"<p>Mode: <b>{html.escape(summary['mode'])}{' (smoke test)' if smoke else ''}</b> &middot; "
                 f"data: {html.escape(dataset_text(summary['dataset']))} &middot; hidden layers {html.escape(hidden)} "
                 f'&middot; <a href="{name}/results.json">results.json</a> &middot; <a href="#summary">summary</a></p>')
    lines = summary.get("reading", [])
    parts.append('<p class="reading">' + "<br>".join(html.escape(line) for line in lines) + "</p>")
    parts.append("<table><tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in header) + "</tr>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>")
    parts.append("</table>")
    if summary["checks"]:
        parts.append("<ul>" + "".join(_check_item(check) for check in summary["checks"]) + "</ul>")
    for figure in summary.get("figures", []):
        source = f"{name}/{html.escape(figure['file'])}"
        parts.append(f'<figure><a href="{source}"><img src="{source}" alt="{html.escape(figure["caption"])}"></a>'
                     f"<figcaption>{html.escape(figure['caption'])}</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)


def held_text(checks: list[dict[str, Any]]) -> tuple[str, str]:
    """``("3 / 3 hold", css class)`` for a study's checks; ``not evaluated`` for a smoke test's."""
    if not checks:
        return "no checks", "skipped"
    if any(check["ok"] is None for check in checks):
        return f"{len(checks)} not evaluated (smoke test)", "skipped"
    held = sum(bool(check["ok"]) for check in checks)
    return f"{held} / {len(checks)} hold", "ok" if held == len(checks) else "no"


def _summary(summaries: list[dict[str, Any]]) -> str:
    """The report's first section: what ran, how many conclusions held, where and when, with links."""
    smoke = any(summary.get("smoke_test") for summary in summaries)
    checks = [check for summary in summaries for check in summary["checks"]]
    evaluated = [check for check in checks if check["ok"] is not None]
    held = sum(bool(check["ok"]) for check in evaluated)
    modes = sorted({summary["mode"] for summary in summaries})
    seeds = sorted({len(run["seeds"]) for summary in summaries for run in summary["runs"]})
    environments = [summary["environment"] for summary in summaries if summary.get("environment")]
    latest = max(environments, key=lambda environment: environment["written"]) if environments else {}
    seconds = sum(summary.get("seconds", 0.0) for summary in summaries)
    if smoke:
        conclusions = (f"not evaluated: {len(checks) - len(evaluated)} of {len(checks)} come from a smoke test (--quick)"
                       + (f"; {held} / {len(evaluated)} of the others hold" if evaluated else ""))
        css = "skipped"
    else:
        conclusions, css = f"{held} / {len(checks)} hold", "ok" if held == len(checks) else "no"
    mode = ", ".join(modes)
    if seeds:
        mode += f" ({' or '.join(map(str, seeds))} seed{'s' * (seeds != [1])} per variant)"
    facts = [("studies", str(len(summaries))), ("conclusions", f'<span class="{css}">{html.escape(conclusions)}</span>'),
             ("mode", html.escape(mode + (", SMOKE TEST" if smoke else ""))),
             ("engine", html.escape(latest.get("engine", "-"))), ("machine", html.escape(latest.get("machine", "-"))),
             ("BLAS", html.escape(latest.get("blas", "-"))),
             ("time", html.escape(f"{seconds:.1f} s of training; written {latest.get('written', '-')}"))]
    parts = ['<section id="summary">', "<h2>Summary</h2>"]
    if smoke:
        parts.append('<p class="smoke">SMOKE TEST: these runs had a few epochs each (--quick). They check that the '
                     "studies run; their numbers are not results and the course's conclusions are not evaluated.</p>")
    parts.append('<table class="facts">' + "".join(f"<tr><th>{key}</th><td>{value}</td></tr>" for key, value in facts)
                 + "</table>")
    parts.append('<table><tr><th>study</th><th class="text">compares</th><th>conclusions</th><th>seconds</th>'
                 "<th>data</th></tr>")
    for summary in summaries:
        name = html.escape(summary["study"])
        text, css = held_text(summary["checks"])
        parts.append(f'<tr><td><a href="#{name}">{name}</a></td><td class="text">{html.escape(summary["title"])}</td>'
                     f'<td class="{css}">{html.escape(text)}</td><td>{summary.get("seconds", 0.0):.1f}</td>'
                     f'<td><a href="{name}/results.json">results.json</a></td></tr>')
    parts.append("</table>")
    parts.append("<p>Robust mode reports the mean &plusmn; standard deviation over seeds in the tables and the median "
                 "over seeds in the cost figures; course-exact mode reproduces the course's published figures. Some runs "
                 "are chaotic (large random initialization, a plain deep network at a large learning rate): their value "
                 "on one seed depends on the machine's rounding (BLAS kernel, CPU), their spread over seeds does not "
                 "much.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def write_index(out: str | os.PathLike, order: list[str] | None = None) -> Path:
    """Write ``OUT/index.html``: a summary, then a section for every ``OUT/<study>/results.json`` (``order`` first)."""
    out = Path(out)
    found = {path.parent.name: path for path in sorted(out.glob("*/results.json"))}
    names = [name for name in (order or []) if name in found] + sorted(set(found) - set(order or []))
    summaries = [json.loads(found[name].read_text()) for name in names]
    smoke = any(summary.get("smoke_test") for summary in summaries)
    title = "dnnimprove: the classic studies" + (" (SMOKE TEST)" if smoke else "")
    body = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Written by <code>dnnimprove study</code>: one section per study with its table, its checks of the "
        "course's conclusions, its figures and a two-line reading.</p>",
        '<nav><a href="#summary">summary</a> '
        + " ".join(f'<a href="#{html.escape(s["study"])}">{html.escape(s["study"])}</a>' for s in summaries) + "</nav>",
        _summary(summaries),
    ]
    body += [_section(summary) for summary in summaries]
    body.append("</body></html>")
    path = out / "index.html"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path
