"""The opt-in parts of a project, end to end: a documentation site (docs=mkdocs), versions
from git tags (versioning=git) and a command line (cli=argparse|click). Each is built or
run for real; and a project that updates keeps its shape unless its owner opts in."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
import tomllib
from packaging.version import Version

from helpers import (
    REQUIRED_ANSWERS,
    Runner,
    commit_all,
    copier,
    copy_with_answers,
    git,
    install_into,
    load_yaml,
    make_template_repo,
    make_venv,
    run,
    tool,
    workflow,
)


def install(project: Path, venv: Path, *extras: str) -> Path:
    """A fresh virtual environment with the project (editable) and the named dependency
    groups of its pyproject.toml (read here, as pip 25.1+ reads --group)."""
    python = make_venv(venv)
    groups = tomllib.loads((project / "pyproject.toml").read_text())["dependency-groups"]
    requirements = [r for group in extras for r in groups[group]]
    install_into(python, "-e", ".[test]", *requirements, cwd=project)
    return python


# --- the documentation site -----------------------------------------------------------


# What each engine's API page is, and a reference in its own syntax to a name the package
# does not have.
SITES = {
    "mkdocs": ("site/api/index.html", "::: acme_widgets.no_such_function\n"),
    "zensical": ("site/api/index.html", "::: acme_widgets.no_such_function\n"),
    "sphinx": ("site/api.html", "```{eval-rst}\n.. autofunction:: acme_widgets.no_such_function\n```\n"),
}


@pytest.mark.slow
@pytest.mark.parametrize("engine", list(SITES))
def test_the_site_builds_strict_with_the_api_of_the_package(render, tmp_path: Path, engine: str) -> None:
    """docs.yml's own build command, after its install (the docs group), builds the site with
    the package's docstrings, and fails on a reference to nothing."""
    project = tmp_path / "acme-widgets"
    shutil.copytree(render(docs=engine), project)
    run(["git", "init", "-q", project])
    commit_all(project, "Start")
    python = install(project, tmp_path / "venv", "docs")
    [build] = [
        s["run"]
        for s in workflow(project, "docs.yml")["jobs"]["build"]["steps"]
        if "strict" in s.get("name", "")
    ]
    command: list[str | Path] = [python.parent / build.split()[0], *build.split()[1:]]
    run(command, cwd=project)
    # What the build writes is ignored: it would otherwise stop `copier update` (issue 21, case 7).
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    page, broken = SITES[engine]
    api = (project / page).read_text()
    assert "greet" in api and "Return a friendly greeting" in api  # from the docstring
    assert "python -m pip install --group docs -e ." in (project / "CONTRIBUTING.md").read_text()
    # Strict: a reference to something the package does not have fails the build.
    (project / "docs/api.md").write_text("# API\n\n" + broken)
    assert run(command, cwd=project, check=False).returncode != 0


def test_the_site_is_linked_and_published_from_main_only(render) -> None:
    project = render(docs="mkdocs")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Documentation"] == "https://acme.github.io/acme-widgets/"
    assert "<https://acme.github.io/acme-widgets/>" in (project / "README.md").read_text()
    docs = workflow(project, "docs.yml")
    deploy = docs["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert "refs/heads/main" in deploy["if"] and "pull_request" in deploy["if"]
    assert docs["jobs"]["build"]["permissions"] == {"contents": "read"}
    releasing = (project / "RELEASING.md").read_text()
    assert (
        "https://github.com/acme/acme-widgets/settings/pages" in releasing and "GitHub Actions" in releasing
    )
    assert not (render() / "mkdocs.yml").exists()
    assert not (render() / ".github/workflows/docs.yml").exists()


@pytest.mark.slow
def test_read_the_docs_builds_the_sphinx_site_as_docs_yml_does(render) -> None:
    """docs=sphinx: .readthedocs.yaml is valid under Read the Docs' schema, installs the docs
    group as docs.yml does (pip 25.1+ for --group), and fails on a warning as -W does."""
    project = render(docs="sphinx")
    config = project / ".readthedocs.yaml"
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.readthedocs", config])
    rtd = load_yaml(config)
    assert rtd["sphinx"] == {"configuration": "docs/conf.py", "fail_on_warning": True}
    install = rtd["build"]["jobs"]["install"]
    [docs_install] = [
        s["run"]
        for s in workflow(project, "docs.yml")["jobs"]["build"]["steps"]
        if "Install" in s.get("name", "")
    ]
    assert install[-1] == docs_install and '"pip>=25.1"' in install[0]
    # Its newest Python 3 (a version it does not offer yet, as 3.15 on 2026-12-04, is refused).
    assert rtd["build"]["tools"]["python"] == "3"
    for engine in ("mkdocs", "zensical"):
        assert not (render(docs=engine) / ".readthedocs.yaml").exists()
        assert (render(docs=engine) / "mkdocs.yml").is_file()
    assert not (project / "mkdocs.yml").exists()


# --- versions from git tags -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["setuptools", "hatchling"])
def test_the_version_is_the_tag_and_an_untagged_build_is_refused(
    render, tmp_path: Path, backend: str
) -> None:
    project = tmp_path / "acme-widgets"
    shutil.copytree(render(versioning="git", build_backend=backend), project)
    assert "version" in tomllib.loads((project / "pyproject.toml").read_text())["project"]["dynamic"]
    run(["git", "init", "-q", project])
    commit_all(project, "Start")
    git(project, "tag", "v1.2.3")
    build = workflow(project, "publish.yml")["jobs"]["build"]
    assert build["steps"][0]["with"]["fetch-depth"] == 0  # the build needs the tags

    # The release of tag v1.2.3 builds 1.2.3, and its check passes.
    Runner(project, tmp_path / "release", {"GITHUB_REF_NAME": "v1.2.3"}).run_job(build)
    wheel = next((project / "dist").glob("*.whl"))
    assert wheel.name == "acme_widgets-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("acme_widgets-1.2.3.dist-info/METADATA").decode()
    assert "\nVersion: 1.2.3\n" in metadata
    python = make_venv(tmp_path / "venv")
    install_into(python, wheel)
    done = run([python, "-c", "import acme_widgets; print(acme_widgets.__version__)"], cwd=tmp_path)
    assert done.stdout.strip() == "1.2.3"

    # A commit after the tag builds a development version that TestPyPI would take (no
    # local "+g<commit>" part), and the release check refuses it.
    shutil.rmtree(project / "dist")
    (project / "CHANGELOG.md").write_text("# Changelog\n\nMore to come.\n")
    commit_all(project, "After the release")
    runner = Runner(project, tmp_path / "untagged", {"GITHUB_REF_NAME": "v1.2.4"})
    check = next(s for s in build["steps"] if s.get("name", "").startswith("Check"))
    for step in build["steps"]:
        if step is check:
            break
        runner.use(step) if "uses" in step else runner.run_step(step)
    built = Version(next((project / "dist").glob("*.whl")).name.split("-")[1])
    assert built.is_devrelease and built.local is None and built > Version("1.2.3")
    refused = runner.run_step(check)
    assert refused.returncode != 0
    assert "is not version 1.2.4 of the tag v1.2.4" in refused.stdout


# --- a command line ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("cli", ["argparse", "click"])
def test_the_command_is_installed_and_its_tests_pass(render, tmp_path: Path, cli: str) -> None:
    project = tmp_path / "acme-widgets"
    shutil.copytree(render(cli=cli), project)
    python = install(project, tmp_path / "venv")
    run([python, "-m", "pytest", "-p", "no:cacheprovider", "-q"], cwd=project)  # test_cli.py runs the command
    done = run([python.parent / "acme-widgets", "--version"], cwd=tmp_path)
    assert "0.1.0" in done.stdout
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"acme-widgets": "acme_widgets.__main__:main"}


