"""Nothing a user wrote is lost, on every way in: a custom answers file, an answer change on
update, the oldest copier, untracked work, hostile or mistyped answers.

Each test is named after the case of issue 21 it guards, and failed before its fix. Real
copier and git throughout: a template repository with a release tag, projects rendered and
committed, then the command a user types.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import (
    REQUIRED_ANSWERS,
    commit_all,
    copier,
    copy_with_answers,
    edit,
    existing_project,
    git,
    load_yaml,
    make_template_repo,
    refused,
    retrofit,
    run,
    snapshot,
    tool,
)

CUSTOM = ".copier-answers.pylib.yml"


# Where a project lives in its git repository: at the top, or in a subfolder of it (a
# repository that holds several things); every update case runs in both.
WHERE = ["top", "subfolder"]


def new_project(template: Path, dest: Path, *options: str, where: str = "top", **answers: str) -> Path:
    """A project rendered with the README's command (and ``options``), committed; with
    ``where="subfolder"`` the repository is two folders up and the project is ``packages/NAME``."""
    if where == "subfolder":
        repository = dest.parent / "repository"
        dest = repository / "packages" / dest.name
        run(["git", "init", "-q", repository])
    copy_with_answers(dest, {**REQUIRED_ANSWERS, **answers}, template, *options)
    if where == "top":
        run(["git", "init", "-q", dest])
    commit_all(dest, "Start from the template")
    return dest


def one_line_refusal(done) -> str:
    """Copier stopped with a plain message: no traceback, exit status not 0."""
    said = done.stdout + done.stderr
    assert done.returncode != 0, said
    assert "Traceback" not in said, said
    return " ".join(said.split())


# --- case 1: a custom answers file ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["add", "upgrade"])
def test_case_1_custom_answers_file_keeps_how_the_project_was_made(
    template: Path, tmp_path: Path, mode: str
) -> None:
    project = new_project(template, tmp_path / "acme-widgets", "-a", CUSTOM, cli="argparse")
    (project / "src/acme_widgets/extra.py").write_text("VALUE = 1\n")
    commit_all(project, "User's own module")
    before = snapshot(project)
    done = copier("update", "--trust", "--defaults", "-a", CUSTOM, f"-d retrofit={mode}".replace(" ", ""),
                  cwd=project, check=False)  # fmt: skip
    said = one_line_refusal(done)
    assert f"retrofit is how this project was made ('no', in {CUSTOM})" in said
    assert snapshot(project) == before
    assert git(project, "status", "--porcelain") == ""
    assert load_yaml(project / CUSTOM)["retrofit"] == "no"


@pytest.mark.parametrize("where", WHERE)
def test_case_1_custom_answers_file_update_still_works(template: Path, tmp_path: Path, where: str) -> None:
    project = new_project(template, tmp_path / "acme-widgets", "-a", CUSTOM, where=where)
    done = copier("update", "--trust", "--defaults", "-a", CUSTOM, cwd=project, check=False)
    assert done.returncode == 0, done.stderr
    assert (project / "pyproject.toml").is_file()


# --- case 2: an answer change never deletes what the user changed ----------------------------


@pytest.mark.parametrize(
    ("answers_file", "where"),
    [(None, "top"), (CUSTOM, "top"), (None, "subfolder")],
    ids=["default-answers", "custom-answers", "subfolder"],
)
def test_case_2_answer_change_keeps_the_users_edited_files(
    template: Path, tmp_path: Path, answers_file: str | None, where: str
) -> None:
    options = ("-a", answers_file) if answers_file else ()
    project = new_project(
        template, tmp_path / "acme-widgets", *options, where=where, cli="argparse", docs="mkdocs"
    )
    main = project / "src/acme_widgets/__main__.py"
    main.write_text(main.read_text() + "\n# The user's own line.\n")
    index = project / "docs/index.md"
    index.write_text(index.read_text() + "\nThe user's own paragraph.\n")
    commit_all(project, "User's edits")
    edited = {p: p.read_bytes() for p in (main, index)}
    done = copier(
        "update", "--trust", "--defaults", *options, "-d", "cli=none", "-d", "docs=none", cwd=project
    )
    for path, content in edited.items():
        assert path.read_bytes() == content, f"{path} was lost"
    said = done.stdout + done.stderr
    assert "kept src/acme_widgets/__main__.py: you changed it" in said
    assert "kept docs/index.md: you changed it" in said
    # What the user never touched goes, as the answers ask.
    assert not (project / "mkdocs.yml").exists()
    assert not (project / "tests/test_cli.py").exists()
    assert not (project / ".github/workflows/docs.yml").exists()


def test_a_new_project_in_a_subfolder_is_told_where_github_reads_workflows(
    template: Path, tmp_path: Path
) -> None:
    """Rendered inside an existing repository, the project is told that GitHub runs only the
    top's workflows, and is not told to `git init` a repository inside another."""
    run(["git", "init", "-q", tmp_path])
    done = copy_with_answers(tmp_path / "packages" / "acme-widgets", REQUIRED_ANSWERS, template)
    said = " ".join((done.stdout + done.stderr).split())
    assert f"This folder is inside the git repository {tmp_path.resolve()}" in said
    assert "git init" not in said


