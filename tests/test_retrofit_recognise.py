"""Recognise every step that could publish, or refuse (extensions/retrofit/recognise.py).

Small workflows modelled on real token-publishing projects whose upload the retrofit once
took for "no upload" (and then added a second publisher beside the real one). Each is
refused with its own one-line reason naming file and line; a credential's known other uses
are kept. The last test runs copier on such a project: refused, nothing written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extensions.retrofit.recognise import obstacle
from extensions.retrofit.workflows import Workflow
from helpers import commit_all, existing_project, load_yaml, refused, retrofit, run

TAGS = 'on:\n  push:\n    tags: ["v*"]\n'


def job(steps: str, head: str = TAGS, env: str = "") -> str:
    return f"{head}{env}jobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n{steps}"


def reason(text: str) -> str:
    return obstacle(Workflow(Path("/nonexistent-project/.github/workflows/release.yml"), text))


# One workflow per obstacle: (text, what its refusal must say).
REFUSED = {
    "setup.py upload": (job("      - run: python setup.py sdist upload\n"), ":9: `setup.py upload`"),
    "a release tool": (
        job(
            "      - uses: relekang/python-semantic-release@v7\n        with:\n          pypi_token: ${{ secrets.PYPI_TOKEN }}\n"
        ),
        ":9: relekang/python-semantic-release is given secrets.PYPI_TOKEN and can upload to PyPI by itself",
    ),
    "a script given a PyPI token": (
        job(
            "      - run: ./scripts/release.sh\n        env:\n          FLIT_PASSWORD: ${{ secrets.RELEASE_TOKEN }}\n"
        ),
        ":9: `./scripts/release.sh` is handed a PyPI credential (FLIT_PASSWORD)",
    ),
    "a PyPI login inside an expression": (
        job(
            "      - run: ./scripts/release.sh\n        env:\n"
            "          PYPI_TOKEN: ${{ secrets.PROJECT_PYPI_TOKEN || secrets.PYPI_TOKEN }}\n"
        ),
        ":9: `./scripts/release.sh` is handed a PyPI credential (PROJECT_PYPI_TOKEN)",
    ),
    "every secret at once": (
        job("      - run: python -m build\n      - run: ./release.sh '${{ toJSON(secrets) }}'\n"),
        ":10: `./release.sh '${{ toJSON(secrets) }}'` is handed every secret (toJSON(secrets))",
    ),
    "a PyPI token in the job's env, read by no known upload": (
        job("      - run: nox -s release\n", env="").replace(
            "    runs-on: ubuntu-latest\n",
            "    runs-on: ubuntu-latest\n    env:\n      TWINE_PASSWORD: ${{ secrets.PYPI }}\n",
        ),
        ":7: TWINE_PASSWORD is set for every step of job release, and none of them is an upload this template knows",
    ),
    "another repository's workflow given secrets": (
        TAGS
        + "jobs:\n  release:\n    uses: acme/shared/.github/workflows/pypi.yml@main\n    secrets: inherit\n",
        ":5: job release calls acme/shared/.github/workflows/pypi.yml@main, another repository's workflow",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_step_that_could_publish_and_cannot_be_read_is_refused(case: str) -> None:
    text, expected = REFUSED[case]
    assert expected in reason(text)


def test_each_obstacle_has_its_own_one_line_reason_with_file_and_line() -> None:
    messages = {case: reason(text) for case, (text, _) in REFUSED.items()}
    for message in messages.values():
        assert message.startswith(".github/workflows/release.yml:") and "\n" not in message
    # One reason per obstacle: no two share their first clause.
    openings = {re.sub(r"`[^`]*`|\S+/\S+", "X", m.split(": ", 1)[1])[:60] for m in messages.values()}
    assert len(openings) == len(messages), openings


@pytest.mark.parametrize(
    "text",
    [
        # A coverage token in the job that tests, a deploy key where nothing is built.
        job(
            "      - run: pytest\n      - uses: codecov/codecov-action@v5\n        with:\n          token: ${{ secrets.CODECOV_TOKEN }}\n"
        ),
        job("      - run: mkdocs gh-deploy\n        env:\n          DEPLOY_KEY: ${{ secrets.DOCS_KEY }}\n"),
        # GitHub's own CLI with a personal token, and a registry login, beside a build.
        job(
            "      - run: python -m build\n      - run: gh release create v1 dist/*\n        env:\n          GH_TOKEN: ${{ secrets.RELEASE_PAT }}\n"
        ),
        job(
            "      - run: python -m build\n      - uses: docker/login-action@v3\n        with:\n          password: ${{ secrets.DOCKER_PASSWORD }}\n"
        ),
        # A known upload with its token: the plan converts it.
        job(
            "      - run: python -m build\n      - run: twine upload dist/*\n        env:\n          TWINE_PASSWORD: ${{ secrets.ANY_NAME }}\n"
        ),
        # Pull requests only: it cannot release.
        job(
            "      - run: ./scripts/release.sh\n        env:\n          TWINE_PASSWORD: ${{ secrets.PYPI }}\n",
            head="on: pull_request\n",
        ),
    ],
    ids=["codecov", "deploy-key", "gh-cli", "docker-login", "twine", "pull-request-only"],
)
def test_known_other_uses_of_a_credential_are_kept(text: str) -> None:
    assert reason(text) == ""


def project_with(tmp_path: Path, files: dict[str, str], workflow: str) -> Path:
    """A project folder holding ``files`` and the workflow release.yml."""
    for name, text in {**files, ".github/workflows/release.yml": workflow}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path / ".github/workflows/release.yml"


@pytest.mark.parametrize(
    ("recipe", "refused"),
    [
        ("release:\n\tpython -m build\n\ttwine upload -p $$TOKEN dist/*\n", True),
        ("release:\n\tgh release create $$TAG dist/*\ndocs:\n\ttwine upload dist/*\n", False),
    ],
    ids=["the-target-uploads", "another-target-uploads"],
)
def test_a_credential_beside_the_distributions_is_refused_only_where_the_code_it_runs_uploads(
    tmp_path: Path, recipe: str, refused: bool
) -> None:
    """`make release` handed a token of any name in a job that built: refused where the
    target's recipe uploads (the upload is in code the workflow does not show), and taken for
    what it is where it does not."""
    path = project_with(
        tmp_path,
        {"Makefile": recipe},
        job(
            "      - run: python -m build\n      - run: make release\n        env:\n          TOKEN: ${{ secrets.RELEASE_TOKEN }}\n"
        ),
    )
    found = obstacle(Workflow(path))
    if refused:
        assert (
            ":10: `make release` is handed secrets.RELEASE_TOKEN in job release, which has the distributions, "
            in found
        )
        assert "runs Makefile:3, which uploads" in found
    else:
        assert found == ""


@pytest.mark.parametrize(
    "steps",
    [
        "      - uses: actions/download-artifact@v4\n      - uses: coverallsapp/github-action@v2\n        with:\n          github-token: ${{ secrets.COVERALLS_REPO_TOKEN }}\n",
        "      - uses: actions/download-artifact@v4\n      - run: anaconda upload --skip dist/conda/*.conda\n        env:\n          ANACONDA_API_TOKEN: ${{ secrets.ANACONDA_TOKEN }}\n",
        "      - run: python -m build\n      - uses: nwtgck/actions-netlify@v3\n        env:\n          NETLIFY_AUTH_TOKEN: ${{ secrets.NETLIFY_AUTH_TOKEN }}\n",
        "      - uses: actions/download-artifact@v4\n      - uses: dawidd6/action-homebrew-bump-formula@v4\n        with:\n          token: ${{ secrets.HOMEBREW_TAP_TOKEN }}\n",
        '      - run: python -m build\n      - run: curl -X POST -d @dist/notes.json "$HOOK"\n        env:\n          HOOK: ${{ secrets.SLACK_WEBHOOK_SECRET }}\n',
    ],
    ids=["coveralls", "anaconda", "netlify", "homebrew", "slack"],
)
def test_other_services_credentials_beside_the_distributions_are_no_upload(steps: str) -> None:
    """Coverage reports, conda packages, a docs deploy, a Homebrew tap, a chat hook: once each
    was taken for a possible PyPI upload because its job had the distributions."""
    assert reason(job(steps)) == ""


def test_maturin_uploads_are_uploads_the_retrofit_converts() -> None:
    for steps in (
        "      - run: maturin upload --skip-existing target/wheels/*\n        env:\n          MATURIN_PASSWORD: ${{ secrets.PYPI }}\n",
        "      - uses: PyO3/maturin-action@v1\n        with:\n          command: upload\n          args: --non-interactive *.whl\n",
    ):
        workflow = Workflow(Path("/nonexistent-project/.github/workflows/release.yml"), job(steps))
        assert obstacle(workflow) == ""
        assert [j.id for j in workflow.publishing_jobs()] == ["release"]


def test_a_maturin_project_is_converted_in_place(template: Path, tmp_path: Path) -> None:
    """maturin uploads what it built in the same job, and finds the OIDC token by itself: the job
    keeps its steps and loses its login (once refused, and before that given a second publisher)."""
    project = existing_project("twine-tag-onefile", tmp_path / "p")
    workflow = project / ".github/workflows/publish.yml"
    workflow.write_text(
        workflow.read_text().replace(
            "      - run: twine upload dist/*\n", "      - run: maturin upload dist/*\n"
        )
    )
    commit_all(project, "Releases with maturin")
    retrofit(template, project)
    text = workflow.read_text()
    assert "secrets.PYPI_TOKEN" not in text and "TWINE_" not in text
    publish = load_yaml(workflow)["jobs"]["publish"]
    assert publish["steps"][-1] == {"run": "maturin upload dist/*"}
    assert publish["permissions"] == {"id-token": "write", "contents": "read"}
    assert publish["environment"]["name"] == "release"


def test_a_rust_project_that_releases_with_maturin_is_not_taken_for_a_new_library(
    template: Path, tmp_path: Path
) -> None:
    """No pyproject.toml at the top (Cargo.toml), a workflow that uploads with maturin: once
    taken for an empty folder, and copier offered to write a new README over the project's."""
    project = tmp_path / "rusty"
    (project / ".github/workflows").mkdir(parents=True)
    (project / "Cargo.toml").write_text('[package]\nname = "rusty"\nversion = "0.1.0"\n')
    (project / "README.md").write_text("# rusty, the owner's README\n")
    (project / ".github/workflows/release.yml").write_text(
        job("      - run: maturin publish\n        env:\n          MATURIN_PYPI_TOKEN: ${{ secrets.PYPI }}\n")
    )
    run(["git", "init", "-q", project])
    commit_all(project, "A Rust library for Python")
    message = refused(template, project)
    assert (
        ".github/workflows/release.yml:9 uploads to PyPI, but this repository holds no pyproject.toml"
        in message
    )
    assert "it will not render a new library over this one" in message
    assert (project / "README.md").read_text() == "# rusty, the owner's README\n"


def test_a_pypi_token_handed_to_an_action_that_runs_any_code_is_refused() -> None:
    """actions/github-script runs whatever script it is given: with a PyPI token, it can upload."""
    text = job(
        "      - uses: actions/github-script@v7\n        env:\n          TOKEN: ${{ secrets.PYPI_TOKEN }}\n"
    )
    assert ":9: the action actions/github-script is handed a PyPI credential (PYPI_TOKEN)" in reason(text)
