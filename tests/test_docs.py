"""The user documentation runs as written and links only to what exists.

Every fenced ```python block of README.md and docs/**/*.md is executed: the blocks of one page run in
order in one namespace (as a reader pastes them), in a scratch directory, with matplotlib on Agg; a block
that raises fails its page's test, naming the block's first line. Every relative link (Markdown links and
images, HTML ``href``/``src``) must name a file of the repository, and a ``#fragment`` into a Markdown
page must name one of its headings.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]) if (ROOT / "docs").is_dir() else [ROOT / "README.md"]

OPTIONAL_EXTRAS = {"dask", "distributed", "optuna", "sqlalchemy", "torch", "onnx", "onnxruntime", "tensorboard",
                   "mlflow", "pandas", "pyarrow", "numba"}
"""Packages of the optional extras: a page whose block needs one that is missing is skipped, not failed."""

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\n`]*)$")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["'](?P<target>[^"']+)["']""")


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def fenced_blocks(text: str) -> list[tuple[str, int, str]]:
    """``(language, first line number, code)`` of every fenced block of a Markdown text."""
    blocks = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        fence = match["fence"]
        language = match["info"].strip().split(" ")[0].lower() if match["info"].strip() else ""
        start = index + 1
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            index += 1
        blocks.append((language, start + 1, "\n".join(lines[start:index])))
        index += 1
    return blocks


def python_blocks(page: Path) -> list[tuple[int, str]]:
    return [(line, code) for language, line, code in fenced_blocks(page.read_text(encoding="utf-8")) if language in ("python", "py")]


def prose(text: str) -> str:
    """The text outside fenced blocks and inline code spans (where links are links)."""
    kept = []
    inside = None
    for line in text.splitlines():
        match = _FENCE.match(line)
        if inside is None and match:
            inside = match["fence"]
            continue
        if inside is not None:
            if line.strip().startswith(inside):
                inside = None
            continue
        kept.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def slug(heading: str) -> str:
    """The anchor Python-Markdown's ``toc`` extension (MkDocs) and GitHub give a heading."""
    text = re.sub(r"<[^>]+>", "", heading)
    text = re.sub(r"[`*_]", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return re.sub(r"[\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    found = set()
    for line in prose(page.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            found.add(slug(heading[1]))
        found.update(re.findall(r"""\bid=["']([^"']+)["']""", line))
    return found


def relative_links(page: Path) -> list[str]:
    text = prose(page.read_text(encoding="utf-8"))
    targets = [match["target"] for match in _LINK.finditer(text)] + [match["target"] for match in _HTML_LINK.finditer(text)]
    return [target for target in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)]


def broken_links(page: Path) -> list[str]:
    """Every relative link of ``page`` that names no file, or no heading of the page it names."""
    broken = []
    for target in relative_links(page):
        path_part, _, fragment = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if path_part.startswith("/") or not destination.exists():
            broken.append(f"{target} (no such file)")
            continue
        if destination.is_dir() and (destination / "index.md").exists():
            destination = destination / "index.md"
        if fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"{target} (no heading #{fragment} in {destination.name})")
    return broken


# -- the pages run as written ------------------------------------------------------------------------------
def test_every_page_is_found():
    assert (ROOT / "README.md").exists()
    assert len(PAGES) >= 2, "the docs/ folder is missing"


@pytest.mark.parametrize("page", PAGES, ids=_relative)
def test_python_blocks_run_as_written(page, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for line, code in python_blocks(page):
        try:
            exec(compile(code, f"{_relative(page)}:{line}", "exec"), namespace)
        except ModuleNotFoundError as error:
            if (error.name or "").split(".")[0] not in OPTIONAL_EXTRAS:
                raise
            pytest.skip(f"{_relative(page)} needs the optional package {error.name!r} (block at line {line})")
        except Exception:
            first = code.strip().splitlines()[0] if code.strip() else ""
            pytest.fail(f"{_relative(page)}, block at line {line} ({first!r}) raised:\n{traceback.format_exc(limit=-3)}")


def test_the_readme_and_the_docs_hold_python_blocks():
    counts = {_relative(page): len(python_blocks(page)) for page in PAGES}
    assert counts["README.md"] >= 1
    assert sum(counts.values()) >= 10, counts


def test_a_raising_block_fails_its_page(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```python\nx = 1\n```\n\n```python\nraise ValueError(x)\n```\n", encoding="utf-8")
    blocks = python_blocks(page)
    assert [line for line, _ in blocks] == [4, 8]
    namespace: dict = {}
    exec(compile(blocks[0][1], "block", "exec"), namespace)
    with pytest.raises(ValueError, match="1"):
        exec(compile(blocks[1][1], "block", "exec"), namespace)


# -- the links resolve -------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES, ids=_relative)
def test_relative_links_resolve(page):
    assert broken_links(page) == []


def test_a_broken_link_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# A heading\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md) [ok](other.md#a-heading) [web](https://example.org/x) `[code](missing.md)`\n"
        "[missing](missing.md) [anchor](other.md#nowhere) ![img](fig.png) <a href=\"gone.html\">x</a>\n"
        "```bash\n[in a block](missing.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "missing.md (no such file)",
        "other.md#nowhere (no heading #nowhere in other.md)",
        "fig.png (no such file)",
        "gone.html (no such file)",
    ]


def test_heading_slugs_follow_mkdocs():
    assert slug("The `dnnimprove` command") == "the-dnnimprove-command"
    assert slug("Regularization, batch normalization and diagnosis") == "regularization-batch-normalization-and-diagnosis"
    assert slug("L2 (weight decay)") == "l2-weight-decay"


# -- the README's commands and CI agree; the site builds -------------------------------------------------
def _extras(command: str) -> set[str]:
    match = re.search(r"""pip install -q ["']\.\[([^\]]*)\]["']|pip install ["']\.\[([^\]]*)\]["']""", command)
    assert match, f"no pip install of the package's extras in {command!r}"
    return set(filter(None, (match[1] or match[2]).split(",")))


def test_the_readme_opens_with_two_commands_that_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = next(code for language, _, code in fenced_blocks(readme) if language in ("bash", "sh", "console"))
    commands = [line.split("  #")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert len(commands) == 2, commands
    assert "dnnimprove study all" in commands[0]
    assert commands[1].endswith("python3 -m pytest -q")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_install = next(line for line in ci.splitlines() if "pip install" in line and ".[" in line)
    assert _extras(commands[1]) == _extras(ci_install), (
        "the README's test command and .ci/run must install the same extras: "
        f"README {sorted(_extras(commands[1]))}, .ci/run {sorted(_extras(ci_install))}"
    )
    assert "python3 -m pytest -q" in ci


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


def test_the_site_builds_without_warnings(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    warnings = [line for line in result.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert result.returncode == 0 and not warnings, "\n".join(warnings) or result.stderr[-3000:]
    assert (tmp_path / "site" / "conventions" / "index.html").exists()
    conventions = (tmp_path / "site" / "conventions" / "index.html").read_text(encoding="utf-8")
    assert "torch.optim.SGD" in conventions and "conventions-table" not in conventions


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
