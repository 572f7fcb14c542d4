"""New package: `copier copy` renders a complete project with the user's answers."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
from pathlib import Path

import pytest
import tomllib

from conftest import GIT_USER
from extensions import pythons
from extensions.licenses import LICENSES
from helpers import REQUIRED_ANSWERS, TEMPLATE_DIR, copy_with_answers, load_yaml, run

EXPECTED_FILES = [
    ".copier-answers.yml",
    ".github/ISSUE_TEMPLATE/bug_report.yml",
    ".github/ISSUE_TEMPLATE/config.yml",
    ".github/ISSUE_TEMPLATE/feature_request.yml",
    ".github/dependabot.yml",
    ".github/workflows/publish.yml",
    ".github/workflows/template-news.yml",
    ".github/pull_request_template.md",
    ".github/release.yml",
    ".github/workflows/test.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "CHANGELOG.md",
    "CODE_OF_CONDUCT.md",
    "CONTRIBUTING.md",
    "LICENSE",
    "README.md",
    "RELEASING.md",
    "changes/README.md",
    "pyproject.toml",
    "src/acme_widgets/__init__.py",
    "src/acme_widgets/_greeting.py",
    "src/acme_widgets/py.typed",
    "tests/test_acme_widgets.py",
]


def pyproject(project: Path) -> dict:
    return tomllib.loads((project / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def cli_render(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The README's command, run for real: no prompt, only the two required answers."""
    dest = tmp_path_factory.mktemp("cli") / "acme-widgets"
    done = copy_with_answers(dest, REQUIRED_ANSWERS)
    return dest, done.stdout + done.stderr


def test_cli_copy_with_two_answers_renders_every_file(cli_render: tuple[Path, str]) -> None:
    dest, _ = cli_render
    rendered = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert rendered == sorted(EXPECTED_FILES)


def test_after_copy_message_gives_the_pending_publisher_values(cli_render: tuple[Path, str]) -> None:
    _, output = cli_render
    assert "https://pypi.org/manage/account/publishing/" in output
    assert "PyPI Project Name:  acme-widgets" in output
    assert "Owner:              acme" in output
    assert "Repository name:    acme-widgets" in output
    assert "Workflow name:      publish.yml" in output
    assert "Environment name:   release" in output
    assert "https://github.com/acme/acme-widgets/settings/environments/new" in output
    assert "https://github.com/acme/acme-widgets/releases/new" in output
    assert "settings/pages" not in output  # no site, no Pages
    # PyPI's form and GitHub must carry the same environment name: users mix "pypi" and "release".
    assert 'The name must be exactly the same here and in PyPI\'s form ("release")' in output


def test_after_copy_message_uses_the_answers(tmp_path: Path) -> None:
    answers = {
        "project_name": "Zeta.Tools",
        "github_owner": "zorg",
        "github_repo": "zeta",
        "release_environment": "pypi",
        "docs": "sphinx",
    }
    done = copy_with_answers(tmp_path / "z", answers)
    output = done.stdout + done.stderr
    assert "PyPI Project Name:  Zeta.Tools" in output
    # Any docs engine's site needs Pages switched on once (docs=sphinx, not only mkdocs).
    assert "Documentation: switch GitHub Pages on once" in output
    assert "https://github.com/zorg/zeta/settings/pages" in output
    assert "Repository name:    zeta" in output
    assert "Environment name:   pypi" in output
    assert "https://github.com/zorg/zeta/releases/new" in output


def test_answers_file_records_every_answer_for_updates(default_project: Path) -> None:
    answers = load_yaml(default_project / ".copier-answers.yml")
    assert answers["project_name"] == "acme-widgets"
    assert answers["github_owner"] == "acme"
    assert answers["import_name"] == "acme_widgets"
    assert answers["python_min"] == pythons.default_min(dt.date.today())
    assert "_src_path" in answers and "_commit" in answers