# --- a project that updates --------------------------------------------------------------


def test_an_update_keeps_the_shape_and_the_owner_can_opt_in(tmp_path: Path) -> None:
    template = make_template_repo(tmp_path / "template", tag="v1.0.0")
    project = tmp_path / "acme-widgets"
    copy_with_answers(project, REQUIRED_ANSWERS, template, "--vcs-ref=v1.0.0")
    run(["git", "init", "-q", project])
    commit_all(project, "Start")
    git(template, "commit", "-q", "--allow-empty", "-m", "A later release")
    git(template, "tag", "v1.1.0")
    copier("update", "--trust", "--defaults", "-d", "docs=mkdocs", "-d", "cli=argparse", cwd=project)
    answers = load_yaml(project / ".copier-answers.yml")
    assert (answers["docs"], answers["cli"], answers["versioning"]) == ("mkdocs", "argparse", "static")
    assert (project / "mkdocs.yml").is_file() and (project / ".github/workflows/docs.yml").is_file()
    assert (project / "src/acme_widgets/__main__.py").is_file()
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""


# --- community files --------------------------------------------------------------------


def test_community_files_come_with_a_new_project_and_github_reads_them(render) -> None:
    """community=yes (a new project's default): the code of conduct names where reports go, and
    the issue forms and their configuration pass GitHub's own schemas (as check-jsonschema
    vendors them); community=no gives none of these files."""
    project = render(conduct_contact="conduct@acme.example")
    conduct = (project / "CODE_OF_CONDUCT.md").read_text()
    assert "Contributor Covenant, version 2.1" in conduct and "<conduct@acme.example>" in conduct
    forms = project / ".github" / "ISSUE_TEMPLATE"
    assert sorted(p.name for p in forms.iterdir()) == ["bug_report.yml", "config.yml", "feature_request.yml"]
    checker = tool("check-jsonschema")
    run(
        [
            checker,
            "--builtin-schema",
            "vendor.github-issue-forms",
            forms / "bug_report.yml",
            forms / "feature_request.yml",
        ]
    )
    run([checker, "--builtin-schema", "vendor.github-issue-config", forms / "config.yml"])
    assert "[code of conduct](CODE_OF_CONDUCT.md)" in (project / "CONTRIBUTING.md").read_text()
    assert (project / ".github" / "pull_request_template.md").is_file()
    # Without an email, reports go to the maintainers on GitHub.
    no_email = (render(conduct_contact="") / "CODE_OF_CONDUCT.md").read_text()
    assert "tell the maintainers of\n[acme/acme-widgets]" in no_email and "<>" not in no_email
    bare = render(community="false")
    assert not (bare / "CODE_OF_CONDUCT.md").exists() and not (bare / ".github" / "ISSUE_TEMPLATE").exists()
    assert "code of conduct" not in (bare / "CONTRIBUTING.md").read_text()
