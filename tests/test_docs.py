"""The template's own documentation site: its tables cannot drift from what they describe, and
it builds strictly (a broken link or anchor fails)."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from helpers import TEMPLATE_DIR, load_yaml, run

DOCS = TEMPLATE_DIR / "docs"
README = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")


def first_column(page: str, heading: str) -> list[str]:
    """The backquoted first cell of each row of the table under ``## heading`` in ``page``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE)


def shown(path: str) -> str:
    """A file of template/ as a project gets it: conditions gone, answers named, no .jinja."""
    path = re.sub(r"\{%[^%]*%\}", "", path).removesuffix(".jinja")
    path = path.replace("{{_copier_conf.answers_file}}", ".copier-answers.yml")
    return path.replace("{{import_name}}", "<import_name>")


def test_the_reference_lists_every_question_once() -> None:
    questions = [key for key in load_yaml(TEMPLATE_DIR / "copier.yml") if not key.startswith("_")]
    listed = first_column("reference.md", "Answers")
    assert sorted(listed) == sorted(questions)


def answers_rows() -> dict[str, list[str]]:
    """The reference's answers table: question -> its cells (what it sets, default, rules)."""
    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    section = text.split("\n## Answers\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if match := re.match(r"^\| `([^`]+)` \| (.*) \|$", line):
            rows[match.group(1)] = match.group(2).split(" | ")
    return rows


def test_the_references_choices_and_defaults_are_copier_ymls() -> None:
    """Each choice question's row names every value copier.yml offers, and the default a new
    project gets (org.yml's, the one file a fork edits), so the page cannot drift from the form."""
    config = load_yaml(TEMPLATE_DIR / "copier.yml")
    org = load_yaml(TEMPLATE_DIR / "org.yml")
    rows = answers_rows()
    for question, spec in config.items():
        if question.startswith("_") or not isinstance(spec, dict) or "choices" not in spec:
            continue
        values = [c["value"] if isinstance(c, dict) else c for c in spec["choices"].values()]
        _, default, rules = rows[question]
        for value in values if question != "retrofit" else []:
            assert f"`{value}`" in rules, (question, value)
        if question in org and org[question] not in (None, ""):
            assert f"`{org[question]}`" in default, (question, org[question], default)
    for question in (
        "dependency_audit",
        "community",
        "pypy",
        "lowest_dependencies",
        "testpypi",
        "attestations",
        "pin_actions",
        "update_notice",
        "update_pull_request",
    ):
        _, default, _ = rows[question]
        assert default.startswith("yes" if org[question] else "no"), (question, default)


def test_the_speed_table_is_the_benchmarks_last_results() -> None:
    """docs/maintaining.md shows the figures benchmarks/run.py last wrote, row for row."""

    def rows(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("| ") and " s |" in line]

    results = rows((TEMPLATE_DIR / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8"))
    page = (DOCS / "maintaining.md").read_text(encoding="utf-8").split("\n### Speed\n", 1)[1]
    assert results and rows(page)[: len(results)] == results


def test_the_reference_lists_every_file_once() -> None:
    root = TEMPLATE_DIR / "template"
    files = [shown(str(p.relative_to(root))) for p in root.rglob("*") if p.is_file()]
    listed = first_column("reference.md", "Files")
    assert sorted(listed) == sorted(files)


def test_the_reference_lists_every_workflow_once() -> None:
    folder = TEMPLATE_DIR / "template" / ".github" / "workflows"
    workflows = [shown(p.name) for p in folder.iterdir()]
    assert sorted(first_column("reference.md", "Workflows")) == sorted(workflows)


def test_the_maintainers_page_lists_every_test_file_once() -> None:
    tests = [p.name for p in (TEMPLATE_DIR / "tests").glob("test_*.py")]
    text = (DOCS / "maintaining.md").read_text(encoding="utf-8")
    section = text.split("\n### The tests\n", 1)[1].split("\n### ", 1)[0]
    assert sorted(re.findall(r"^\| `(test_\w+\.py)` \|", section, re.MULTILINE)) == sorted(tests)


def test_the_start_page_gives_the_readmes_commands() -> None:
    def commands(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith(("python -m pip", "uvx ", "pipx "))]

    assert commands(README) and commands((DOCS / "index.md").read_text(encoding="utf-8")) == commands(README)


def test_every_page_is_linked_from_the_readme() -> None:
    for page in DOCS.glob("*.md"):
        assert f"(docs/{page.name})" in README, page.name


def mkdocs(root: Path, site: Path) -> str:
    done = run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", site], cwd=root, check=False
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    assert mkdocs(TEMPLATE_DIR, tmp_path / "site") == ""


@pytest.mark.parametrize(
    "broken",
    ["[the updates](update.md)", "[a question](reference.md#no-such-heading)"],
    ids=["page", "anchor"],
)
def test_a_broken_link_fails_the_build(tmp_path: Path, broken: str) -> None:
    root = tmp_path / "repo"
    shutil.copytree(DOCS, root / "docs")
    shutil.copy(TEMPLATE_DIR / "mkdocs.yml", root)
    page = root / "docs" / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + f"\nSee {broken}.\n", encoding="utf-8")
    assert "Aborted with" in mkdocs(root, tmp_path / "site")