# --- case 3: retrofit=add and the owner's files of the template's names ------------------------


def project_without_publishing(dest: Path) -> Path:
    project = existing_project("twine-release-setuppy", dest)
    git(project, "rm", "-q", ".github/workflows/release.yml")
    commit_all(project, "No release workflow yet")
    return project


def test_case_3_add_refuses_the_owners_publish_yml_before_writing(template: Path, tmp_path: Path) -> None:
    project = project_without_publishing(tmp_path / "legacy")
    docs = project / ".github/workflows/publish.yml"
    docs.write_text("name: publish docs\non: push\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n"
                    "      - run: echo docs\n")  # fmt: skip
    commit_all(project, "A workflow of the owner's, named publish.yml")
    said = " ".join(refused(template, project).split())
    assert ".github/workflows/publish.yml exists and does not publish to PyPI" in said
    assert "--overwrite" not in said


def test_case_3_add_keeps_the_owners_zizmor_configuration(tmp_path: Path) -> None:
    """A fork whose org.yml leaves actions on tags renders its zizmor.yml (the policy that allows
    them) into an existing project too: the project's own zizmor.yml stays as it is."""
    fork = make_template_repo(tmp_path / "fork")
    edit(fork / "org.yml", "pin_actions: true", "pin_actions: false")
    commit_all(fork, "Actions on tags")
    project = project_without_publishing(tmp_path / "legacy")
    own = project / ".github/zizmor.yml"
    own.write_text("rules:\n  unpinned-uses:\n    disable: true\n")
    commit_all(project, "The owner's zizmor settings")
    done = copier("copy", "--trust", "--defaults", "--vcs-ref=HEAD", fork, ".", cwd=project)
    assert done.returncode == 0
    assert own.read_text() == "rules:\n  unpinned-uses:\n    disable: true\n"
    assert (project / ".github/workflows/publish.yml").is_file()


