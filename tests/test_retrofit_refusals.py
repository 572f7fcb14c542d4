"""Retrofit refusals: a project the retrofit cannot move safely is left exactly as it was, and
the message says why (which file and line) and what to do. Hostile or unusual trees (links
out of the project, read-only or non-UTF-8 files, monorepos) are refused before anything
is written. The successful retrofits are in test_retrofit.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import (
    FIXTURES,
    commit_all,
    edit,
    existing_project,
    git,
    load_yaml,
    refused,
    retrofit,
    run,
    snapshot,
)

# --- refusals: nothing changes, and the message says why and what to do ---------------------


def test_refuses_a_dirty_tree(template: Path, tmp_path: Path) -> None:
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    edit(project / "README.md", "Legacy widgets.", "Legacy widgets, edited.")
    assert "uncommitted changes" in refused(template, project)


@pytest.mark.parametrize("given", ["dependency_audit=true", "docs=mkdocs", "pin_actions=false"])
def test_an_answer_for_new_projects_only_is_refused(template: Path, tmp_path: Path, given: str) -> None:
    """Copier renders with an answer given with -d even where the question is not asked, and
    does not record it: dependency_audit=true wrote an audit workflow that the next update knew
    nothing of. A retrofit names the answer and writes nothing."""
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    said = " ".join(refused(template, project, "-d", given).split())
    assert f"-d {given}: an existing project is not asked this" in said, said


def test_refuses_a_project_outside_git(template: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(FIXTURES / "twine-release-setuppy", project)
    assert "is not a git repository" in refused(template, project)


def test_two_publishing_workflows_are_both_converted(template: Path, tmp_path: Path) -> None:
    """A PyPI project may trust several workflows (one publisher each): both are converted, and
    the message gives one publisher per workflow (once refused: "one workflow per publisher")."""
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    shutil.copy(project / ".github/workflows/release.yml", project / ".github/workflows/release-again.yml")
    commit_all(project, "Two uploads")
    done = retrofit(template, project)
    for name in ("release.yml", "release-again.yml"):
        assert "secrets.PYPI_API_TOKEN" not in (project / ".github/workflows" / name).read_text()
        assert "publish-to-pypi" in load_yaml(project / ".github/workflows" / name)["jobs"]
    said = " ".join((done.stdout + done.stderr).split())
    assert "Workflow name: release-again.yml" in said and "Workflow name: release.yml" in said
    assert said.count("PyPI Project Name: acme-legacy") == 2


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "twine upload dist/*",
            "twine upload --repository-url https://pypi.acme.internal/ dist/*",
            [".github/workflows/release.yml:32", "https://pypi.acme.internal/"],
            id="private-index",
        ),
        pytest.param(
            "        run: |\n          python setup.py sdist bdist_wheel\n          twine upload dist/*\n",
            "        run: ./scripts/publish.sh\n",
            [".github/workflows/release.yml:26", "`./scripts/publish.sh` is handed a PyPI credential"],
            id="unreadable-upload",
        ),
    ],
)
def test_refuses_an_upload_it_cannot_convert_naming_file_and_line(
    template: Path, tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    edit(project / ".github/workflows/release.yml", old, new)
    commit_all(project, "An upload the retrofit must not guess at")
    message = refused(template, project)
    for text in expected:
        assert text in message


# --- hostile or unusual trees: refused before anything is written -------------------------------


def test_refuses_a_workflow_that_is_a_symlink_out_of_the_project(template: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    workflow_file = project / ".github/workflows/release.yml"
    outside.write_bytes(workflow_file.read_bytes())
    workflow_file.unlink()
    workflow_file.symlink_to(outside)
    commit_all(project, "The workflow lives elsewhere")
    before = outside.read_bytes()
    message = refused(template, project)
    assert ".github/workflows/release.yml is a symbolic link" in message
    assert outside.read_bytes() == before


def test_refuses_a_workflows_folder_that_is_a_symlink(template: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared-workflows"
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    shutil.move(project / ".github/workflows", elsewhere)
    (project / ".github/workflows").symlink_to(elsewhere, target_is_directory=True)
    commit_all(project, "Workflows shared through a link")
    before = snapshot(elsewhere)
    assert ".github/workflows is a symbolic link" in refused(template, project)
    assert snapshot(elsewhere) == before


def test_refuses_a_read_only_workflow_before_writing(template: Path, tmp_path: Path) -> None:
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    (project / ".github/workflows/release.yml").chmod(0o444)
    assert ".github/workflows/release.yml is read-only" in refused(template, project)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ("retrofit: 'no'\n", "says this project was made from a template as a new project"),
        ("retrofit: upgrade\n", "uncommitted changes"),
    ],
    ids=["claims-new", "claims-retrofitted"],
)
def test_a_committed_answers_file_switches_no_check_off(
    template: Path, tmp_path: Path, answers: str, expected: str
) -> None:
    """Anyone can commit an answers file: the destination, not the file, decides, and every
    check runs (here, with the dirty tree the second case adds)."""
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    (project / ".copier-answers.yml").write_text(f"_src_path: {template}\n_commit: v1.0.0\n{answers}")
    commit_all(project, "An answers file")
    if "upgrade" in answers:
        edit(project / "README.md", "Legacy widgets.", "Legacy widgets, edited.")
    assert expected in refused(template, project)


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("workflow-not-utf8", ".github/workflows/release.yml:1: not UTF-8 text"),
        ("pyproject-not-toml", "pyproject.toml: not valid TOML"),
        ("pyproject-not-utf8", "pyproject.toml:1: not UTF-8 text"),
    ],
)
def test_unreadable_files_are_named_not_crashed_on(
    template: Path, tmp_path: Path, breakage: str, expected: str
) -> None:
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    if breakage == "workflow-not-utf8":
        path = project / ".github/workflows/release.yml"
        path.write_bytes(b"# caf\xe9\n" + path.read_bytes())
    elif breakage == "pyproject-not-toml":
        (project / "pyproject.toml").write_text("[project\nname = 'acme-legacy'\n")
    else:
        (project / "pyproject.toml").write_bytes(b"# caf\xe9\n[project]\nname = 'acme-legacy'\n")
    commit_all(project, "A file the retrofit cannot read")
    assert expected in refused(template, project)


def test_a_license_folder_is_passed_over(template: Path, tmp_path: Path) -> None:
    """Only regular files of reasonable size are read: a LICENSE that is a folder is passed over."""
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    (project / "LICENSE").unlink()
    (project / "LICENSE").mkdir()
    (project / "LICENSE/README").write_text("See the files here.\n")
    commit_all(project, "A LICENSE folder")
    done = retrofit(template, project)
    assert done.returncode == 0
    assert load_yaml(project / ".copier-answers.yml")["license"] == "MIT"  # from setup.cfg's classifiers


def test_a_link_out_of_the_project_is_refused(template: Path, tmp_path: Path) -> None:
    """A LICENSE linked to /dev/zero would be read until memory runs out (and copier 9.10 stops
    on it with a traceback): refused first, with one message."""
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    (project / "LICENSE").unlink()
    (project / "LICENSE").symlink_to("/dev/zero")
    commit_all(project, "A LICENSE linked out of the project")
    assert "LICENSE is a symbolic link to /dev/zero, outside the project" in refused(template, project)


def test_a_crlf_workflow_keeps_its_line_ends(template: Path, tmp_path: Path) -> None:
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    path = project / ".github/workflows/release.yml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    commit_all(project, "Windows line ends")
    retrofit(template, project)
    raw = path.read_bytes()
    assert b"id-token: write" in raw
    assert raw.count(b"\n") == raw.count(b"\r\n")  # every line ends CRLF, the new ones too
    changed = git(project, "diff", "--numstat", "--", ".github/workflows/release.yml").split()
    assert int(changed[1]) < 10  # the diff is the change, not the whole file


@pytest.mark.parametrize("answer", ["other.yml", "release.yml`", "release.yml\n"])
def test_the_trusted_workflow_is_the_one_that_publishes(template: Path, tmp_path: Path, answer: str) -> None:
    """PyPI must trust the workflow that really publishes: another name would let anyone who
    adds that file later publish, and would point RELEASING.md at a file that does not exist."""
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    message = refused(template, project, "-d", f"publish_workflow={answer}")
    assert "publish_workflow" in message
    if answer == "other.yml":
        assert ".github/workflows/release.yml is the workflow that publishes" in message


def test_a_package_in_a_subfolder_is_refused_not_overwritten(template: Path, tmp_path: Path) -> None:
    """A monorepo publishes a package kept in a subfolder: the top of the repository is no
    new, empty project to render a library into."""
    project = tmp_path / "mono"
    package = project / "packages" / "legacy"
    shutil.copytree(FIXTURES / "twine-release-setuppy", package)
    shutil.move(package / ".github", project / ".github")
    run(["git", "init", "-q", project])
    commit_all(project, "A monorepo")
    message = refused(template, project)
    assert "the package lives in a subfolder (packages/legacy)" in message
    assert ".github/workflows/release.yml:26 uploads to PyPI" in message
    assert not (project / "pyproject.toml").exists()


def test_missing_owner_names_the_answer_to_pass(template: Path, tmp_path: Path) -> None:
    project = existing_project("twine-release-setuppy", tmp_path / "p")
    edit(project / "setup.cfg", "url = https://github.com/acme/acme-legacy\n", "")
    commit_all(project, "No URL")
    message = refused(template, project)
    assert "-d github_owner=VALUE" in message
    done = retrofit(template, project, "-d", "github_owner=acme")
    assert load_yaml(project / ".copier-answers.yml")["github_owner"] == "acme"
    assert done.returncode == 0
