"""Organisation forks: one file of defaults, a fork that merges upstream, projects that follow.

Real git throughout: an "upstream" repository with this template, a "fork" cloned from
it that edits org.yml and adds a fork-only file, a project made from the fork, an
upstream release merged into the fork with `git merge`, and `copier update` in the project.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import (
    FIXTURES,
    RELEASE_1_1_0,
    REQUIRED_ANSWERS,
    TEMPLATE_DIR,
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
    template_at,
    tool,
    workflow,
)

ORG = {
    "github_owner": "acme-corp",
    "author_name": "ACME Python Team",
    "author_email": "python@acme.example",
    "license": "MIT",
    "python_min": "3.12",
    "build_backend": "hatchling",
    "ci_installer": "uv",
    "release_environment": "pypi",
    "testpypi": True,
    "pin_actions": False,
}
CODEOWNERS = "* @acme-corp/python-maintainers\n"


def set_org_defaults(fork: Path, values: dict) -> None:
    """Edit org.yml the way a person would: change the values, keep every comment."""
    path = fork / "org.yml"
    text = path.read_text()
    for key, value in values.items():
        new = f"{key}: {yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
        text, count = re.subn(rf"^{key}: .*$", new, text, flags=re.MULTILINE)
        assert count == 1, key
    path.write_text(text)


def test_org_yml_keys_are_exactly_the_questions_that_read_them() -> None:
    org = load_yaml(TEMPLATE_DIR / "org.yml")
    copier_yml = (TEMPLATE_DIR / "copier.yml").read_text()
    used = set(re.findall(r"^  default: .*?\borg\['(\w+)'\]", copier_yml, re.MULTILINE))
    assert used == set(org)
    questions = {k for k in load_yaml(TEMPLATE_DIR / "copier.yml") if not k.startswith("_")}
    assert set(org) <= questions
    for key in org:  # each key feeds the default of its own question
        pattern = rf"^{key}:\n(?:  .*\n)*?  default: \"{{{{ .*\borg\['{key}'\]"
        assert re.search(pattern, copier_yml, re.MULTILINE), key


def test_upstream_keeps_fork_places_free() -> None:
    """Upstream never ships a file where the README tells forks to put theirs."""
    template = TEMPLATE_DIR / "template"
    assert not (template / ".github" / "CODEOWNERS").exists()
    assert not [p for p in template.rglob("*") if p.name.startswith(("org-", "org_"))]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fork")
    upstream = make_template_repo(root / "upstream", tag="v1.0.0")
    fork = root / "fork"
    run(["git", "clone", "-q", upstream, fork])
    set_org_defaults(fork, ORG)
    (fork / "template/.github/CODEOWNERS").write_text(CODEOWNERS)
    (fork / "template/.github/workflows/org-audit.yml").write_text("# ACME's own checks would go here\n")
    commit_all(fork, "ACME defaults")
    git(fork, "tag", "v1.0.0+acme.1")
    return {"root": root, "upstream": upstream, "fork": fork}


@pytest.fixture(scope="module")
def org_project(scenario: dict[str, Path]) -> Path:
    project = scenario["root"] / "acme-widgets"
    copy_with_answers(project, {"project_name": "acme-widgets"}, scenario["fork"])
    run(["git", "init", "-q", project])
    commit_all(project, "Start")
    return project


def test_project_from_the_fork_gets_every_org_default(org_project: Path) -> None:
    answers = load_yaml(org_project / ".copier-answers.yml")
    assert {k: answers[k] for k in ORG} == ORG
    pyproject = (org_project / "pyproject.toml").read_text()
    assert 'license = "MIT"' in pyproject
    assert '{ name = "ACME Python Team", email = "python@acme.example" }' in pyproject
    assert 'requires-python = ">=3.12"' in pyproject
    assert "hatchling" in pyproject
    publish = load_yaml(org_project / ".github/workflows/publish.yml")
    assert publish["jobs"]["publish"]["environment"]["name"] == "pypi"
    assert "publish-testpypi" in publish["jobs"]
    uv_tag = load_yaml(TEMPLATE_DIR / "extensions/actions.yml")["astral-sh/setup-uv"]["tag"]
    assert f"astral-sh/setup-uv@{uv_tag}" in (org_project / ".github/workflows/test.yml").read_text()
    assert "https://github.com/acme-corp/acme-widgets" in pyproject


def test_fork_only_files_reach_the_project(org_project: Path) -> None:
    assert (org_project / ".github/CODEOWNERS").read_text() == CODEOWNERS
    assert (org_project / ".github/workflows/org-audit.yml").is_file()


def test_a_retrofit_keeps_the_projects_own_codeowners(scenario: dict[str, Path], tmp_path: Path) -> None:
    """The fork's own files reach an existing project where it has none; its own CODEOWNERS
    stays. Before, copier stopped on the conflict (--defaults) after writing half the files,
    or at a terminal offered to overwrite the owner's."""
    project = existing_project("twine-release-setuppy", tmp_path / "owned")
    own = "* @acme/legacy-maintainers\n"
    (project / ".github/CODEOWNERS").write_text(own)
    commit_all(project, "The project's own owners")
    copier("copy", "--trust", "--defaults", "--vcs-ref=HEAD", scenario["fork"], ".", cwd=project)
    assert (project / ".github/CODEOWNERS").read_text() == own
    assert (project / ".github/workflows/org-audit.yml").is_file()
    assert load_yaml(project / ".copier-answers.yml")["retrofit"] == "upgrade"