def test_pyproject_has_the_pep_621_metadata(default_project: Path) -> None:
    project = pyproject(default_project)["project"]
    assert project["name"] == "acme-widgets"
    assert project["readme"] == "README.md"
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert project["authors"] == [{"name": GIT_USER[0], "email": GIT_USER[1]}]
    assert project["requires-python"] == f">={pythons.default_min(dt.date.today())}"
    assert project["optional-dependencies"]["test"] == ["pytest>=8", "coverage[toml]>=7.10"]
    assert set(project["urls"]) == {"Homepage", "Issues", "Changelog", "CI"}
    assert project["urls"]["Issues"] == "https://github.com/acme/acme-widgets/issues"
    # PEP 639: a license expression excludes License :: classifiers.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_classifiers_cover_the_matrix(default_project: Path) -> None:
    today = dt.date.today()
    classifiers = pyproject(default_project)["project"]["classifiers"]
    versions = [
        c.rsplit(" :: ", 1)[1] for c in classifiers if c.startswith("Programming Language :: Python :: 3.")
    ]
    assert versions == pythons.matrix(pythons.default_min(today), today)


def test_pytest_is_configured(default_project: Path) -> None:
    config = pyproject(default_project)["tool"]["pytest"]["ini_options"]
    assert config["testpaths"] == ["tests"]
    assert "--strict-markers" in config["addopts"]


def test_import_name_follows_the_project_name(render) -> None:
    project = render(project_name="Zeta.Tools")
    assert (project / "src" / "zeta_tools" / "__init__.py").is_file()
    assert "import zeta_tools" in (project / "tests" / "test_zeta_tools.py").read_text()


def test_import_name_can_be_chosen(render) -> None:
    project = render(project_name="python-acme", import_name="acme")
    assert (project / "src" / "acme" / "__init__.py").is_file()
    assert pyproject(project)["project"]["name"] == "python-acme"


def test_author_defaults_to_the_owner_without_git_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    copy_with_answers(tmp_path / "p", REQUIRED_ANSWERS)
    assert pyproject(tmp_path / "p")["project"]["authors"] == [{"name": "acme"}]


@pytest.mark.parametrize("spdx", list(LICENSES))
def test_every_license_choice_renders_its_text(render, spdx: str) -> None:
    project = render(license=spdx)
    assert pyproject(project)["project"]["license"] == spdx
    text = (project / "LICENSE").read_text()
    first_line = {
        "Apache-2.0": "Apache License",
        "MIT": "MIT License",
        "BSD-3-Clause": "BSD 3-Clause License",
        "ISC": "ISC License",
        "GPL-3.0-or-later": "GNU GENERAL PUBLIC LICENSE",
        "LGPL-3.0-or-later": "GNU LESSER GENERAL PUBLIC LICENSE",
        "MPL-2.0": "Mozilla Public License Version 2.0",
        "AGPL-3.0-or-later": "GNU AFFERO GENERAL PUBLIC LICENSE",
    }[spdx]
    assert text.lstrip().startswith(first_line)
    readme = (project / "README.md").read_text()
    if spdx in ("MIT", "BSD-3-Clause", "ISC"):
        assert f"{dt.date.today().year}" in text and GIT_USER[0] in text
    elif spdx != "Apache-2.0":
        # The published text, byte for byte (its own "how to apply" examples too); the README
        # carries the notice the text leaves to the project.
        source = (TEMPLATE_DIR / "extensions" / "licenses" / f"{spdx}.txt").read_text()
        assert text == source.strip("\n") + "\n"
        assert f"Copyright (C) {dt.date.today().year} {GIT_USER[0]}." in readme


@pytest.mark.parametrize(
    ("backend", "requires"), [("setuptools", "setuptools>=77"), ("hatchling", "hatchling>=1.27")]
)
def test_every_backend_choice_sets_the_build_system(render, backend: str, requires: str) -> None:
    build_system = pyproject(render(build_backend=backend))["build-system"]
    assert build_system["requires"] == [requires]


