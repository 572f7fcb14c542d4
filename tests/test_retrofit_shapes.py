"""Retrofit, shape by shape: the plan for small workflows modelled on what real projects
write (extensions/retrofit/upgrade.py called directly; tests/test_retrofit.py runs copier on
whole projects). Each shape either moves its upload into a minimal publish job, keeping
everything else, or is refused with a reason that is true, naming the line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions.retrofit.plan import Plan
from extensions.retrofit.upgrade import plan as make_plan
from extensions.retrofit.workflows import RetrofitRefusal, Workflow


def plan(text: str, name: str = "release.yml") -> Plan:
    # A project folder that does not exist: no other workflow is read beside this one.
    workflow = Workflow(Path("/nonexistent-project/.github/workflows") / name, text)
    return make_plan(
        workflow, environment="pypi", project_name="acme", uses=lambda action: f"{action}@{'0' * 40} # v9"
    )


def jobs(result: Plan) -> dict[str, Any]:
    return yaml.safe_load(result.text)["jobs"]


def job_with(text: str, steps: str, head: str = "on: push\n", job: str = "") -> str:
    return f"{head}jobs:\n  build:\n    runs-on: ubuntu-latest\n{job}    steps:\n{steps}"


def refusal(text: str) -> str:
    with pytest.raises(RetrofitRefusal) as caught:
        plan(text)
    return str(caught.value)


TAGS = 'on:\n  push:\n    tags: ["v*"]\n'


@pytest.mark.parametrize(
    ("command", "kept"),
    [
        ("twine upload dist/*;", None),
        ("uv run hatch publish -n", None),
        ("uv run --frozen twine upload dist/*", None),
        ("python -m build && twine upload dist/*", "python -m build"),
        ("poetry publish --build", "poetry build"),
        ("uv publish", None),
    ],
)
def test_an_upload_command_leaves_the_build_and_moves(command: str, kept: str | None) -> None:
    result = plan(job_with("", f"      - run: pip install build\n      - run: {command}\n", head=TAGS))
    built = jobs(result)["build"]["steps"]
    runs = [s["run"] for s in built if "run" in s]
    assert runs == ["pip install build", *([kept] if kept else [])]
    assert built[-1]["uses"].startswith("actions/upload-artifact@")
    assert "publish-to-pypi" in jobs(result)


@pytest.mark.parametrize(
    "block",
    [
        '          if [ "$GITHUB_REF_TYPE" = tag ]; then\n            twine upload dist/*\n          else\n            echo skip\n          fi\n',
        "          for d in dist-*; do\n            twine upload $d/*\n          done\n",
    ],
    ids=["if-else", "for"],
)
def test_an_upload_inside_shell_control_flow_is_converted_in_place(block: str) -> None:
    """The upload cannot be cut out of its shell logic: the job keeps it, byte for byte, and
    gains the environment and the permission (the ladder's second rung)."""
    text = job_with("", f"      - run: |\n{block}", head=TAGS)
    result = plan(text)
    assert "inside shell control flow" in result.in_place["build"]
    build = jobs(result)["build"]
    assert build["steps"] == yaml.safe_load(text)["jobs"]["build"]["steps"]
    assert build["permissions"] == {"id-token": "write"} and build["environment"]["name"] == "pypi"
    assert list(jobs(result)) == ["build"]


def test_an_upload_piped_or_followed_by_a_command_is_converted_in_place() -> None:
    for command in ("twine upload dist/* | tee log", "twine upload dist/* && echo done"):
        result = plan(job_with("", f"      - run: {command}\n"))
        assert "longer shell command" in result.in_place["build"]
        assert jobs(result)["build"]["steps"] == [{"run": command}]


def test_a_token_handed_to_poetry_config_goes_too() -> None:
    steps = (
        "      - run: poetry config pypi-token.pypi ${{ secrets.PYPI_TOKEN }}\n"
        "      - run: poetry build\n"
        "      - run: poetry publish\n"
    )
    result = plan(job_with("", steps, head=TAGS))
    assert "secrets." not in result.text
    assert result.secrets == ["PYPI_TOKEN"]
    assert [s.get("run") for s in jobs(result)["build"]["steps"] if "run" in s] == ["poetry build"]


def test_an_old_action_ref_is_replaced_by_the_pinned_release() -> None:
    steps = (
        "      - run: pipx run build\n"
        "      - uses: pypa/gh-action-pypi-publish@master\n"
        "        with:\n          password: ${{ secrets.PYPI_PASSWORD }}\n"
    )
    result = plan(job_with("", steps, head=TAGS))
    assert "@master" not in result.text
    publish = jobs(result)["publish-to-pypi"]["steps"][-1]["uses"]
    assert publish == f"pypa/gh-action-pypi-publish@{'0' * 40}"


def test_a_build_in_a_subfolder_is_kept_from_that_folder() -> None:
    job = "    defaults:\n      run:\n        working-directory: packages/core\n"
    result = plan(
        job_with("", "      - run: python -m build\n      - run: twine upload dist/*\n", head=TAGS, job=job)
    )
    artifact = jobs(result)["build"]["steps"][-1]
    assert artifact["with"]["path"] == "packages/core/dist/"


def test_each_matrix_leg_keeps_its_own_artifact_and_the_event_condition_gates_the_job() -> None:
    head = 'on:\n  push:\n    branches: [main]\n    tags: ["v*"]\n  pull_request:\n'
    job = "    strategy:\n      matrix:\n        python: ['3.11', '3.12']\n"
    steps = (
        "      - run: python -m build\n"
        "      - if: matrix.python == '3.12' && startsWith(github.ref, 'refs/tags/')\n"
        "        run: twine upload dist/*\n"
    )
    result = plan(job_with("", steps, head=head, job=job))
    artifact = jobs(result)["build"]["steps"][-1]
    assert artifact["with"]["name"] == "python-distributions.build.${{ strategy.job-index }}"
    assert artifact["if"] == "matrix.python == '3.12' && startsWith(github.ref, 'refs/tags/')"
    assert jobs(result)["publish-to-pypi"]["if"] == "startsWith(github.ref, 'refs/tags/')"


def test_a_condition_only_the_building_job_can_read_is_kept_in_place_when_the_workflow_runs_for_more() -> (
    None
):
    head = "on: [push, pull_request]\n"
    steps = "      - run: python -m build\n      - if: steps.version.outputs.new == 'true'\n        run: twine upload dist/*\n"
    result = plan(job_with("", steps, head=head))
    assert "a separate publish job could not tell when to run" in result.in_place["build"]
    assert jobs(result)["build"]["steps"][-1] == {
        "if": "steps.version.outputs.new == 'true'",
        "run": "twine upload dist/*",
    }


def test_a_failing_testpypi_upload_stops_pypi_only_if_it_did_before() -> None:
    def steps(continue_on_error: bool) -> str:
        extra = "        continue-on-error: true\n" if continue_on_error else ""
        return (
            "      - run: python -m build\n"
            f"      - run: twine upload --repository testpypi --skip-existing dist/*\n{extra}"
            "      - run: twine upload dist/*\n"
        )

    stopped = jobs(plan(job_with("", steps(False), head=TAGS)))
    assert stopped["publish-to-pypi"]["needs"] == ["build", "publish-to-testpypi"]
    assert stopped["publish-to-testpypi"]["steps"][-1]["with"] == {
        "repository-url": "https://test.pypi.org/legacy/",
        "skip-existing": True,
    }
    assert stopped["publish-to-testpypi"]["environment"]["name"] == "testpypi"
    independent = jobs(plan(job_with("", steps(True), head=TAGS)))
    assert independent["publish-to-pypi"]["needs"] == ["build"]


def test_the_tests_of_the_workflow_gate_the_upload_and_none_are_invented() -> None:
    head = TAGS + "jobs:\n  tests:\n    runs-on: ubuntu-latest\n    steps:\n      - run: just test\n"
    text = (
        head
        + "  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m build\n      - run: twine upload dist/*\n"
    )
    gated = plan(text)
    assert jobs(gated)["publish-to-pypi"]["needs"] == ["build", "tests"]
    assert gated.notes == []
    ungated = plan(
        job_with("", "      - run: python -m build\n      - run: twine upload dist/*\n", head=TAGS)
    )
    assert list(jobs(ungated)) == ["build", "publish-to-pypi"]
    assert "No tests gate publish-to-pypi" in ungated.notes[0]


def test_a_job_that_only_downloads_and_uploads_becomes_the_trusted_job_in_place() -> None:
    text = (
        TAGS + "jobs:\n  upload:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/download-artifact@v4\n"
        "      - uses: pypa/gh-action-pypi-publish@v1.5.0\n"
        "        with:\n          user: __token__\n          password: ${{ secrets.pypi_password }}\n"
    )
    result = jobs(plan(text))
    assert list(result) == ["upload"]
    assert result["upload"]["permissions"] == {"id-token": "write"}
    assert result["upload"]["environment"]["name"] == "pypi"
    assert "with" not in result["upload"]["steps"][-1]


def test_uploads_of_two_projects_in_one_workflow_are_refused() -> None:
    """Each PyPI project needs its own trusted publisher: this template cannot name them all."""
    text = (
        TAGS
        + "jobs:\n"
        + "".join(
            f"  {name}:\n    runs-on: ubuntu-latest\n    defaults:\n      run:\n        working-directory: {name}\n"
            "    steps:\n      - run: python -m build\n      - run: twine upload dist/*\n"
            for name in ("core", "plugins")
        )
    )
    message = refusal(text)
    assert "uploads 2 packages to PyPI (core/ (line 12); plugins/ (line 20))" in message
    assert "every release works as before" in message


def test_a_build_that_tests_its_wheels_gates_the_upload() -> None:
    """cibuildwheel runs the tests on each wheel it builds (CIBW_TEST_COMMAND): no note, no guess."""
    steps = (
        "      - uses: pypa/cibuildwheel@v2.21.3\n"
        "        env:\n          CIBW_TEST_COMMAND: pytest {project}/tests\n"
        "      - run: twine upload wheelhouse/*\n"
    )
    result = plan(job_with("", steps, head=TAGS))
    assert result.notes == []
    assert jobs(result)["build"]["steps"][-1]["with"]["path"] == "wheelhouse/"


# --- tests that live in another workflow: the release calls it -------------------------------

RELEASE = (
    "on:\n  release:\n    types: [published]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: python -m build\n      - run: twine upload dist/*\n        env:\n"
    "          TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}\n"
)
PYTEST_JOBS = "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"


def plan_file(path: Path) -> Plan:
    """The plan of the workflow at ``path``, in a project that exists (its other files are read)."""
    return make_plan(
        Workflow(path), environment="pypi", project_name="acme", uses=lambda a: f"{a}@{'0' * 40} # v9"
    )


def plan_beside(tmp_path: Path, tests: str, release: str = RELEASE) -> Plan:
    """The plan of release.yml in a project whose ci.yml holds ``tests``."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(tests)
    (folder / "release.yml").write_text(release)
    return plan_file(folder / "release.yml")


@pytest.mark.parametrize(
    ("on", "after"),
    [
        ("on: push\n", "on: [push, workflow_call]\n"),
        ('"on": "push"\n', '"on": ["push", workflow_call]\n'),
        (
            "on: [push, pull_request]  # every change\n",
            "on: [push, pull_request, workflow_call]  # every change\n",
        ),
        ("on:\n  - push\n  - pull_request\n", "on:\n  - push\n  - pull_request\n  - workflow_call\n"),
        (
            "on:\n  push:\n    branches: [main]\n  pull_request:\n# end of triggers\n",
            "on:\n  push:\n    branches: [main]\n  pull_request:\n  workflow_call:\n# end of triggers\n",
        ),
        ("on:\n  pull_request:\n  workflow_call:\n", "on:\n  pull_request:\n  workflow_call:\n"),
    ],
    ids=["scalar", "quoted", "flow-list", "block-list", "mapping", "already-callable"],
)
def test_tests_in_another_workflow_are_called_and_gate_the_upload(
    tmp_path: Path, on: str, after: str
) -> None:
    result = plan_beside(tmp_path, on + PYTEST_JOBS)
    [(path, text, _)] = result.others
    assert path.name == "ci.yml"
    assert text == after + PYTEST_JOBS  # the triggers gain workflow_call; nothing else changes
    new = jobs(result)
    assert new["tests"]["uses"] == "./.github/workflows/ci.yml"
    assert new["tests"]["permissions"] == {"contents": "read"}
    assert "tests" in new["publish-to-pypi"]["needs"]
    assert not any("No tests gate" in note for note in result.notes)


def test_the_call_is_granted_what_the_tests_read_and_waits_like_the_upload(tmp_path: Path) -> None:
    tests = (
        "on: push\npermissions:\n  contents: read\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    permissions:\n      actions: read\n      contents: read\n    steps:\n      - run: tox\n"
    )
    release = RELEASE.replace(
        "      - run: twine", "      - if: startsWith(github.ref, 'refs/tags/')\n        run: twine"
    )
    release = release.replace("on:\n  release:\n    types: [published]\n", 'on:\n  push:\n    tags: ["v*"]\n')
    new = jobs(plan_beside(tmp_path, tests, release))
    # A call may only narrow the caller's permissions: the calling job holds what the tests read.
    assert new["tests"]["permissions"] == {"actions": "read", "contents": "read"}
    assert new["tests"]["if"] == new["publish-to-pypi"]["if"] == "startsWith(github.ref, 'refs/tags/')"


@pytest.mark.parametrize(
    ("tests", "reason"),
    [
        (
            (
                "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
                "      - run: echo '${{ toJSON(secrets) }}' > all.json\n"
            ),
            "line 7 reads `secrets`",
        ),
        (
            (
                "on: [push, pull_request]\njobs:\n  test:\n    if: github.event_name == 'pull_request'\n"
                "    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
            ),
            "line 4 reads `github.event_name`",
        ),
        (
            (
                "on: push\njobs:\n  test:\n    if: github.ref == 'refs/heads/main'\n"
                "    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
            ),
            "line 4 reads `github.ref`",
        ),
        (
            "on: push\npermissions:\n  pull-requests: write\n" + PYTEST_JOBS,
            "asks for write permissions",
        ),
        (
            "on:\n  workflow_call:\n    inputs:\n      python:\n        required: true\n        type: string\n"
            + PYTEST_JOBS,
            "required inputs",
        ),
        ("on: {push: {branches: [main]}}\n" + PYTEST_JOBS, "form this template does not edit"),
    ],
    ids=["all-secrets", "event-name", "branch-only", "write", "required-input", "flow-mapping"],
)
def test_tests_a_call_would_change_are_not_called_and_the_owner_is_told_why(
    tmp_path: Path, tests: str, reason: str
) -> None:
    result = plan_beside(tmp_path, tests)
    assert result.others == []
    assert "tests" not in jobs(result)
    assert any(
        reason in note and ".github/workflows/ci.yml was not called" in note for note in result.notes
    ), result.notes
    assert any(note.startswith("No tests gate publish-to-pypi") for note in result.notes)


def test_two_concurrency_groups_are_not_called_into_a_deadlock(tmp_path: Path) -> None:
    group = "concurrency:\n  group: ${{ github.workflow }}-${{ github.ref }}\n  cancel-in-progress: true\n"
    result = plan_beside(
        tmp_path, "on: push\n" + group + PYTEST_JOBS, RELEASE.replace("jobs:\n", group + "jobs:\n", 1)
    )
    assert result.others == []
    assert any("deadlock" in note for note in result.notes)
    # One group alone is no collision: the call is made.
    assert plan_beside(tmp_path / "one", "on: push\n" + group + PYTEST_JOBS).others


@pytest.mark.parametrize(
    ("command", "folder"),
    [
        ("twine upload --repository-url https://test.pypi.org/legacy/ dist/*", "dist/"),
        ("twine upload -r testpypi --skip-existing wheelhouse/*.whl", "wheelhouse/*.whl"),
        ("twine upload --config-file .pypirc 'out dir/'*", "out dir/"),
    ],
)
def test_an_option_value_is_never_taken_for_the_folder_to_upload(command: str, folder: str) -> None:
    """Once `--repository-url URL dist/*` gave the artifact the URL for a path."""
    result = plan(job_with("", f"      - run: python -m build\n      - run: {command}\n", head=TAGS))
    assert jobs(result)["build"]["steps"][-1]["with"]["path"] == folder


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("twine upload dist/*.tar.gz wheelhouse/*.whl", "several folders (dist/, wheelhouse/)"),
        ("twine upload *", "files of the working folder itself"),
        ("twine upload 'dist/*", "a line the shell could not parse"),
    ],
)
def test_an_upload_of_several_folders_or_none_stays_where_it_is(command: str, expected: str) -> None:
    result = plan(job_with("", f"      - run: {command}\n", head=TAGS))
    assert expected in result.in_place["build"]
    assert jobs(result)["build"]["steps"] == [{"run": command}]


@pytest.mark.parametrize(
    ("command", "kept"),
    [
        ("twine upload dist/*.whl", "dist/*.whl"),
        ("twine upload dist/*.tar.gz", "dist/*.tar.gz"),
        ("twine upload --skip-existing dist/acme_widgets-*", "dist/acme_widgets-*"),
        ("twine upload dist/*.whl dist/*.tar.gz", "dist/*.whl\ndist/*.tar.gz"),
        ("twine upload dist/*", "dist/"),
    ],
    ids=["wheels-only", "sdist-only", "name-prefix", "both-globs", "all"],
)
def test_the_publish_job_uploads_exactly_the_files_the_upload_named(command: str, kept: str) -> None:
    """A project that uploaded wheels only never gets an sdist on PyPI (which cannot be taken
    back): the artifact keeps what the command named, and the publish job uploads that alone."""
    result = plan(job_with("", f"      - run: python -m build\n      - run: {command}\n", head=TAGS))
    artifact = jobs(result)["build"]["steps"][-1]
    assert artifact["uses"].startswith("actions/upload-artifact@")
    assert artifact["with"]["path"].strip() == kept
    assert jobs(result)["publish-to-pypi"]["steps"][0]["with"] == {
        "name": "python-distributions.build",
        "path": "dist/",
    }


def test_two_projects_uploaded_from_one_folder_are_refused_not_merged() -> None:
    """Two distributions from one dist/, each with its own token: each is a PyPI project of its
    own, with a trusted publisher of its own (once merged into one upload for one project)."""
    steps = (
        "      - run: python -m build && python -m build extra/ -o dist\n"
        "      - run: twine upload dist/acme_x-*\n        env:\n          TWINE_PASSWORD: ${{ secrets.X_TOKEN }}\n"
        "      - run: twine upload dist/acme_x_extra-*\n        env:\n          TWINE_PASSWORD: ${{ secrets.EXTRA_TOKEN }}\n"
    )
    message = refusal(job_with("", steps, head=TAGS))
    assert "it uploads 2 packages to PyPI (./ (acme_x) (line 9); ./ (acme_x_extra) (line 12))" in message


def test_the_inputs_the_action_reads_in_either_spelling_are_kept() -> None:
    """`skip_existing: true` once went, and the next push of the same version failed."""
    steps = (
        "      - run: python -m build\n      - uses: pypa/gh-action-pypi-publish@release/v1\n        with:\n"
        "          password: ${{ secrets.PYPI }}\n          skip_existing: true\n          verbose: true\n"
    )
    upload = jobs(plan(job_with("", steps, head=TAGS)))["publish-to-pypi"]["steps"][-1]
    assert upload["with"] == {"skip-existing": True, "verbose": True}


@pytest.mark.parametrize(
    ("tests", "after"),
    [
        # No line end at the end of the file: the new trigger goes on a line of its own.
        (
            "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\non:\n  - push",
            "on:\n  - push\n  - workflow_call\n",
        ),
    ],
    ids=["no-final-line-end"],
)
def test_the_tests_workflow_gains_its_trigger_on_a_line_of_its_own(
    tmp_path: Path, tests: str, after: str
) -> None:
    result = plan_beside(tmp_path, tests)
    assert [path.name for path, _, _ in result.others] == ["ci.yml"]
    assert result.others[0][1].endswith(after)


@pytest.mark.parametrize(
    "on",
    [
        "x-triggers: &triggers\n  push:\n  pull_request:\non: *triggers\n",
        "x-base: &base\n  push:\non:\n  <<: *base\n  pull_request:\n",
    ],
    ids=["alias", "merge-key"],
)
def test_triggers_written_through_aliases_are_not_edited_and_the_owner_is_told(
    tmp_path: Path, on: str
) -> None:
    """Once `workflow_call` landed inside the aliased mapping, elsewhere in the file."""
    result = plan_beside(tmp_path, on + PYTEST_JOBS)
    assert result.others == []
    assert any("ci.yml was not called before the release" in note for note in result.notes)


@pytest.mark.parametrize(
    "on",
    [
        "x-push: &push\n  branches: [main]\non:\n  pull_request:\n  push: *push\n",
        "x-b: &b [main]\nx-p: &p ['src/**']\non:\n  push:\n  pull_request:\n    branches: *b\n    paths: *p\n",
    ],
    ids=["last-trigger-an-alias", "nested-aliases-last"],
)
def test_a_last_trigger_ending_in_an_alias_gets_workflow_call_after_it(tmp_path: Path, on: str) -> None:
    """The end mark of a block that ends in an alias points at the anchor: `workflow_call` once
    landed inside `pull_request` (issue 30, item 6). It goes after the whole `on:` block."""
    result = plan_beside(tmp_path, on + PYTEST_JOBS)
    [(_path, text, _)] = result.others
    triggers = yaml.safe_load(text)[True]
    assert "workflow_call" in triggers
    assert triggers["pull_request"] == yaml.safe_load(on)[True]["pull_request"]
    assert text == (on + PYTEST_JOBS).replace("\njobs:", "\n  workflow_call:\njobs:", 1)


def test_a_tests_workflow_of_nested_aliases_is_read_without_expanding_them(tmp_path: Path) -> None:
    """A 470-byte chain of aliases, each level nine times the last, once made copier hang."""
    bomb = "x0: &a0 [lol]\n" + "".join(
        f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
    )
    with pytest.raises(RetrofitRefusal, match=r"ci\.yml:1: its YAML aliases expand to more than"):
        plan_beside(tmp_path, "on: push\n" + bomb + PYTEST_JOBS)


def test_a_tests_workflow_whose_name_yaml_would_misread_is_called_by_a_quoted_path(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci: tests.yml").write_text("on: push\n" + PYTEST_JOBS)
    (folder / "release.yml").write_text(RELEASE)
    result = plan_file(folder / "release.yml")
    call = jobs(result)["tests"]
    assert call["uses"] == "./.github/workflows/ci: tests.yml"


def test_tests_the_release_already_calls_gate_it_and_are_not_called_twice(tmp_path: Path) -> None:
    release = RELEASE.replace("jobs:\n", "jobs:\n  tests:\n    uses: ./.github/workflows/ci.yml\n").replace(
        "  build:\n    runs-on", "  build:\n    needs: tests\n    runs-on"
    )
    result = plan_beside(tmp_path, "on: [push, workflow_call]\n" + PYTEST_JOBS, release)
    assert result.others == [] and result.notes == []
    assert list(jobs(result)) == ["tests", "build", "publish-to-pypi"]
    assert jobs(result)["publish-to-pypi"]["needs"] == ["build"]  # build needs the tests


def test_a_folder_named_by_an_expression_is_kept_per_leg_and_one_named_by_the_shell_stays_in_place() -> None:
    job = "    strategy:\n      matrix:\n        os: [ubuntu-latest, windows-latest]\n"
    steps = "      - run: python -m build -o dist-${{ matrix.os }}\n      - run: twine upload dist-${{ matrix.os }}/*\n"
    artifact = jobs(plan(job_with("", steps, head=TAGS, job=job)))["build"]["steps"][-1]
    assert artifact["with"]["path"] == "dist-${{ matrix.os }}/"
    result = plan(job_with("", "      - run: twine upload $OUT/*\n", head=TAGS))
    assert "files a shell variable names" in result.in_place["build"]


@pytest.mark.parametrize(
    ("command", "files"),
    [
        ("bash scripts/test.sh", {"scripts/test.sh": "set -e\npython -m pytest -q\n"}),
        ("./ci/check", {"ci/check": "#!/bin/sh\ntox -e py\n"}),
        ("make check", {"Makefile": "lint:\n\truff check .\ncheck: lint\n\tpytest tests\n"}),
    ],
    ids=["bash-script", "executable", "make-target"],
)
def test_tests_run_through_a_script_of_the_repository_gate_the_upload(
    tmp_path: Path, command: str, files: dict[str, str]
) -> None:
    """Once the note said there were no tests, and nothing gated the release."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    head = TAGS + f"jobs:\n  checks:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {command}\n"
    release = (
        head
        + "  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m build\n      - run: twine upload dist/*\n"
    )
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "release.yml").write_text(release)
    result = plan_file(folder / "release.yml")
    assert jobs(result)["publish-to-pypi"]["needs"] == ["build", "checks"]
    assert result.notes == []


