"""Template news: a rendered project learns when this template has a new release.

The steps of the rendered workflow `template-news.yml` run here for real, with bash and
git, against template repositories with release tags built in the test: a project
behind, a project on the newest release, a template that cannot be read, and an answers
file edited to smuggle an option into git. Only `gh` (GitHub's command line, which needs
GitHub) is a recording stand-in.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from helpers import (
    REQUIRED_ANSWERS,
    commit_all,
    copy_with_answers,
    edit,
    git,
    make_template_repo,
    run_step,
    workflow,
)

NEWS = "## 1.1.0\n\n- Projects get a line from release 1.1.0.\n\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This template tagged v1.0.0, then a release v1.1.0 with its CHANGELOG section."""
    repo = make_template_repo(tmp_path_factory.mktemp("upstream") / "copier-python-lib", tag="v1.0.0")
    edit(repo / "CHANGELOG.md", "## Unreleased\n", "## Unreleased\n\n" + NEWS)
    commit_all(repo, "release 1.1.0")
    git(repo, "tag", "v1.1.0")
    return repo


def project_at(template: Path, ref: str, dest: Path) -> Path:
    copy_with_answers(dest, REQUIRED_ANSWERS, template, f"--vcs-ref={ref}")
    return dest


def steps(project: Path) -> list[dict]:
    return workflow(project, "template-news.yml")["jobs"]["news"]["steps"]


def test_a_project_behind_gets_the_release_notes_and_the_command(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    outputs, _ = run_step(project, steps(project)[1], tmp_path)
    assert outputs["newer"] == "true"
    assert (tmp_path / "news-title").read_text().strip() == "Template release v1.1.0 is available"
    body = (tmp_path / "news-body.md").read_text()
    assert "copier update --trust --defaults --vcs-ref v1.1.0" in body
    assert "(this project is on v1.0.0)" in body
    assert "- Projects get a line from release 1.1.0." in body
    assert "## Unreleased" not in body


def test_a_project_on_the_newest_release_hears_nothing(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.1.0", tmp_path / "acme-widgets")
    outputs, said = run_step(project, steps(project)[1], tmp_path)
    assert outputs["newer"] == "false"
    assert "on the newest template release (v1.1.0)" in said
    assert not (tmp_path / "news-body.md").exists()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/nonexistent/copier-python-lib", "cannot be read now"),
        ("--upload-pack=touch PWNED", "cannot be read from here"),
    ],
    ids=["unreadable", "hostile"],
)
def test_a_source_it_cannot_or_must_not_read_reports_nothing(
    template: Path, tmp_path: Path, source: str, expected: str
) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    answers = project / ".copier-answers.yml"
    answers.write_text(
        "\n".join(
            f"_src_path: {source}" if line.startswith("_src_path:") else line
            for line in answers.read_text().splitlines()
        )
        + "\n"
    )
    outputs, said = run_step(project, steps(project)[1], tmp_path)
    assert outputs["newer"] == "false"
    assert expected in said
    assert not (project / "PWNED").exists()


GH_STUB = """#!/usr/bin/env bash
# Stands in for GitHub's command line: records each call; lists the open issue of $OPEN_ISSUE.
echo "$*" >> "$GH_CALLS"
if [ "$1 $2" = "issue list" ] && [ -n "$OPEN_ISSUE" ]; then echo "$OPEN_ISSUE"; fi
"""


