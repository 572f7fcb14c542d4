"""At a terminal: the README's commands, typed by a person answering copier's prompts.

Copier runs in a pseudo-terminal (pexpect), with no --defaults and no -d: every question
is shown, a default is accepted with Enter, a bad answer is refused at its prompt and asked
again. Each journey runs with the newest copier and with the oldest this template supports
(`_min_copier_version`), installed from the package index into its own environment.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

from helpers import (
    FIXTURES,
    TEMPLATE_DIR,
    commit_all,
    copy_with_answers,
    edit,
    git,
    load_yaml,
    make_template_repo,
    make_venv,
    run,
)

OLDEST = load_yaml(TEMPLATE_DIR / "copier.yml")["_min_copier_version"]

# A distinctive part of each question's prompt (its `help` in copier.yml).
PROMPTS = {
    "retrofit": "This folder is:",
    "project_name": "Name on PyPI",
    "import_name": "Name you import in Python",
    "description": "One sentence that says what the package does",
    "github_owner": "GitHub user or organisation that owns",
    "github_repo": "GitHub repository name",
    "author_name": "Author or team name",
    "author_email": "Author email",
    "license": "License of the package",
    "python_min": "Oldest Python the package supports",
    "build_backend": "Build backend",
    "ci_installer": "What the workflows install and build with",
    "os_matrix": "Where the tests run on every push and pull request",
    "free_threading": "Test on the newest free-threaded CPython too",
    "pypy": "Test on PyPy too",
    "lowest_dependencies": "Test with the lowest dependency versions",
    "docs": "A documentation site built from the docstrings",
    "versioning": "Where the package's version comes from",
    "changelog": "How CHANGELOG.md is written",
    "cli": "A command line, named after the project",
    "dependency_audit": "Audit the dependencies for known vulnerabilities",
    "community": "A code of conduct, and issue and pull request templates",
    "conduct_contact": "Email for reports under the code of conduct",
    "release_environment": "GitHub environment of the publishing job",
    "testpypi": "Publish each release to TestPyPI first",
    "attestations": "Attest each release's files on GitHub too",
    "publish_workflow": "The workflow file that publishes to PyPI",
    "pin_actions": "Pin every GitHub Action",
    "update_notice": "Open an issue in the project when this template has",
    "update_pull_request": "With the issue, a pull request that makes the update",
}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r")


def typed(text: str) -> str:
    """The keys that replace a text field's default with ``text`` and submit it."""
    return "\x15" + text + "\r"  # Ctrl-U clears the field


@pytest.fixture(scope="module", params=["newest", OLDEST])
def copier_command(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """`copier` as the README installs it: the test environment's, or the oldest supported one."""
    if request.param == "newest":
        return [sys.executable, "-m", "copier"]
    python = make_venv(tmp_path_factory.mktemp("copier-oldest") / "venv")
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            f"copier=={request.param}",
            "copier-template-extensions>=0.3.4,<0.4",
        ]
    )
    return [str(python), "-m", "copier"]


