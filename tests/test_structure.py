"""The template's own code: one package, one loader, one plan per run.

Copier is run in this process (its Python API, as pytest-copie does) so that the modules it
loads can be looked at afterwards: which ones a render imported, and how many plans the
retrofit made. The task that writes a retrofit runs in its own process; it is counted by
calling its engine directly.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import copier
import pytest

from extensions.pins import uses
from extensions.retrofit import upgrade as upgrade_module
from helpers import TEMPLATE_DIR, commit_all, copy_in_process, existing_project, git, make_template_repo

# Copier runs in this process here: copier 9.10.0 (the oldest supported, CI's second leg) calls
# a pathspec API that is deprecated and leaves a directory iterator open; neither is ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:GitWildMatchPattern:DeprecationWarning",
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


LOADER = TEMPLATE_DIR / "extensions" / "load.py"
BY_PATH = {"spec_from_file_location", "module_from_spec", "run_path", "run_module"}


def _own_modules() -> list[Path]:
    return sorted(p for folder in ("extensions", "migrations") for p in (TEMPLATE_DIR / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _own_modules(), ids=lambda p: str(p.relative_to(TEMPLATE_DIR)))
def test_only_the_loader_loads_by_path_or_edits_sys_path(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            sys_path = node.attr == "path" and isinstance(node.value, ast.Name) and node.value.id == "sys"
            if node.attr in BY_PATH or sys_path:
                found.add(node.attr)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "importlib.util":
            found.add("importlib.util")
    if path == LOADER:
        assert found  # the one place that does: if this moves, move the test's LOADER too
    else:
        assert not found, f"{path.name} loads modules by path or edits sys.path: {found}"


def _loaded(before: set[str]) -> set[str]:
    """The template's modules copier loaded since ``before`` (named after their package)."""
    return {name for name in sys.modules if name.startswith("copier_python_lib_") and name not in before}


def test_a_new_project_imports_nothing_of_the_retrofit(template: Path, tmp_path: Path) -> None:
    before = set(sys.modules)
    copy_in_process(template, tmp_path / "new", "HEAD")
    loaded = _loaded(before)
    assert any(name.endswith(".context") for name in loaded)  # the package was loaded at all
    assert not [name for name in loaded if ".retrofit" in name]


def test_an_update_of_a_new_project_imports_nothing_of_the_retrofit(template: Path, tmp_path: Path) -> None:
    """On update, ``retrofit`` is the recorded answer: a project made as a new one is updated
    (its old and new version rendered too) without reading anything through the retrofit."""
    project = tmp_path / "new"
    copy_in_process(template, project, "HEAD")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Start")
    (project / "README.md").write_text("Mine.\n", encoding="utf-8")
    git(project, "commit", "-q", "-am", "The owner's README")
    before = set(sys.modules)
    copier.run_update(str(project), defaults=True, unsafe=True, quiet=True, overwrite=True, vcs_ref="HEAD")
    loaded = _loaded(before)
    assert any(name.endswith(".context") for name in loaded)  # the update's renders loaded the package
    assert not [name for name in loaded if ".retrofit" in name]
    assert (project / "README.md").read_text(encoding="utf-8") == "Mine.\n"


def _compiled_partials() -> set[tuple[object, ...]]:
    """The files of partials/ whose code the process holds (compiled.py's store)."""
    codes = sys.modules["copier_python_lib_compiled"].codes
    return {key for key in codes if key[0] == "file" and str(key[2]).startswith("partials/")}


def test_only_an_upgraded_project_compiles_the_retrofits_partial(tmp_path: Path) -> None:
    """RELEASING.md imports the retrofit's paragraphs (partials/) only for an upgraded project:
    a new project's render does not compile them. The partial is made unique to this test, so
    that another test's render in this process cannot have compiled it already."""
    template = make_template_repo(tmp_path / "template")
    with (template / "partials" / "RELEASING-upgrade.md.jinja").open("a", encoding="utf-8") as f:
        f.write(f"{{# {tmp_path} #}}\n")
    commit_all(template, "A partial of this test's own")
    copy_in_process(template, tmp_path / "new", "HEAD")
    assert "pending publisher" in (tmp_path / "new" / "RELEASING.md").read_text(encoding="utf-8")
    before = _compiled_partials()
    project = existing_project("twine-release-setuppy", tmp_path / "project")
    copier.run_copy(str(template), project, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    assert "Register the trusted publisher" in (project / "RELEASING.md").read_text(encoding="utf-8")
    assert len(_compiled_partials() - before) == 1


def test_a_retrofit_plans_once_in_copiers_process(template: Path, tmp_path: Path) -> None:
    """The retrofit question's default, its validator and the after-copy message share one plan
    (they made up to five before the plan was kept for the run)."""
    project = existing_project("twine-release-setuppy", tmp_path / "project")
    before = set(sys.modules)
    copier.run_copy(str(template), project, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    assert "Trusted Publishing" in git(project, "diff", "HEAD")  # the retrofit ran, task included
    planners = [sys.modules[name] for name in _loaded(before) if name.endswith(".retrofit.upgrade")]
    assert len(planners) == 1
    assert planners[0].plans_made == 1
    # One door: the questions, the files and the message read one record of the destination.
    [door] = [sys.modules[name] for name in _loaded(before) if name.endswith(".destination")]
    records = [record for _, record in door._RUNS.values() if record.path == project]
    assert len(records) == 1 and records[0].existing and records[0].default_mode == "upgrade"


def test_the_retrofit_task_plans_once(tmp_path: Path) -> None:
    """The task checks everything the question checked, then plans with the answers: one plan."""
    project = existing_project("twine-release-setuppy", tmp_path / "project")
    made = upgrade_module.plans_made
    [plan] = upgrade_module.upgrade(
        project, environment="release", project_name="acme", uses=lambda action: uses(action, True)
    )
    assert "id-token: write" in plan.text
    assert upgrade_module.plans_made == made + 1