def test_a_tab_that_github_reads_is_read_and_kept() -> None:
    """PyYAML refuses a tab after a colon, GitHub does not: once a refusal at line 1."""
    text = job_with("", "      - run: python -m build\n      - run:\ttwine upload dist/*\n", head=TAGS)
    result = plan(text.replace("runs-on: ubuntu", "runs-on:\tubuntu"))
    assert "runs-on:\tubuntu-latest\n" in result.text  # the owner's line, as it was
    assert "publish-to-pypi" in result.text


def test_tests_that_read_a_secret_are_called_with_the_repositorys_secrets(tmp_path: Path) -> None:
    """A coverage token: on a push the tests get the repository's secrets, and a call that
    passes that one gives the same; once such tests were not called and nothing gated the release."""
    tests = (
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
        "      - uses: codecov/codecov-action@v5\n        with:\n          token: ${{ secrets.CODECOV_TOKEN }}\n"
    )
    result = plan_beside(tmp_path, tests)
    call = jobs(result)["tests"]
    # Only the secrets the tests read, by name (`secrets: inherit` would hand every secret on,
    # the PyPI token included), declared by the tests workflow's new trigger.
    assert call["secrets"] == {"CODECOV_TOKEN": "${{ secrets.CODECOV_TOKEN }}"}
    [(_, text, _)] = result.others
    assert yaml.safe_load(text)[True]["workflow_call"] == {"secrets": {"CODECOV_TOKEN": {"required": False}}}
    assert jobs(result)["publish-to-pypi"]["needs"] == ["build", "tests"]
    assert result.notes == []