class Terminal:
    """Copier in a pseudo-terminal, and what a person types at each of its prompts."""

    def __init__(self, command: list[str], args: list[str], cwd: Path, columns: int = 250) -> None:
        self.screen = io.StringIO()
        self.child = pexpect.spawn(
            command[0],
            [*command[1:], *args],
            cwd=str(cwd),
            env={**os.environ, "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"},
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(50, columns),
            timeout=120,
        )
        self.child.logfile_read = self.screen
        # pexpect waits 50 ms before each send, for programs that drop keys typed too early.
        # Each key here is sent once its prompt is on the screen, so the wait only slowed every
        # session (about 30 prompts each).
        self.child.delaybeforesend = None
        self.asked: list[str] = []

    def answer(self, keys: dict[str, list[str]], prompts: dict[str, str] = PROMPTS) -> str:
        """Answer every prompt until copier exits. For a question in ``keys``, send each
        attempt in turn, expecting all but the last to be refused at the prompt; for any
        other question, press Enter. Returns what the terminal showed, without colours."""
        waiting = dict(prompts)
        while True:
            patterns = [re.escape(text) for text in waiting.values()]
            index = self.child.expect([*patterns, pexpect.EOF])
            if index == len(patterns):
                break
            question = list(waiting)[index]
            del waiting[question]
            self.asked.append(question)
            attempts = keys.get(question, ["\r"])
            for n, attempt in enumerate(attempts):
                self.child.send(attempt)
                if n < len(attempts) - 1:
                    self.child.expect("Validation error for question")
        self.child.close()
        return ANSI.sub("", self.screen.getvalue())

    @property
    def exit_status(self) -> int | None:
        return self.child.exitstatus


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_new_package_at_a_terminal(copier_command: list[str], template: Path, tmp_path: Path) -> None:
    """The README's first command: a bad name is refused at its prompt, then two answers
    and Enter for the rest give a working project."""
    terminal = Terminal(copier_command, ["copy", "--trust", str(template), "acme-widgets"], tmp_path)
    output = terminal.answer(
        {"project_name": [typed("My Package!"), typed("acme-widgets")], "github_owner": [typed("acme")]},
    )
    assert terminal.exit_status == 0, output
    assert "Traceback" not in output
    assert terminal.asked[-1] == "update_pull_request"  # every question was shown, to the last
    assert "publish_workflow" not in terminal.asked  # only asked of a retrofit
    project = tmp_path / "acme-widgets"
    answers = load_yaml(project / ".copier-answers.yml")
    assert (answers["project_name"], answers["github_owner"], answers["retrofit"]) == (
        "acme-widgets",
        "acme",
        "no",
    )
    assert answers["github_repo"] == "acme-widgets"
    assert "PyPI Project Name:  acme-widgets" in output
    # The very project the README's non-interactive command renders (which the other tests
    # build, install and test), file for file.
    reference = tmp_path / "reference" / "acme-widgets"
    copy_with_answers(reference, {"project_name": "acme-widgets", "github_owner": "acme"}, template)
    assert tree(project) == tree(reference)


def test_new_package_takes_its_name_from_the_folder(
    copier_command: list[str], template: Path, tmp_path: Path
) -> None:
    """Enter at the name prompt accepts the destination folder's name."""
    terminal = Terminal(copier_command, ["copy", "--trust", str(template), "acme-gadgets"], tmp_path)
    terminal.answer({"github_owner": [typed("acme")]})
    assert terminal.exit_status == 0
    assert load_yaml(tmp_path / "acme-gadgets" / ".copier-answers.yml")["project_name"] == "acme-gadgets"


def test_retrofit_at_a_terminal_prefills_what_the_project_says(
    copier_command: list[str], template: Path, tmp_path: Path
) -> None:
    """Inside an existing project, Enter at every prompt accepts the values it declares."""
    project = tmp_path / "legacy"
    shutil.copytree(FIXTURES / "twine-release-setuppy", project)
    run(["git", "init", "-q", project])
    commit_all(project, "The project as its owner made it")
    terminal = Terminal(copier_command, ["copy", "--trust", str(template), "."], project)
    output = terminal.answer({})
    assert terminal.exit_status == 0, output
    assert "Traceback" not in output
    assert "publish_workflow" in terminal.asked
    # Nothing it would not do: it adds no template-news workflow, and pins only what it adds.
    assert "update_notice" not in terminal.asked and "pin_actions" not in terminal.asked
    answers = load_yaml(project / ".copier-answers.yml")
    assert answers["retrofit"] == "upgrade"
    assert (answers["project_name"], answers["github_owner"], answers["github_repo"]) == (
        "acme-legacy",
        "acme",
        "acme-legacy",
    )
    assert answers["publish_workflow"] == "release.yml"
    assert "id-token: write" in (project / ".github/workflows/release.yml").read_text()


def test_update_at_a_terminal_asks_only_the_new_question(copier_command: list[str], tmp_path: Path) -> None:
    """After a template release that adds a question, `copier update --trust --skip-answered`
    asks that question and nothing else."""
    template = make_template_repo(tmp_path / "template", tag="v1.0.0")
    project = tmp_path / "acme-widgets"
    terminal = Terminal(copier_command, ["copy", "--trust", str(template), str(project)], tmp_path)
    terminal.answer({"github_owner": [typed("acme")]})
    assert terminal.exit_status == 0
    run(["git", "init", "-q", project])
    commit_all(project, "Start")
    edit(
        template / "copier.yml",
        "pin_actions:\n",
        'code_of_conduct:\n  type: bool\n  help: "Add a code of conduct?"\n  default: false\n\npin_actions:\n',
    )
    commit_all(template, "A new question")
    git(template, "tag", "v1.1.0")
    terminal = Terminal(copier_command, ["update", "--trust", "--skip-answered"], project)
    output = terminal.answer(
        {"code_of_conduct": ["y"]}, {**PROMPTS, "code_of_conduct": "Add a code of conduct?"}
    )
    assert terminal.exit_status == 0, output
    assert terminal.asked == ["code_of_conduct"]
    answers = load_yaml(project / ".copier-answers.yml")
    assert answers["code_of_conduct"] is True
    assert answers["_commit"] == "v1.1.0"
    assert answers["project_name"] == "acme-widgets"


