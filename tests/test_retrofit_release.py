"""The release of a project converted in place, rehearsed: its own job, run here for real.

A retrofit that converts a job in place keeps that job's steps, so its release runs the
owner's own commands, now without a token: the converted job of each shape runs here (the
checkout is the project already here; setup-python a fresh virtual environment; the upload
command as written, with the tool the job installs), and uploads to a package index on
127.0.0.1. The publish action's step runs the twine that the pinned action bundles. A user
name and password for the local index stand in for GitHub's OIDC token, which only GitHub
gives; everything else is what the release runs. The index ends up holding exactly the
files the job built: the files a release uploads are what it uploaded before.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
import test_release
from test_release import PUBLISH_ACTION

# The release rehearsal's fixtures: a local package index, and the twine of an exact release.
package_index = test_release.package_index
twine_of = test_release.twine_of

from helpers import Runner, commit_all, edit, existing_project, retrofit, workflow

pytestmark = pytest.mark.slow

AFTER = "      - name: Tell the team\n        run: echo released\n"
# shape: (workflow, the job converted in place, the text after which a step is added).
SHAPES = {
    "twine": ("twine-tag-onefile", "publish.yml", "publish", "      - run: twine upload dist/*\n"),
    "publish-action": ("action-password-comments", "pypi.yml", "release", None),
    "poetry": ("poetry", "publish.yml", "publish", "        run: poetry publish --build\n"),
}
LOGIN = {"TWINE_USERNAME": "rehearsal", "TWINE_PASSWORD": "rehearsal"}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_job_converted_in_place_releases_the_files_it_built(
    shape: str,
    template: Path,
    tmp_path: Path,
    package_index: str,
    twine_of,
) -> None:
    fixture, name, job_id, upload = SHAPES[shape]
    project = existing_project(fixture, tmp_path / fixture)
    path = project / ".github" / "workflows" / name
    if upload:  # a step after the upload: the job is converted in place
        edit(path, upload, upload + AFTER)
        commit_all(project, "Tell the team after each release")
    retrofit(template, project)
    job = workflow(project, name)["jobs"][job_id]
    assert job["permissions"]["id-token"] == "write" and "secrets." not in path.read_text()
    index = package_index + "/"
    action = [twine_of(PUBLISH_ACTION["twine"]), "upload", "--non-interactive", "--repository-url", index]
    env = {**LOGIN, "TWINE_REPOSITORY_URL": index, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    runner = Runner(
        project, tmp_path / "runner", env, publish=[*action, "-u", "rehearsal", "-p", "rehearsal"]
    )
    runner.run_job(job)
    built = sorted(p.name for p in (project / "dist").iterdir() if not p.name.startswith("."))
    assert built and any(n.endswith(".whl") for n in built) and any(n.endswith(".tar.gz") for n in built)
    uploaded = on_the_index(package_index)
    assert set(built) <= set(uploaded), (built, uploaded)


def on_the_index(url: str) -> list[str]:
    """The files the local index serves (its list of every package file)."""
    with urllib.request.urlopen(url + "/packages/", timeout=10) as page:
        return sorted(set(re.findall(r'href="[^"]*?([^/"#]+\.(?:whl|tar\.gz))', page.read().decode())))
