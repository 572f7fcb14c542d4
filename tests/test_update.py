"""Update: `copier update` brings a newer template release into a project and loses nothing.

The scenario is built the way users live it, with real git: a template repository
tagged v1.0.0 (this template) and v2.0.0 (a fixture release on top of it that renames
a question with a migration and changes three files); a project rendered at v1.0.0,
committed, edited by its user, committed; then `copier update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import backends
from helpers import (
    REQUIRED_ANSWERS,
    commit_all,
    copier,
    copy_with_answers,
    edit,
    git,
    load_yaml,
    make_template_repo,
    make_venv,
    replace_in_files,
    run,
)

RENAME_MIGRATION = """
_migrations:
  - version: "2.0.0"
    when: "{{ _stage == 'before' }}"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path }}/migrations/rename_answer.py"
      - "{{ _copier_conf.answers_file }}"
      - release_environment
      - deploy_environment
"""

USER_MODULE = '"""Added by the user."""\n\n\ndef double(x: int) -> int:\n    return 2 * x\n'
USER_STEP = "      - name: Show pip\n        run: python -m pip --version\n"


def release_v2(template: Path) -> None:
    """The fixture's template release: a renamed question, and changes to three files."""
    replace_in_files(template, "release_environment", "deploy_environment")
    # org.yml's keys never change (forks edit that file): the renamed question still reads its old key.
    edit(template / "copier.yml", "org.deploy_environment", "org.release_environment")
    edit(template / "copier.yml", "_migrations:\n", RENAME_MIGRATION.strip() + "\n")
    edit(template / "template/.github/workflows/test.yml.jinja", "timeout-minutes: 15", "timeout-minutes: 20")
    edit(template / "template/pyproject.toml.jinja", 'minversion = "8.0"', 'minversion = "8.3"')
    with (template / "template/README.md.jinja").open("a") as f:
        f.write("\n## Contributing\n\nIssues and pull requests are welcome.\n")
    commit_all(template, "release 2.0.0")
    git(template, "tag", "v2.0.0")


def user_edits(project: Path) -> None:
    """What users do to their projects between updates."""
    (project / "src/acme_widgets/extra.py").write_text(USER_MODULE)
    edit(project / "README.md", "## Install\n", "Widgets for every occasion.\n\n## Install\n")
    edit(project / "pyproject.toml", "dependencies = []", 'dependencies = ["attrs>=23"]')
    with (project / ".github/workflows/test.yml").open("a") as f:
        f.write(USER_STEP)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_template_repo(tmp_path_factory.mktemp("upstream") / "copier-python-lib")
    release_v2(repo)
    return repo


def render_v1(template: Path, dest: Path, *answers: str) -> Path:
    chosen = dict(answer.split("=", 1) for answer in answers)
    copy_with_answers(
        dest, {**REQUIRED_ANSWERS, "release_environment": "pypi", **chosen}, template, "--vcs-ref=v1.0.0"
    )
    run(["git", "init", "-q", dest])
    commit_all(dest, "Start from the template")
    return dest


@pytest.fixture(scope="module", params=list(backends.BACKENDS))
def updated(request: pytest.FixtureRequest, template: Path, tmp_path_factory: pytest.TempPathFactory):
    """A v1.0.0 project with user edits, updated to v2.0.0; returns (project, copier's output)."""
    project = render_v1(
        template, tmp_path_factory.mktemp("user") / "acme-widgets", f"build_backend={request.param}"
    )
    user_edits(project)
    commit_all(project, "User's own work")
    done = copier("update", "--trust", "--defaults", cwd=project)
    return project, done.stdout + done.stderr


def test_update_applies_the_template_changes(updated) -> None:
    project, _ = updated
    assert "timeout-minutes: 20" in (project / ".github/workflows/test.yml").read_text()
    assert 'minversion = "8.3"' in (project / "pyproject.toml").read_text()
    assert "## Contributing" in (project / "README.md").read_text()
    assert load_yaml(project / ".copier-answers.yml")["_commit"] == "v2.0.0"


def test_update_keeps_every_user_edit(updated) -> None:
    project, _ = updated
    assert (project / "src/acme_widgets/extra.py").read_text() == USER_MODULE
    assert "Widgets for every occasion.\n\n## Install\n" in (project / "README.md").read_text()
    assert 'dependencies = ["attrs>=23"]' in (project / "pyproject.toml").read_text()
    assert USER_STEP in (project / ".github/workflows/test.yml").read_text()


