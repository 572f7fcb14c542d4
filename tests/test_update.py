"""Update: `copier update` brings a newer template release into a project and loses nothing.

The scenario is built the way users live it, with real git: a template repository
tagged v1.0.0 (this template) and v2.0.0 (a fixture release on top of it that renames
a question with a migration and changes three files); a project rendered at v1.0.0,
committed, edited by its user, committed; then `copier update`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from extensions import backends
from helpers import (
    RELEASE_1_1_0,
    REQUIRED_ANSWERS,
    TEMPLATE_DIR,
    commit_all,
    copier,
    copy_with_answers,
    edit,
    git,
    install_into,
    load_yaml,
    make_template_repo,
    make_venv,
    replace_in_files,
    run,
    template_at,
    workflow,
)

RENAME_MIGRATION = """
_migrations:
  - version: "2.0.0"
    when: "{{ _stage == 'before' }}"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path }}/extensions/load.py"
      - rename_answer
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
    edit(template / "copier.yml", "org['deploy_environment']", "org['release_environment']")
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
    assert "copier-python-lib migration" not in done.stdout + done.stderr  # no migration changed anything
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD") == head


@pytest.mark.slow
def test_project_tests_pass_after_the_update(updated) -> None:
    project, _ = updated
    python = make_venv(project.parent / "venv")
    install_into(python, "-e", ".[test]", cwd=project)
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


# --- from real earlier releases of this template ------------------------------------------------
#
# A project made from any earlier release must update to this one without losing anything.
# Until the first tag these are named commits of main (add each release tag here).
RELEASE_POINTS = {
    "3454f8d": "first commit that renders",
    "35d448d": "release pipeline: uv or pip, TestPyPI",
    "32eb8ab": "retrofit added",
    "b468d2c": "main on 2026-11-25 (the 1.0.0 candidate)",
    RELEASE_1_1_0: "release 1.1.0, the newest a project can be on",
}
HISTORY_EDITS = {
    "README.md": ("## Install\n", "Widgets for every occasion.\n\n## Install\n"),
    "pyproject.toml": ("dependencies = []", 'dependencies = ["attrs>=23"]'),
    "src/acme_widgets/__init__.py": ("\n\nfrom importlib", "\n\nEDITED_BY_THE_USER = True\n\nfrom importlib"),
}
DELETED = "CHANGELOG.md"
# A file the user made that a later release of the template also renders: the user's stays.
OWN_FILES = {
    ".github/release.yml": "changelog:\n  categories:\n    - title: Everything\n      labels: ['*']\n"
}


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