def test_python_min_sets_requires_python_and_matrix(render) -> None:
    project = render(python_min="3.13")
    assert pyproject(project)["project"]["requires-python"] == ">=3.13"
    matrix = load_yaml(project / ".github/workflows/test.yml")["jobs"]["test"]["strategy"]["matrix"]
    assert matrix["python-version"][0] == "3.13"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("project_name=My Package!", "not a valid PyPI project name"),
        ("github_owner=acme.corp", "not a GitHub user or organisation name"),
        ("author_email=jane", "not an email address"),
        ("python_min=2.7", "is past its end of life"),
        ("release_environment=my env", "not a GitHub environment name"),
        ("import_name=class", "keyword"),
    ],
)
def test_bad_answers_are_refused_at_the_question(tmp_path: Path, answer: str, message: str) -> None:
    key, value = answer.split("=", 1)
    done = copy_with_answers(tmp_path / "p", {**REQUIRED_ANSWERS, key: value}, check=False)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr
    assert not (tmp_path / "p" / "pyproject.toml").exists()


@pytest.mark.parametrize(
    ("answers", "missing"),
    [({"project_name": "acme-widgets"}, "github_owner"), ({"github_owner": "acme"}, "project_name")],
)
def test_a_missing_required_answer_names_the_option_to_pass(
    tmp_path: Path, answers: dict[str, str], missing: str
) -> None:
    """Under --defaults, a required answer that nothing provides stops copier with one line."""
    # "Not a name!" is no valid project name, so the folder cannot provide a default.
    done = copy_with_answers(tmp_path / "Not a name!", answers, check=False)
    assert done.returncode != 0
    assert f"No value for {missing}: Pass -d {missing}=VALUE" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "Not a name!").exists()


def test_a_clone_of_an_empty_github_repository_needs_no_answer(tmp_path: Path) -> None:
    """Cloned from GitHub first (the usual start): the folder names the project and its
    origin remote names the owner, so copier needs no -d at all."""
    dest = tmp_path / "acme-gadgets"
    run(["git", "init", "-q", dest])
    run(["git", "-C", dest, "remote", "add", "origin", "git@github.com:acme-corp/acme-gadgets.git"])
    copy_with_answers(dest, {})
    answers = load_yaml(dest / ".copier-answers.yml")
    assert (answers["project_name"], answers["github_owner"], answers["retrofit"]) == (
        "acme-gadgets",
        "acme-corp",
        "no",
    )


def test_the_destination_folder_names_the_project(tmp_path: Path) -> None:
    copy_with_answers(tmp_path / "acme-gadgets", {"github_owner": "acme"})
    assert load_yaml(tmp_path / "acme-gadgets" / ".copier-answers.yml")["project_name"] == "acme-gadgets"


def test_the_oldest_copier_is_stated_the_same_everywhere() -> None:
    """copier.yml refuses older copier; the README and pyproject must not promise less.

    CI also runs this whole suite with exactly that copier (COPIER_VERSION in .ci/run).
    """
    minimum = load_yaml(TEMPLATE_DIR / "copier.yml")["_min_copier_version"]
    major, minor, _ = minimum.split(".")
    bound = f"copier>={major}.{minor},<{int(major) + 1}"
    pyproject = tomllib.loads((TEMPLATE_DIR / "pyproject.toml").read_text())
    assert bound in pyproject["dependency-groups"]["render"]
    assert f'"{bound}"' in (TEMPLATE_DIR / "README.md").read_text()
    job = load_yaml(TEMPLATE_DIR / ".github/workflows/ci.yml")["jobs"]["tests"]
    assert minimum in job["strategy"]["matrix"]["copier"]
    assert job["steps"][-1]["env"]["COPIER_VERSION"] == "${{ matrix.copier }}"
    # In that CI leg, .ci/run must really have installed it: these tests ran on it.
    if os.environ.get("COPIER_VERSION"):
        assert importlib.metadata.version("copier") == os.environ["COPIER_VERSION"]


def test_releasing_says_what_to_do_when_the_upload_fails(cli_render: tuple[Path, str]) -> None:
    dest, _ = cli_render
    releasing = (dest / "RELEASING.md").read_text()
    section = " ".join(releasing.split("## When the upload itself fails", 1)[1].split())
    assert "**nothing reached PyPI**" in section
    assert "Delete the GitHub release and its tag `vX.Y.Z`" in section
