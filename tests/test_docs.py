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