def test_one_package_built_in_several_jobs_and_folders_is_one_project() -> None:
    """Wheels from a cibuildwheel job (wheelhouse/) and the sdist from another (dist/): once
    refused as two PyPI projects."""
    text = (
        TAGS + "jobs:\n"
        "  wheels:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: pypa/cibuildwheel@v3\n"
        "      - run: twine upload wheelhouse/*\n"
        "  sdist:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m build --sdist\n"
        "      - run: twine upload dist/*\n"
    )
    result = plan(text)
    downloads = [s["with"] for s in jobs(result)["publish-to-pypi"]["steps"] if "download" in s["uses"]]
    assert downloads == [
        {"name": "python-distributions.wheels", "path": "dist/"},
        {"name": "python-distributions.sdist", "path": "dist/"},
    ]


def test_two_packages_published_by_jobs_that_only_publish_are_two_projects() -> None:
    """The in-place path once skipped the count."""
    text = (
        TAGS
        + "jobs:\n"
        + "".join(
            f"  {name}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/download-artifact@v4\n"
            f"      - uses: pypa/gh-action-pypi-publish@release/v1\n        with:\n          packages-dir: {name}/dist\n"
            for name in ("core", "plugins")
        )
    )
    assert "uploads 2 packages to PyPI (core/ (line 9); plugins/ (line 16))" in refusal(text)