@pytest.mark.parametrize("answers_file", [None, CUSTOM], ids=["default-answers", "custom-answers"])
def test_case_3_the_owners_own_files_of_the_templates_names_stay_theirs_through_an_update(
    tmp_path: Path, answers_file: str | None
) -> None:
    """A retrofitted project's own Dependabot configuration and RELEASING.md are kept at the
    retrofit, and stay its own when a template release changes the template's: copier before
    9.12 (CI's oldest leg) matched no anchored `_skip_if_exists` pattern while updating, and
    merged the template's files into the owner's with conflict markers. With copier's default
    answers file, and with one of the project's choosing (`-a`), as a project that already has
    another template's answers file does."""
    options = ("-a", answers_file) if answers_file else ()
    template = make_template_repo(tmp_path / "template", tag="v1.0.0")
    project = existing_project("twine-release-setuppy", tmp_path / "legacy")
    own = {
        ".github/dependabot.yml": "version: 2\nupdates: []  # the owner's\n",
        "RELEASING.md": "# How we release (the owner's)\n",
    }
    for name, text in own.items():
        (project / name).write_text(text)
    commit_all(project, "The owner's own files")
    retrofit(template, project, *options)
    commit_all(project, "Retrofit")
    for name in ("template/.github/dependabot.yml.jinja", "template/RELEASING.md.jinja"):
        with (template / name).open("a") as f:
            f.write("\n# Changed in 1.1.0\n")
    commit_all(template, "1.1.0")
    git(template, "tag", "v1.1.0")
    copier("update", "--trust", "--defaults", *options, cwd=project)
    assert {name: (project / name).read_text() for name in own} == own
    assert load_yaml(project / (answers_file or ".copier-answers.yml"))["_commit"] == "v1.1.0"


def test_another_templates_answers_file_is_kept_and_named(template: Path, tmp_path: Path) -> None:
    """A project made from another template keeps that template's `.copier-answers.yml`: the
    retrofit asks for an answers file of its own (`-a`), and with one it goes ahead."""
    project = existing_project("twine-tag-onefile", tmp_path / "legacy")
    other = "# Changes here will be overwritten by Copier\n_commit: 1.2.0\n_src_path: gh:acme/copier-other\nproject_name: acme\n"
    (project / ".copier-answers.yml").write_text(other)
    commit_all(project, "Made from another template")
    said = " ".join(refused(template, project).split())
    assert ".copier-answers.yml records the answers of gh:acme/copier-other" in said
    assert "-a .copier-answers.pylib.yml" in said and "delete" not in said
    retrofit(template, project, "-a", CUSTOM)
    assert (project / ".copier-answers.yml").read_text() == other
    assert load_yaml(project / CUSTOM)["retrofit"] == "upgrade"


# --- case 4: the derived project kind is the only one accepted ---------------------------------


def test_case_4_an_empty_folder_is_not_an_existing_project(template: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for mode in ("add", "upgrade"):
        done = copy_with_answers(empty, {**REQUIRED_ANSWERS, "retrofit": mode}, template, check=False)
        assert "holds no project" in one_line_refusal(done)
        assert list(empty.iterdir()) == []


def test_case_4_a_project_is_not_a_new_one(template: Path, tmp_path: Path) -> None:
    project = existing_project("twine-release-setuppy", tmp_path / "legacy")
    assert "holds an existing project" in refused(template, project, "-d", "retrofit=no")


# --- case 5: untracked work, whatever git's settings hide ---------------------------------------


def test_case_5_untracked_work_stops_a_retrofit_with_untracked_files_hidden(
    template: Path, tmp_path: Path
) -> None:
    project = project_without_publishing(tmp_path / "legacy")
    git(project, "config", "status.showUntrackedFiles", "no")
    wip = project / ".github/workflows/publish.yml"
    wip.write_text("# work in progress\n")
    done = copier("copy", "--trust", "--defaults", "--overwrite", template, ".", cwd=project, check=False)
    assert "uncommitted changes" in one_line_refusal(done)
    assert wip.read_text() == "# work in progress\n"


@pytest.mark.parametrize("where", WHERE)
def test_case_5_untracked_work_stops_an_update_with_untracked_files_hidden(
    template: Path, tmp_path: Path, where: str
) -> None:
    project = new_project(template, tmp_path / "acme-widgets", where=where)
    git(project, "config", "status.showUntrackedFiles", "no")
    wip = project / "notes.txt"
    wip.write_text("work in progress\n")
    said = one_line_refusal(copier("update", "--trust", "--defaults", cwd=project, check=False))
    assert "files git does not track (notes.txt)" in said
    assert wip.read_text() == "work in progress\n"


# --- case 6: every refusal is one line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ("project_name=My Package!", "is not a valid PyPI project name"),
        ("github_owner=-acme", "github_owner"),
        ("license=GPL", "'GPL' is not one of Apache-2.0, MIT, BSD-3-Clause, ISC, GPL-3.0-or-later"),
        ("docs=maybe", "'maybe' is not one of none, mkdocs"),
        ("python_min=2.7", "python_min"),
        ("release_environment=a b", "release_environment"),
    ],
)
def test_case_6_an_invalid_answer_given_with_d_is_one_line(
    template: Path, tmp_path: Path, answer: str, words: str
) -> None:
    key, value = answer.split("=", 1)
    dest = tmp_path / "acme-widgets"
    done = copy_with_answers(dest, {**REQUIRED_ANSWERS, key: value}, template, check=False)
    said = one_line_refusal(done)
    assert f"-d {key}=" in said and words in said
    assert not dest.exists() or list(dest.iterdir()) == []