@pytest.mark.parametrize("open_issue", ["", "7"], ids=["no-open-notice", "open-notice"])
def test_one_notice_is_opened_or_updated_never_a_second(
    template: Path, tmp_path: Path, open_issue: str
) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    news, notice = steps(project)[1:]
    run_step(project, news, tmp_path)
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "gh").write_text(GH_STUB)
    (stub / "gh").chmod((stub / "gh").stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "gh-calls"
    run_step(
        project,
        notice,
        tmp_path,
        path_first=stub,
        extra={"GH_CALLS": str(calls), "OPEN_ISSUE": open_issue, "NEWER": "true"},
    )
    made = calls.read_text().splitlines()[-1]
    if open_issue:
        assert made.startswith("issue edit 7 --title Template release v1.1.0 is available")
    else:
        assert made.startswith("issue create --title Template release v1.1.0 is available")


def test_the_workflow_holds_only_what_it_needs(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    data = workflow(project, "template-news.yml")
    assert data["permissions"] == {}
    assert data["jobs"]["news"]["permissions"] == {"contents": "read", "issues": "write"}
    assert set(data["on"]) == {"schedule", "workflow_dispatch"}
    assert "${{" not in "".join(s.get("run", "") for s in data["jobs"]["news"]["steps"])


def test_the_notice_can_be_turned_off(template: Path, tmp_path: Path) -> None:
    dest = tmp_path / "quiet"
    copy_with_answers(dest, {**REQUIRED_ANSWERS, "update_notice": "false"}, template, "--vcs-ref=v1.1.0")
    assert not (dest / ".github/workflows/template-news.yml").exists()


# --- issue 21, case 9: what the notice reads, and which issues it touches ---------------------


def with_answers_lines(project: Path, answers_file: str, extra: str) -> None:
    path = project / answers_file
    path.write_text(path.read_text() + extra)


def test_case_9_a_second_src_path_line_is_not_read(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    with_answers_lines(project, ".copier-answers.yml", "_src_path: /tmp/elsewhere\n")
    outputs, said = run_step(project, steps(project)[1], tmp_path)
    assert outputs["newer"] == "false"
    assert "does not hold exactly one _src_path and one _commit" in said


def test_case_9_the_answers_file_copier_used_is_read(template: Path, tmp_path: Path) -> None:
    dest = tmp_path / "acme-widgets"
    copy_with_answers(dest, REQUIRED_ANSWERS, template, "--vcs-ref=v1.0.0", "-a", ".copier-answers.pylib.yml")
    news = steps(dest)[1]
    assert news["env"]["ANSWERS_FILE"] == ".copier-answers.pylib.yml"
    assert steps(dest)[0]["with"]["sparse-checkout"] == ".copier-answers.pylib.yml"
    outputs, _ = run_step(dest, news, tmp_path, extra=news["env"])
    assert outputs["newer"] == "true"
    assert "-a .copier-answers.pylib.yml --vcs-ref v1.1.0" in (tmp_path / "news-body.md").read_text()


def test_case_9_an_untagged_commit_is_said_as_such(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    answers = project / ".copier-answers.yml"
    sha = git(template, "rev-parse", "v1.0.0").strip()
    answers.write_text(
        "".join(
            f"_commit: {sha}\n" if line.startswith("_commit:") else line
            for line in answers.read_text().splitlines(keepends=True)
        )
    )
    outputs, said = run_step(project, steps(project)[1], tmp_path)
    assert outputs["newer"] == "false"
    assert f"untagged commit of the template ({sha})" in said


def test_case_9_commits_after_a_release_are_said(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("_commit: v1.0.0", "_commit: v1.0.0-3-gabc1234"))
    outputs, _ = run_step(project, steps(project)[1], tmp_path)
    assert outputs["newer"] == "true"
    assert (
        "(this project is on v1.0.0-3-gabc1234, 3 commits after v1.0.0)"
        in (tmp_path / "news-body.md").read_text()
    )


GH_RECORDING = """#!/usr/bin/env bash
# Stands in for GitHub's command line: records each call; answers `issue list` from
# $OPEN_NOTICES or $CLOSED_NOTICES (lines "NUMBER<TAB>TITLE") by the --state asked.
echo "$*" >> "$GH_CALLS"
if [ "$1 $2" = "issue list" ]; then
  case " $* " in
    *" --state open "*) printf '%b' "$OPEN_NOTICES" ;;
    *" --state closed "*) printf '%b' "$CLOSED_NOTICES" ;;
  esac
fi
"""


def notice_calls(project: Path, tmp_path: Path, ref_outputs: dict, open_: str, closed: str) -> list[str]:
    stub = tmp_path / "bin"
    stub.mkdir(exist_ok=True)
    (stub / "gh").write_text(GH_RECORDING)
    (stub / "gh").chmod((stub / "gh").stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "gh-calls"
    calls.write_text("")
    env = {
        "GH_CALLS": str(calls),
        "OPEN_NOTICES": open_,
        "CLOSED_NOTICES": closed,
        "NEWER": ref_outputs.get("newer", "false"),
        "RELEASE": ref_outputs.get("release", ""),
    }
    run_step(project, steps(project)[2], tmp_path, path_first=stub, extra=env)
    return calls.read_text().splitlines()


def test_case_9_only_the_workflows_own_notices_are_listed(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    outputs, _ = run_step(project, steps(project)[1], tmp_path)
    calls = notice_calls(project, tmp_path, outputs, "", "")
    lists = [c for c in calls if c.startswith("issue list")]
    assert lists and all("--author app/github-actions" in c for c in lists)
    assert calls[-1].startswith("issue create --title Template release v1.1.0 is available")


def test_case_9_a_dismissed_notice_is_not_opened_again(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.0.0", tmp_path / "acme-widgets")
    outputs, _ = run_step(project, steps(project)[1], tmp_path)
    calls = notice_calls(project, tmp_path, outputs, "", "12\tTemplate release v1.1.0 is available\n")
    assert not any(c.startswith(("issue create", "issue edit")) for c in calls)


def test_case_9_the_notice_is_closed_once_the_project_is_current(template: Path, tmp_path: Path) -> None:
    project = project_at(template, "v1.1.0", tmp_path / "acme-widgets")
    outputs, _ = run_step(project, steps(project)[1], tmp_path)
    assert outputs["current"] == "true"
    calls = notice_calls(project, tmp_path, outputs, "7\tTemplate release v1.1.0 is available\n", "")
    assert calls[-1].startswith(
        "issue close 7 --comment This project is now on the newest template release (v1.1.0)"
    )