def test_each_refusal_of_the_plan_is_one_line_naming_file_and_line_and_its_own_obstacle() -> None:
    """The plan's refusals, one per obstacle: each names the file and the line, on one line,
    and no two open the same way (once five obstacles shared one "a custom script?" sentence)."""
    upload = "      - run: twine upload dist/*\n"
    cases = {
        "private index": job_with(
            "", "      - run: twine upload --repository-url https://pypi.acme.test/ dist/*\n"
        ),
        "two packages": TAGS
        + "jobs:\n"
        + "".join(
            f"  {n}:\n    runs-on: ubuntu-latest\n    defaults:\n      run:\n        working-directory: {n}\n    steps:\n{upload}"
            for n in ("core", "plugins")
        ),
        "a reusable workflow": job_with("", upload, head="on:\n  workflow_call:\n"),
        "a twine too old": job_with(
            "",
            "      - run: pip install twine==5.1.1\n      - run: twine upload dist/* | tee log\n",
            head=TAGS,
        ),
        "poetry on macOS": TAGS
        + "jobs:\n  build:\n    runs-on: macos-latest\n    steps:\n      - run: poetry publish --build\n      - run: echo done\n",
        "the name rewritten": job_with(
            "", '      - run: sed -i "s/name = .*/name = \\"$NAME\\"/" pyproject.toml\n' + upload, head=TAGS
        ),
        "an environment by expression": job_with(
            "", upload + "      - run: echo done\n", head=TAGS, job="    environment: ${{ inputs.where }}\n"
        ),
    }
    messages = {case: refusal(text) for case, text in cases.items()}
    for case, message in messages.items():
        assert re.match(r"\.github/workflows/release\.yml:\d+: ", message) and "\n" not in message, case
    openings = {case: message.split(": ", 1)[1][:40] for case, message in messages.items()}
    assert len(set(openings.values())) == len(openings), openings


def test_a_key_set_twice_is_refused_for_what_it_is() -> None:
    """GitHub refuses a workflow whose mapping sets a key twice, and a reader keeps one of them
    at a guess: the refusal names the key and both lines (it once blamed an artifact name)."""
    steps = "      - run: python -m build\n      - run: twine upload dist/*\n        run: echo again\n"
    message = refusal(
        job_with("", steps + "        env:\n          TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}\n", head=TAGS)
    )
    assert "release.yml:10: `run` is set twice in one mapping (first at line 9)" in message
    # Merge keys may repeat, as YAML allows.
    merged = "x: &a {k: 1}\ny: &b {j: 2}\nz:\n  <<: *a\n  <<: *b\n"
    assert Workflow(Path("/nonexistent/.github/workflows/w.yml"), merged).root is not None