def test_a_retrofit_stops_before_writing_when_the_project_holds_a_fork_file_of_its_own(
    scenario: dict[str, Path], tmp_path: Path
) -> None:
    """A project that already holds a file at the path of one of the fork's `org-` files, with
    other content: copier would stop on that file after writing the ones before it (a half-done
    retrofit). The retrofit is refused first, naming the file, and nothing is written."""
    project = existing_project("twine-release-setuppy", tmp_path / "owned")
    (project / ".github/workflows/org-audit.yml").write_text("# the project's own audit\n")
    commit_all(project, "The project's own audit")
    said = " ".join(refused(scenario["fork"], project, "--vcs-ref=HEAD").split())
    assert ".github/workflows/org-audit.yml is already in this project" in said, said
    assert "git mv .github/workflows/org-audit.yml" in said, said
    # The same file, byte for byte, is no obstacle: copier finds it identical.
    fork_file = (scenario["fork"] / "template/.github/workflows/org-audit.yml").read_text()
    (project / ".github/workflows/org-audit.yml").write_text(fork_file)
    commit_all(project, "The organisation's audit, as the fork ships it")
    retrofit(scenario["fork"], project, "--vcs-ref=HEAD")
    assert load_yaml(project / ".copier-answers.yml")["retrofit"] == "upgrade"


def test_options_for_new_projects_do_not_reach_a_retrofit(scenario: dict[str, Path], tmp_path: Path) -> None:
    """org.yml's options that shape a new project (a docs site, an audit workflow, GitHub
    attestations, PyPy, a version from tags) are not asked of an existing project, and do not
    reach it: a retrofit from such a fork adds only the release setup, as upstream's does."""
    fork = tmp_path / "fork"
    run(["git", "clone", "-q", scenario["upstream"], fork])
    options = {
        **ORG,
        "docs": "mkdocs",
        "dependency_audit": True,
        "attestations": True,
        "pypy": True,
        "versioning": "git",
    }
    set_org_defaults(fork, options)
    commit_all(fork, "Every option on for new projects")
    project = tmp_path / "quiet"
    shutil.copytree(FIXTURES / "twine-release-setuppy", project)
    (project / ".github/workflows/release.yml").unlink()
    run(["git", "init", "-q", project])
    commit_all(project, "No release workflow yet")
    copier("copy", "--trust", "--defaults", "--vcs-ref=HEAD", fork, ".", cwd=project)
    added = set(git(project, "ls-files", "--others").split())
    # zizmor.yml: this fork does not pin actions (ORG), a policy that does reach its retrofits.
    assert added == {
        ".copier-answers.yml",
        "RELEASING.md",
        ".github/dependabot.yml",
        ".github/zizmor.yml",
        ".github/workflows/publish.yml",
    }
    publish = (project / ".github/workflows/publish.yml").read_text()
    assert "actions/attest" not in publish and "fetch-depth" not in publish
    releasing = (project / "RELEASING.md").read_text()
    assert "documentation site" not in releasing and "There is no version to set" not in releasing