# --- at an 80-column terminal: nothing is cut -------------------------------------------------

COPIER_YML = load_yaml(TEMPLATE_DIR / "copier.yml")


def help_lines(questions: list[str]) -> list[str]:
    return [line for q in questions for line in COPIER_YML[q]["help"].splitlines()]


def test_every_prompt_fits_80_columns() -> None:
    """Copier prefixes a prompt with two columns and a space, a choice with two; what is
    longer than the terminal is cut, not wrapped."""
    for name, question in COPIER_YML.items():
        if name.startswith("_") or not isinstance(question, dict):
            continue
        for line in question.get("help", "").splitlines():
            assert len(line) <= 74, (name, line)
        for label in question.get("choices") or {}:
            assert len(label) <= 72, (name, label)


def test_new_package_at_80_columns(copier_command: list[str], template: Path, tmp_path: Path) -> None:
    """A refused name's whole message and every prompt show in full at 80 columns."""
    from extensions import names, prompts

    terminal = Terminal(
        copier_command, ["copy", "--trust", str(template), "acme-widgets"], tmp_path, columns=80
    )
    output = terminal.answer(
        {"project_name": [typed("My Package!"), typed("acme-widgets")], "github_owner": [typed("acme")]}
    )
    assert terminal.exit_status == 0, output
    for line in help_lines(terminal.asked):
        assert line in output, line
    shown = "Validation error for question 'project_name': " + prompts.shorten(
        names.project_name_error("My Package!"), "project_name"
    )
    assert len(shown) < 80
    assert shown in output


def test_retrofit_at_80_columns(copier_command: list[str], template: Path, tmp_path: Path) -> None:
    project = tmp_path / "legacy"
    shutil.copytree(FIXTURES / "twine-release-setuppy", project)
    run(["git", "init", "-q", project])
    commit_all(project, "The project as its owner made it")
    terminal = Terminal(copier_command, ["copy", "--trust", str(template), "."], project, columns=80)
    output = terminal.answer({})
    assert terminal.exit_status == 0, output
    assert "Traceback" not in output
    for line in help_lines(terminal.asked):
        assert line in output, line
    assert load_yaml(project / ".copier-answers.yml")["retrofit"] == "upgrade"


def test_update_at_80_columns(copier_command: list[str], template: Path, tmp_path: Path) -> None:
    project = tmp_path / "acme-widgets"
    copy_with_answers(project, {"project_name": "acme-widgets", "github_owner": "acme"}, template)
    run(["git", "init", "-q", project])
    commit_all(project, "Start")
    terminal = Terminal(copier_command, ["update", "--trust"], project, columns=80)
    output = terminal.answer({})
    assert terminal.exit_status == 0, output
    assert "Traceback" not in output
    for line in help_lines([q for q in terminal.asked if q != "retrofit"]):
        assert line in output, line


def test_only_the_derived_project_kind_can_be_chosen(
    copier_command: list[str], template: Path, tmp_path: Path
) -> None:
    """Copier before 9.19 shows "This folder is:": in an empty folder, arrowing down to "an
    existing project" and pressing Enter still makes a new project (the others are disabled)."""
    down = "\x1b[B"
    terminal = Terminal(copier_command, ["copy", "--trust", str(template), "fresh"], tmp_path, columns=80)
    # The same for the build backend: "other" (the fourth) is an existing project's own backend.
    output = terminal.answer(
        {
            "retrofit": [down + down + "\r"],
            "github_owner": [typed("acme")],
            "build_backend": [down * 3 + "\r"],
        }
    )
    assert terminal.exit_status == 0, output
    assert "Traceback" not in output
    answers = load_yaml(tmp_path / "fresh/.copier-answers.yml")
    assert answers["retrofit"] == "no"
    assert answers["build_backend"] != "other"
    assert (tmp_path / "fresh/pyproject.toml").is_file()