@pytest.fixture(scope="module", params=list(RELEASE_POINTS))
def updated_from_history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A project made at an earlier release, edited by its user, updated to the template under test.
    Returns (project, what the old and the new release render without edits, copier's output)."""
    root = tmp_path_factory.mktemp(f"history-{request.param}")
    template = template_at(request.param, root / "template")
    renders = {}
    # A project that updates into the free-threaded job gets it as allowed to fail (its code
    # was never tested free-threaded), and no community files it did not choose; a new project
    # gets the job as required and the files. A question the release already asked keeps the
    # project's answer.
    asked = set(
        re.findall(r"^(\w+):", git(TEMPLATE_DIR, "show", f"{request.param}:copier.yml"), re.MULTILINE)
    )
    grown = {
        key: value
        for key, value in {
            "free_threading": "allowed-to-fail",
            "community": "false",
            "changelog": "by-hand",
            "lowest_dependencies": "false",
        }.items()
        if key not in asked
    }
    for ref in ("v0.1.0", "v0.2.0"):
        plain = root / f"plain-{ref}" / "acme-widgets"
        answers = {**REQUIRED_ANSWERS, **(grown if ref == "v0.2.0" else {})}
        copy_with_answers(plain, answers, template, f"--vcs-ref={ref}")
        renders[ref] = tree(plain)
    project = root / "acme-widgets"
    copy_with_answers(project, REQUIRED_ANSWERS, template, "--vcs-ref=v0.1.0")
    run(["git", "init", "-q", project])
    commit_all(project, "Start")
    for name, (old, new) in HISTORY_EDITS.items():
        edit(project / name, old, new)
    (project / DELETED).unlink()
    for name, text in OWN_FILES.items():
        (project / name).write_text(text)
    commit_all(project, "The user's own work")
    done = copier("update", "--trust", "--defaults", cwd=project)
    return project, renders, done.stdout + done.stderr


def test_update_from_an_earlier_release_keeps_every_edit(updated_from_history) -> None:
    project, _, _ = updated_from_history
    for name, (_, new) in HISTORY_EDITS.items():
        assert new in (project / name).read_text(), name
    assert not (project / DELETED).exists()
    for name, text in OWN_FILES.items():
        assert (project / name).read_text() == text, name
    assert load_yaml(project / ".copier-answers.yml")["_commit"] == "v0.2.0"
    # Community files are for new projects: an update does not add a code of conduct that
    # names someone to report to without asking.
    assert not (project / "CODE_OF_CONDUCT.md").exists()
    assert not (project / ".github" / "ISSUE_TEMPLATE").exists()
    # Nor a test job it did not choose, which its lower bounds may never have passed.
    assert "lowest" not in load_yaml(project / ".github/workflows/test.yml")["jobs"]


def test_update_from_an_earlier_release_conflicts_only_where_both_changed(updated_from_history) -> None:
    """Every file the user did not touch is exactly what the new release renders; each file the
    user edited is exactly the new release's with the user's edit, merged without conflict. So
    the project is the same whichever release it came from."""
    project, renders, _ = updated_from_history
    new = renders["v0.2.0"]
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    after = tree(project)
    for name in sorted(set(new) | set(after)):
        if name in HISTORY_EDITS:
            old_text, new_text = HISTORY_EDITS[name]
            expected = new[name].decode().replace(old_text, new_text, 1)
            assert after[name].decode() == expected, f"{name}: not the new release's with the user's edit"
        elif name not in (DELETED, *OWN_FILES):
            assert after.get(name) == new.get(name), f"{name}: not what the new release renders"


def test_update_from_an_earlier_release_brings_the_new_ci_jobs(updated_from_history) -> None:
    """The checks, coverage and free-threaded jobs arrive with the update (without conflicts:
    the test above); the free-threaded one may fail where the project did not choose it, and
    the package claims nothing new."""
    project, renders, _ = updated_from_history
    jobs = workflow(project, "test.yml")["jobs"]
    assert {"checks", "test", "coverage", "free-threaded"} <= set(jobs)
    answers = load_yaml(project / ".copier-answers.yml")
    # Allowed to fail for a project from before the question; else the project's own answer.
    before = yaml.safe_load(renders["v0.1.0"][".copier-answers.yml"])
    assert answers["free_threading"] == before.get("free_threading", "allowed-to-fail")
    assert jobs["free-threaded"].get("continue-on-error", False) is (
        answers["free_threading"] == "allowed-to-fail"
    )
    # Documentation, versions from git and a command line are opt-in: it keeps its shape.
    assert (answers["docs"], answers["versioning"], answers["cli"]) == ("none", "static", "none")
    assert not (project / "mkdocs.yml").exists()
    assert 'version = "0.1.0"' in (project / "pyproject.toml").read_text()
    # The package claims free-threading only if it did before.
    claimed = b"Free Threading" in renders["v0.1.0"]["pyproject.toml"]
    assert ("Free Threading" in (project / "pyproject.toml").read_text()) is claimed


@pytest.mark.slow
# From the oldest point only: the test above holds every point's updated project to the same
# files (the new release's render with the user's edits), so the others would run these
# tests again on the same project.
@pytest.mark.parametrize("updated_from_history", [next(iter(RELEASE_POINTS))], indirect=True)
def test_update_from_an_earlier_release_still_passes_its_tests(updated_from_history) -> None:
    project, _, _ = updated_from_history
    python = make_venv(project.parent / "venv")
    install_into(python, "-e", ".[test]", cwd=project)
    run([python, "-m", "pytest", "-p", "no:cacheprovider"], cwd=project)


def test_every_answer_read_by_a_path_setting_has_a_default() -> None:
    """The rule the history tests above enforce, for questions not released yet: copier renders
    a project's old version with these patterns and its old answers, which may lack the answer."""
    config = load_yaml(TEMPLATE_DIR / "copier.yml")
    questions = {k for k in config if not k.startswith("_")}
    for pattern in [*config["_exclude"], *config["_skip_if_exists"]]:
        for name in set(re.findall(r"\b([a-z_]+)\b", pattern)) & questions:
            assert re.search(rf"\b{name} \| default\(", pattern), pattern


def test_no_skip_if_exists_pattern_starts_with_a_slash() -> None:
    """Copier before 9.12 matches no anchored `_skip_if_exists` pattern while updating: the
    template's file is merged into the project's own with conflict markers (test_nothing_lost's
    case 3 shows it on CI's oldest leg). A slash inside a pattern anchors it all the same."""
    import jinja2

    from migrations.keep_own import KEPT

    config = load_yaml(TEMPLATE_DIR / "copier.yml")
    for retrofit in ("no", "add", "upgrade"):
        for pattern in config["_skip_if_exists"]:
            rendered = jinja2.Environment().from_string(pattern).render(retrofit=retrofit)
            assert not rendered.startswith("/"), (retrofit, pattern)
    # Copier before 9.12 leaves a templated pattern unrendered while updating: the migration
    # keeps exactly the files of the retrofit-only patterns.
    retrofit_only = [
        jinja2.Environment().from_string(pattern).render(retrofit="add")
        for pattern in config["_skip_if_exists"]
        if "{%" in pattern
    ]
    assert retrofit_only == list(KEPT)


@pytest.mark.parametrize("answer", ["retrofit=upgrade", "retrofit=add"])
def test_update_refuses_to_change_how_the_project_was_made(tmp_path: Path, answer: str) -> None:
    """`retrofit` is a fact about the project, not a preference: changing it would drop every
    file the template made from the merge (copier once deleted 13 files here, with exit 0)."""
    template = make_template_repo(tmp_path / "template", tag="v1.0.0")
    project = render_v1(template, tmp_path / "acme-widgets")
    with (template / "template/README.md.jinja").open("a") as f:
        f.write("\nA line from release 1.1.0.\n")
    commit_all(template, "release 1.1.0")
    git(template, "tag", "v1.1.0")
    before = tree(project)
    done = copier("update", "--trust", "--defaults", "-d", answer, cwd=project, check=False)
    assert done.returncode != 0
    assert "retrofit is how this project was made" in done.stderr
    assert "Traceback" not in done.stderr
    assert tree(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_messages_say_what_each_update_mode_did(template: Path, tmp_path: Path) -> None:
    project = render_v1(template, tmp_path / "acme-widgets")
    edit(project / ".github/workflows/test.yml", "timeout-minutes: 15", "timeout-minutes: 30")
    commit_all(project, "User raises the timeout")
    pretend = copier("update", "--trust", "--defaults", "--pretend", cwd=project)
    said = pretend.stdout + pretend.stderr
    assert "--pretend: nothing was changed" in said
    assert "is updated" not in said
    rej = copier("update", "--trust", "--defaults", "--conflict", "rej", cwd=project)
    said = rej.stdout + rej.stderr
    assert "`.rej` file beside it" in said
    assert "<<<<<<<" not in said
    assert (project / ".github/workflows/test.yml.rej").is_file()


def test_a_trusted_prefix_replaces_the_trust_flag_and_refuses_other_sources(tmp_path: Path) -> None:
    """The README's safer update: trust this template's location once in copier's settings,
    update without --trust; an answers file edited to point at another template is refused."""
    template = make_template_repo(tmp_path / "trusted" / "copier-python-lib", tag="v1.0.0")
    project = render_v1(template, tmp_path / "acme-widgets")
    settings = tmp_path / "settings.yml"
    settings.write_text(f"trust:\n  - {template.parent.as_posix()}/\n")
    env = {"COPIER_SETTINGS_PATH": str(settings)}
    done = run([sys.executable, "-m", "copier", "update", "--defaults"], cwd=project, env=env)
    assert done.returncode == 0
    elsewhere = make_template_repo(tmp_path / "elsewhere" / "copier-python-lib", tag="v1.0.0")
    edit(project / ".copier-answers.yml", f"_src_path: {template}", f"_src_path: {elsewhere}")
    commit_all(project, "Someone points the answers at another template")
    refused = run([sys.executable, "-m", "copier", "update", "--defaults"], cwd=project, env=env, check=False)
    assert refused.returncode != 0
    assert "unsafe" in (refused.stdout + refused.stderr).lower()