def test_case_6_an_invalid_answer_in_a_data_file_is_one_line(template: Path, tmp_path: Path) -> None:
    data = tmp_path / "answers.yml"
    data.write_text("project_name: acme-widgets\ngithub_owner: acme\ntestpypi: [1, 2]\n")
    dest = tmp_path / "acme-widgets"
    done = copier("copy", "--trust", "--defaults", "--data-file", data, template, dest, check=False)
    assert "-d testpypi=[1, 2]: [1, 2] is not yes or no" in one_line_refusal(done)


@pytest.mark.parametrize(
    ("shape", "where"),
    [("twine-tag-onefile", "pyproject.toml"), ("twine-release-setuppy", ".github/workflows/release.yml")],
)
def test_case_6_deeply_nested_files_are_refused_in_one_line(
    template: Path, tmp_path: Path, shape: str, where: str
) -> None:
    project = existing_project(shape, tmp_path / "legacy")
    path = project / where
    nested = "[" * 3000 + "]" * 3000
    path.write_text(
        path.read_text() + (f"deep = {nested}\n" if where.endswith(".toml") else f"x: {nested}\n")
    )
    commit_all(project, "A file nested thousands of levels deep")
    assert "nested too deeply" in refused(template, project)


# --- case 7: what the project's own commands make does not block an update ------------------------