def test_a_project_that_updates_into_the_options_gets_none_of_them(tmp_path: Path) -> None:
    """A fork turns on every yes/no option for new projects. A project made before those
    questions existed (from release 1.1.0) updates into them with none: org.yml's answers are
    for new projects. Before, the audit workflow, the PyPy leg and the attest step arrived."""
    fork = template_at(RELEASE_1_1_0, tmp_path / "fork")
    options = ("pypy", "lowest_dependencies", "dependency_audit", "community", "attestations")
    set_org_defaults(fork, dict.fromkeys(options, True))
    commit_all(fork, "Every option on for new projects")
    git(fork, "tag", "-f", "v0.2.0")
    project = tmp_path / "acme-widgets"
    copy_with_answers(project, REQUIRED_ANSWERS, fork, "--vcs-ref=v0.1.0")
    run(["git", "init", "-q", project])
    commit_all(project, "Start, with the fork at 1.1.0")
    copier("update", "--trust", "--defaults", cwd=project)
    answers = load_yaml(project / ".copier-answers.yml")
    assert answers["_commit"] == "v0.2.0"
    assert {key: answers[key] for key in options} == dict.fromkeys(options, False)
    assert not (project / ".github/workflows/audit.yml").exists()
    assert not (project / "CODE_OF_CONDUCT.md").exists()
    assert "actions/attest" not in (project / ".github/workflows/publish.yml").read_text()
    jobs = workflow(project, "test.yml")["jobs"]
    assert "lowest" not in jobs and "pypy" not in json.dumps(jobs)


def test_fork_merges_upstream_and_projects_update(scenario: dict[str, Path], org_project: Path) -> None:
    upstream, fork = scenario["upstream"], scenario["fork"]
    # A user of the organisation edits the project.
    edit(org_project / "README.md", "## Install\n", "Internal notes.\n\n## Install\n")
    commit_all(org_project, "User edit")
    # Upstream releases a change: new README text in projects, and a changed help text.
    with (upstream / "template/README.md.jinja").open("a") as f:
        f.write("\n## Support\n\nAsk in the issue tracker.\n")
    edit(
        upstream / "copier.yml",
        "One sentence that says what the package does",
        "One sentence on what the package does",
    )
    commit_all(upstream, "Upstream 1.1.0")
    git(upstream, "tag", "v1.1.0")
    # The fork merges it: no conflict, since the fork only touched org.yml and its own files.
    git(fork, "fetch", "-q", "origin", "--tags")
    merge = run(["git", "-C", fork, "merge", "--no-edit", "origin/HEAD"], check=False)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert git(fork, "diff", "--name-only", "--diff-filter=U") == ""
    git(fork, "tag", "v1.1.0+acme.1")
    # The project takes the fork's new release.
    copier("update", "--trust", "--defaults", cwd=org_project)
    readme = (org_project / "README.md").read_text()
    assert "## Support" in readme
    assert "Internal notes." in readme
    answers = load_yaml(org_project / ".copier-answers.yml")
    assert answers["_commit"] == "v1.1.0+acme.1"
    assert {k: answers[k] for k in ORG} == ORG
    assert (org_project / ".github/CODEOWNERS").read_text() == CODEOWNERS
    assert "<<<<<<<" not in readme


def test_trusting_the_fork_once_replaces_trust_flag(
    scenario: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    dest = tmp_path / "p"
    args: list[str | Path] = ["copy", "--defaults", "-d", "project_name=acme-widgets", scenario["fork"], dest]
    refused = copier(*args, check=False)
    assert refused.returncode != 0
    assert "--trust" in refused.stdout + refused.stderr
    settings = tmp_path / "settings.yml"
    settings.write_text(yaml.safe_dump({"trust": [str(scenario["fork"].parent) + "/"]}))
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(settings))
    copier(*args)
    assert (dest / "pyproject.toml").is_file()


def test_the_renovate_configuration_for_forks_is_valid_and_lets_copier_run_the_template() -> None:
    """docs/renovate.json, which organisation-forks.md hands to a fleet's repositories: valid under
    Renovate's schema, scripts allowed (Renovate passes --trust only then), and the same copier
    range as the README's install command."""
    config_path = TEMPLATE_DIR / "docs" / "renovate.json"
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.renovate", config_path])
    config = json.loads(config_path.read_text(encoding="utf-8"))
    assert config["ignoreScripts"] is False
    readme = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
    assert f'"copier{config["constraints"]["copier"]}"' in readme
    assert [rule["matchManagers"] for rule in config["packageRules"]] == [["copier"]]
    assert "(renovate.json)" in (TEMPLATE_DIR / "docs" / "organisation-forks.md").read_text(encoding="utf-8")
