"""A change to the template's own code renders the same projects, byte for byte.

Every variant that test_workflows.py checks is rendered twice today: from the release
BASELINE (its commit, which main's history holds: CI's clone of main has no tags) and from
the working tree. They must be identical but for the template version recorded in the answers
file. A change that means to change what projects get lists the files it changes under
CHANGED (variant -> files); a release moves BASELINE to itself and empties CHANGED.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import TEMPLATE_DIR, copy_in_process, snapshot
from test_workflows import VARIANTS

# Copier runs in this process here: copier 9.10.0 (the oldest supported, CI's second leg) calls
# a pathspec API that is deprecated and leaves a directory iterator open; neither is ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:GitWildMatchPattern:DeprecationWarning",
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


# The release v1.1.0 and its commit (`git rev-parse 'v1.1.0^{commit}'`).
BASELINE = ("v1.1.0", "27872ef4ff9d71d6289311395f47e47ed3e758cb")
# Questions added since BASELINE: rendered here with their defaults (off), as a project that
# updates into them gets them; the variants that turn them on are test_workflows.py's.
ADDED = (
    "dependency_audit", "attestations", "update_pull_request", "pypy", "community", "conduct_contact", "changelog",
    "lowest_dependencies",
)  # fmt: skip
# Since 1.1.0: CONTRIBUTING.md (every check CI runs, as commands), the `dev` group that runs
# them (pyproject.toml), and the README's link to it; the answers file records the questions
# ADDED. ci_installer=uv: the project commits uv.lock (a task writes it), CI installs exactly it
# (test.yml, docs.yml) and Dependabot relocks it; .gitignore no longer ignores it.
UV_LOCK = {"uv.lock", ".gitignore", ".github/workflows/test.yml", ".github/dependabot.yml"}
# community=yes, a new project's default: a code of conduct, issue forms, a pull request template.
COMMUNITY = {
    "CODE_OF_CONDUCT.md",
    ".github/ISSUE_TEMPLATE/bug_report.yml",
    ".github/ISSUE_TEMPLATE/feature_request.yml",
    ".github/ISSUE_TEMPLATE/config.yml",
    ".github/pull_request_template.md",
}
# changelog=towncrier, a new project's default: change files in changes/, gathered at release
# (CHANGELOG.md, RELEASING.md); and GitHub's release notes grouped by label.
RELEASE_NOTES = {"changes/README.md", "CHANGELOG.md", "RELEASING.md", ".github/release.yml"}
WHEELS = {".github/workflows/publish.yml", ".github/workflows/wheels.yml"}
CHANGED: dict[str, set[str]] = {
    variant: {
        "CONTRIBUTING.md",
        "pyproject.toml",
        "README.md",
        "answers (without _commit)",
        *COMMUNITY,
        *RELEASE_NOTES,
        # lowest_dependencies=yes, a new project's default: a job, and the folder CONTRIBUTING.md's
        # commands for it make is ignored.
        ".github/workflows/test.yml",
        ".gitignore",
    }
    | (UV_LOCK if answers["ci_installer"] == "uv" else set())
    # scikit-build-core: the wheels job moved to wheels.yml (pull requests too); publish.yml calls it.
    | (WHEELS if answers["build_backend"] == "scikit-build-core" else set())
    # Actions pinned by tag: zizmor.yml allows each action used, with pip now setup-uv too (the
    # lowest job).
    | (
        {".github/zizmor.yml"}
        if answers["pin_actions"] is False and answers["ci_installer"] == "pip"
        else set()
    )
    | (
        {".github/workflows/docs.yml"}
        if answers["ci_installer"] == "uv" and answers["docs"] == "mkdocs"
        else set()
    )
    for variant, answers in VARIANTS.items()
}


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(TEMPLATE_DIR), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def baseline_commit() -> str:
    tag, commit = BASELINE
    if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        # A shallow clone: the release is not in its history, so there is nothing to compare.
        pytest.skip(f"{tag} ({commit[:12]}) is not in this clone's history: run `git fetch --unshallow`")
    tagged = _git("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    if tagged.returncode == 0:  # where the clone has the tag, it names that commit
        assert tagged.stdout.strip() == commit, f"BASELINE names the wrong commit for {tag}"
    return commit


def _render(ref: str, dest: Path, answers: dict[str, object]) -> dict[str, bytes]:
    copy_in_process(TEMPLATE_DIR, dest, ref, **answers)
    files = snapshot(dest)
    recorded = yaml.safe_load(files.pop(".copier-answers.yml"))
    files["answers (without _commit)"] = repr(
        sorted((k, v) for k, v in recorded.items() if k != "_commit")
    ).encode()
    return files


# A backend added since BASELINE renders nothing there to compare with.
@pytest.mark.parametrize(
    "variant", [name for name, answers in VARIANTS.items() if answers["build_backend"] != "scikit-build-core"]
)
def test_the_working_tree_renders_what_the_baseline_rendered(
    variant: str, baseline_commit: str, tmp_path: Path
) -> None:
    answers = {k: v for k, v in VARIANTS[variant].items() if k not in ADDED}
    before = _render(baseline_commit, tmp_path / "baseline", answers)
    now = _render("HEAD", tmp_path / "now", answers)
    changed = {name for name in before.keys() | now.keys() if before.get(name) != now.get(name)}
    assert changed == CHANGED.get(variant, set())