@pytest.mark.parametrize("where", WHERE)
def test_case_7_a_uv_lock_does_not_block_an_update(template: Path, tmp_path: Path, where: str) -> None:
    """`uv run` (and `uv lock`) write uv.lock in a uv project; an update still runs. (The docs
    build's site/ is checked where tests/test_options.py runs the real `mkdocs build`.)"""
    project = new_project(template, tmp_path / "acme-widgets", where=where, ci_installer="uv")
    uv = {"UV_PYTHON": sys.executable, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    run([tool("uv"), "lock"], cwd=project, env=uv)
    lock = (project / "uv.lock").read_bytes()
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    done = copier("update", "--trust", "--defaults", cwd=project, check=False)
    assert done.returncode == 0, done.stderr
    assert (project / "uv.lock").read_bytes() == lock


# --- case 10: no quiet coercion, no shadowing name ---------------------------------------------------


@pytest.mark.parametrize("answer", ["pin_actions=maybe", "update_notice=2", "testpypi=sometimes"])
def test_case_10_a_yes_no_answer_must_be_yes_or_no(template: Path, tmp_path: Path, answer: str) -> None:
    key, value = answer.split("=", 1)
    done = copy_with_answers(tmp_path / "p", {**REQUIRED_ANSWERS, key: value}, template, check=False)
    assert f"-d {key}={value}: {value!r} is not yes or no" in one_line_refusal(done)


def test_case_10_yes_and_no_as_text_are_taken_as_typed(template: Path, tmp_path: Path) -> None:
    """Decision: `-d pin_actions=no` (every -d value is text) and `'no'` in a data file mean no."""
    data = tmp_path / "answers.yml"
    data.write_text("project_name: acme-widgets\ngithub_owner: acme\npin_actions: 'no'\ntestpypi: 'yes'\n")
    copier("copy", "--trust", "--defaults", "--data-file", data, template, tmp_path / "p")
    answers = load_yaml(tmp_path / "p/.copier-answers.yml")
    assert (answers["pin_actions"], answers["testpypi"]) == (False, True)


@pytest.mark.parametrize("name", ["click", "pytest", "coverage"])
def test_case_10_import_names_of_the_projects_own_tools_are_refused(
    template: Path, tmp_path: Path, name: str
) -> None:
    done = copy_with_answers(
        tmp_path / "p", {**REQUIRED_ANSWERS, "import_name": name, "cli": "click"}, template, check=False
    )
    assert "is a package this project's tests, checks or build install" in one_line_refusal(done)


def test_case_10_an_oversized_pyproject_is_refused_not_ignored(template: Path, tmp_path: Path) -> None:
    project = existing_project("twine-tag-onefile", tmp_path / "legacy")
    with (project / "pyproject.toml").open("a") as f:
        f.write("\n" + "# padding\n" * 120_000)
    commit_all(project, "A very large pyproject.toml")
    said = " ".join(refused(template, project).split())
    assert "pyproject.toml is" in said and "bytes, more than a project file this template reads" in said


def test_case_10_mixed_line_ends_are_refused_not_rewritten(template: Path, tmp_path: Path) -> None:
    project = existing_project("twine-release-setuppy", tmp_path / "legacy")
    release = project / ".github/workflows/release.yml"
    lines = release.read_bytes().split(b"\n")
    release.write_bytes(b"\r\n".join(lines[:5]) + b"\r\n" + b"\n".join(lines[5:]))
    commit_all(project, "Mixed line ends")
    assert ".github/workflows/release.yml:6: mixed line ends" in refused(template, project)


def test_case_10_other_spellings_of_secrets_and_the_event_are_seen(template: Path, tmp_path: Path) -> None:
    """A tests workflow that reads the event by index, or hands all secrets on, is not called
    from the release (the call would change what it reads); the message says why. One that
    reads a repository secret by index is called, and is passed that secret, as on a push."""
    project = project_without_publishing(tmp_path / "by-index")
    ci = project / ".github/workflows/ci.yml"
    edit(
        ci,
        "      - run: pytest\n",
        "      - run: pytest\n        env:\n          VALUE: ${{ secrets['CODECOV'] }}\n",
    )
    commit_all(project, "Tests that read a secret by index")
    copier("copy", "--trust", "--defaults", template, ".", cwd=project)
    assert "workflow_call" in ci.read_text()
    called = load_yaml(project / ".github/workflows/publish.yml")["jobs"]["tests"]
    assert called["secrets"] == {"CODECOV": "${{ secrets.CODECOV }}"}  # that one, by name
    for reads in ("${{ toJSON(secrets) }}", "${{ github['event_name'] }}"):
        project = project_without_publishing(tmp_path / f"legacy-{len(list(tmp_path.iterdir()))}")
        ci = project / ".github/workflows/ci.yml"
        ci.write_text(
            ci.read_text().replace(
                "      - run: pytest\n", f"      - run: pytest\n        env:\n          VALUE: {reads}\n"
            )
        )
        assert reads in ci.read_text()
        commit_all(project, "Tests that read the event")
        done = copier("copy", "--trust", "--defaults", template, ".", cwd=project)
        assert "workflow_call" not in ci.read_text()
        assert "which a call from the release sees differently" in " ".join(
            (done.stdout + done.stderr).split()
        )


def test_case_10_an_existing_projects_own_backend_is_an_answer(template: Path, tmp_path: Path) -> None:
    """`build_backend=other` is refused for a new project only: a retrofit given it keeps the
    project's own backend (the rule reads how the project comes to the template, never the
    given data, which holds no `retrofit` on a copy)."""
    project = existing_project("poetry", tmp_path / "legacy")
    retrofit(template, project, "-d", "build_backend=other")
    assert load_yaml(project / ".copier-answers.yml")["build_backend"] == "other"


# --- every answer change, over a project with the user's edits in every file ---------------------

# Each question and the values an update may change it to (every choice; text answers that
# rename the package, its folder and its metadata).
CHANGES: dict[str, list[str]] = {
    "project_name": ["acme-gizmos"],
    "import_name": ["acme_gizmos"],
    "description": ["Gizmos for every occasion."],
    "github_owner": ["acme-corp"],
    "github_repo": ["gizmos"],
    "author_name": ["Jane Doe"],
    "author_email": ["", "jane@example.com"],
    "license": ["Apache-2.0", "MIT", "BSD-3-Clause", "ISC"],
    "python_min": ["3.11", "3.12", "3.13"],
    "build_backend": ["setuptools", "hatchling"],
    "ci_installer": ["pip", "uv"],
    "os_matrix": ["linux", "all"],
    "free_threading": ["required", "allowed-to-fail", "none"],
    "docs": ["none", "mkdocs", "zensical", "sphinx"],
    "versioning": ["static", "git"],
    "cli": ["none", "argparse", "click"],
    "release_environment": ["release", "pypi"],
    "testpypi": ["true", "false"],
    "pin_actions": ["true", "false"],
    "update_notice": ["true", "false"],
}
# The project before the changes: every optional file the template can make.
RICH = {"cli": "click", "docs": "mkdocs", "pin_actions": "false", "update_notice": "true", "testpypi": "true"}


def marker(path: str) -> str:
    return f"# user's own line in {path}"


@pytest.fixture(
    scope="module",
    params=[(None, "top"), (CUSTOM, "subfolder")],
    ids=["default-answers", "custom-answers-in-a-subfolder"],
)
def edited_everywhere(
    request: pytest.FixtureRequest, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str | None, list[str]]:
    """A rich project whose user appended a line to every file the template rendered (at the
    top of its repository, or in a subfolder of it)."""
    answers_file, where = request.param
    options = ("-a", answers_file) if answers_file else ()
    project = new_project(
        template, tmp_path_factory.mktemp("rich") / "acme-widgets", *options, where=where, **RICH
    )
    edited = [
        name
        for name in git(project, "ls-files").splitlines()
        if name != (answers_file or ".copier-answers.yml")
    ]
    for name in edited:
        with (project / name).open("a", encoding="utf-8") as f:
            f.write("\n" + marker(name) + "\n")
    commit_all(project, "The user's edits, in every file")
    return project, answers_file, edited


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    changes=st.dictionaries(
        st.sampled_from(sorted(CHANGES)),
        st.none(),
        min_size=1,
        max_size=3,
    ).flatmap(lambda keys: st.fixed_dictionaries({key: st.sampled_from(CHANGES[key]) for key in keys}))
)
def test_no_answer_change_loses_a_user_edit(
    edited_everywhere: tuple[Path, str | None, list[str]], changes: dict[str, str]
) -> None:
    base, answers_file, edited = edited_everywhere
    # The copy holds the whole repository (the project may be a subfolder of it).
    top = Path(git(base, "rev-parse", "--show-toplevel").strip())
    copied = Path(tempfile.mkdtemp(prefix="nothing-lost-")) / top.name
    shutil.copytree(top, copied, symlinks=True)
    project = copied / base.relative_to(top)
    options = ["-a", answers_file] if answers_file else []
    data = [arg for key, value in changes.items() for arg in ("-d", f"{key}={value}")]
    done = copier("update", "--trust", "--defaults", *options, *data, cwd=project, check=False)
    said = done.stdout + done.stderr
    assert "Traceback" not in said, (changes, said)
    if done.returncode != 0:
        # A refusal changes nothing.
        assert git(project, "status", "--porcelain") == "", (changes, said)
        return
    for name in edited:
        path = project / name
        assert path.is_file(), (changes, f"{name} was deleted", said)
        assert marker(name) in path.read_text(encoding="utf-8"), (changes, f"the edit of {name} was lost")
    shutil.rmtree(copied.parent)