def test_update_leaves_no_conflict_where_changes_do_not_overlap(updated) -> None:
    project, _ = updated
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert not path.name.endswith(".rej"), path
            assert "<<<<<<<" not in path.read_text(errors="replace"), path


def test_renamed_question_keeps_its_answer(updated) -> None:
    project, output = updated
    answers = load_yaml(project / ".copier-answers.yml")
    assert answers["deploy_environment"] == "pypi"
    assert "release_environment" not in answers
    publish = load_yaml(project / ".github/workflows/publish.yml")
    assert publish["jobs"]["publish"]["environment"]["name"] == "pypi"
    assert (
        output.count("migration rename_answer: answer release_environment: 'pypi' is now deploy_environment")
        == 1
    )


def test_second_update_is_a_no_op(updated) -> None:
    project, _ = updated
    commit_all(project, "Update to template 2.0.0")
    head = git(project, "rev-parse", "HEAD")
    done = copier("update", "--trust", "--defaults", cwd=project)
    assert "migration" not in done.stdout + done.stderr
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD") == head


@pytest.mark.slow
def test_project_tests_pass_after_the_update(updated) -> None:
    project, _ = updated
    python = make_venv(project.parent / "venv")
    run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", ".[test]"], cwd=project)
    run([python, "-m", "pytest", "-p", "no:cacheprovider"], cwd=project)
    run([python, "-c", "from acme_widgets.extra import double; assert double(2) == 4"])


def test_overlapping_changes_show_an_inline_conflict(template: Path, tmp_path: Path) -> None:
    project = render_v1(template, tmp_path / "acme-widgets")
    edit(project / ".github/workflows/test.yml", "timeout-minutes: 15", "timeout-minutes: 30")
    commit_all(project, "User raises the timeout")
    copier("update", "--trust", "--defaults", cwd=project)
    text = (project / ".github/workflows/test.yml").read_text()
    assert "<<<<<<<" in text
    assert ">>>>>>>" in text
    assert "timeout-minutes: 30" in text  # the user's line
    assert "timeout-minutes: 20" in text  # the template's line
    assert "test.yml" in git(project, "diff", "--name-only", "--diff-filter=U") + git(
        project, "status", "--short"
    )


def test_update_refuses_a_dirty_tree(template: Path, tmp_path: Path) -> None:
    project = render_v1(template, tmp_path / "acme-widgets")
    edit(project / "README.md", "## Install", "## Installation")
    done = copier("update", "--trust", "--defaults", cwd=project, check=False)
    assert done.returncode != 0
    assert "dirty" in (done.stdout + done.stderr).lower()
    assert "## Installation" in (project / "README.md").read_text()
    assert load_yaml(project / ".copier-answers.yml")["_commit"] == "v1.0.0"


def test_update_pretend_changes_nothing(template: Path, tmp_path: Path) -> None:
    project = render_v1(template, tmp_path / "acme-widgets")
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file() and ".git" not in p.parts}
    copier("update", "--trust", "--defaults", "--pretend", cwd=project)
    after = {p: p.read_bytes() for p in project.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before
    assert git(project, "status", "--porcelain") == ""


def test_migration_refuses_conflicting_answers_and_changes_nothing(template: Path, tmp_path: Path) -> None:
    project = render_v1(template, tmp_path / "acme-widgets")
    answers_file = project / ".copier-answers.yml"
    answers_file.write_text(answers_file.read_text() + "deploy_environment: other\n")
    commit_all(project, "Hand-edited answers")
    before = answers_file.read_text()
    done = copier("update", "--trust", "--defaults", cwd=project, check=False)
    assert done.returncode != 0
    assert "both release_environment: 'pypi' and deploy_environment: 'other'" in done.stderr
    assert answers_file.read_text() == before
    assert git(project, "status", "--porcelain") == ""


def test_template_repo_copy_is_faithful(template: Path) -> None:
    # The fixture starts from this very template: v1.0.0 holds the same copier.yml.
    from helpers import TEMPLATE_DIR

    v1 = git(template, "show", "v1.0.0:copier.yml")
    assert v1 == (TEMPLATE_DIR / "copier.yml").read_text()
