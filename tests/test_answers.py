"""Bad input: every answer is refused at its question with a clear message, or lands in
every file exactly as typed (TOML, YAML, Python, Markdown); no answer reaches a shell.

Property-based tests draw answers from wide alphabets. The example count is modest by
default (CI); run `HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_answers.py`
locally for many more.
"""

from __future__ import annotations

import ast
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from extensions import answers, names, serialise
from helpers import REQUIRED_ANSWERS, TEMPLATE_DIR, copy_with_answers, install_into, load_yaml, make_venv, run

settings.register_profile(
    "ci",
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

NASTY = [
    'He said "hi"',
    "O'Brien",
    "back\\slash \\n \\u0041",
    "{{ project_name }}",
    "{% raw %}x",
    "a: b # c",
    "- starts like a list",
    "1. numbered",
    "# heading",
    "<b>bold</b> & co",
    "*star* _under_ `code`",
    "[link](http://x)",
    "emoji 🐍 and café",
    "tab\tinside",
    "'''triple'''",
    '"""',
    "trailing \\",
    "line\nbreak",
    "null",
    "true",
    "=",
    ">quote",
    "",
    "   ",
    " padded ",
    "\u2028",
    "nul\x00",
]
ANY_TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
    st.text(st.sampled_from(list("\"'\\{}%#:-*_`<>&[]()!|~=+. \n\tab1é🐍")), max_size=20),
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def markdown_shows(line: str) -> str:
    """The text a reader sees when GitHub-flavoured CommonMark renders ``line``."""
    parser = _Text()
    parser.feed(MarkdownIt("commonmark").enable("table").enable("strikethrough").render(line))
    parser.close()  # the parser turns character references into text once (not again after it)
    return "".join(parser.parts).strip("\n")


def copy(copie_session: Any, **answers: Any) -> Any:
    return copie_session.copy(
        extra_answers={"project_name": "acme-widgets", "github_owner": "acme", **answers}
    )


# --- serialisers, directly ------------------------------------------------------------


@given(ANY_TEXT)
@settings(max_examples=200)
def test_toml_str_reads_back_exactly(value: str) -> None:
    assert tomllib.loads(f"x = {serialise.toml_str(value)}")["x"] == value


@given(ANY_TEXT)
@settings(max_examples=200)
def test_yaml_scalar_and_yaml_str_read_back_exactly(value: str) -> None:
    assert yaml.safe_load(f"x: {serialise.yaml_str(value)}")["x"] == value
    if value and "\n" not in value:
        assert yaml.safe_load(f"x: {serialise.yaml_scalar(value)}")["x"] == value


@given(ANY_TEXT)
@settings(max_examples=200)
def test_py_str_reads_back_exactly(value: str) -> None:
    assert ast.literal_eval(serialise.py_str(value)) == value


@given(ANY_TEXT)
@example("&#0")  # shown as typed; read back twice, it became U+FFFD
@example("&amp; &lt;b&gt;")
@settings(max_examples=200)
def test_markdown_text_shows_exactly_what_was_typed(value: str) -> None:
    if names.description_error(value) == "":  # one printable, trimmed line
        assert markdown_shows(serialise.md_text(value)) == value


# --- answers through copier -----------------------------------------------------------


def check_description_everywhere(project: Path, description: str) -> None:
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["description"] == description
    init = (project / "src/acme_widgets/__init__.py").read_text()
    assert ast.get_docstring(ast.parse(init), clean=False) == description
    # Title, blank line, four badges, blank line, then the description.
    readme_line = (project / "README.md").read_text().split("\n")[7]
    assert markdown_shows(readme_line) == description
    assert load_yaml(project / ".copier-answers.yml")["description"] == description
    for wf in (project / ".github/workflows").glob("*.yml"):
        assert isinstance(load_yaml(wf), dict)


@given(description=ANY_TEXT)
@example(description='Widgets: "fast", {{ safe }} & \\raw\\ — 🐍')
def test_description_is_refused_or_kept_exactly(copie_session: Any, description: str) -> None:
    error = names.description_error(description)
    result = copy(copie_session, description=description)
    if error:
        assert result.exit_code != 0
        assert error in str(result.exception)
    else:
        assert result.exit_code == 0, result.exception
        check_description_everywhere(result.project_dir, description)


@given(author=ANY_TEXT)
@example(author='Seán O\'Brien "the" \\ {{ x }}')
def test_author_name_is_refused_or_kept_exactly(copie_session: Any, author: str) -> None:
    error = names.author_name_error(author)
    result = copy(copie_session, author_name=author, license="MIT")
    if error:
        assert result.exit_code != 0
        assert error in str(result.exception)
    else:
        assert result.exit_code == 0, result.exception
        pyproject = tomllib.loads((result.project_dir / "pyproject.toml").read_text())
        assert pyproject["project"]["authors"][0]["name"] == author
        assert "Copyright (c) " in (result.project_dir / "LICENSE").read_text()
        assert author in (result.project_dir / "LICENSE").read_text()
        assert load_yaml(result.project_dir / ".copier-answers.yml")["author_name"] == author


VALID_NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}[A-Za-z0-9]", fullmatch=True)


@given(name=st.one_of(VALID_NAME, VALID_NAME.map(lambda name: name + "\n"), ANY_TEXT))
@example(name="acme-widgets\n")
@example(name="click")  # its own dependency: suggested as click_lib, not a traceback
def test_project_name_is_refused_or_rendered(copie_session: Any, name: str) -> None:
    error = names.project_name_error(name)
    module = names.new_import_name(name)
    if not error:
        error = names.import_name_error(module)  # the derived import name must be valid too
    result = copy(copie_session, project_name=name)
    if error:
        assert result.exit_code != 0
        assert error in str(result.exception)
    else:
        assert result.exit_code == 0, result.exception
        pyproject = tomllib.loads((result.project_dir / "pyproject.toml").read_text())
        assert pyproject["project"]["name"] == name
        assert (result.project_dir / "src" / module / "__init__.py").is_file()


# --- the refusal table ------------------------------------------------------------------

REFUSALS = [
    ("project_name", "My Package!", "not a valid PyPI project name"),
    ("project_name", "café", "not a valid PyPI project name"),
    ("project_name", "-acme", "not a valid PyPI project name"),
    ("project_name", "json", "standard library"),
    ("project_name", "asyncio", "standard library"),
    ("import_name", "class", "is a Python keyword"),
    ("import_name", "acme-widgets", "not a valid Python import name"),
    ("import_name", "typing", "shadow the standard library"),
    ("description", "two\nlines", "must be one line"),
    ("description", "", "Give a one-line description"),
    ("description", " padded", "must not start or end with spaces"),
    ("description", "x" * 600, "keep it under 512"),
    ("author_name", "O'Brien\n", "must be one line"),
    ("author_name", "   ", "Give an author or team name"),
    ("author_email", "jane.example.com", "not an email address"),
    ("author_email", "jane@example", "not an email address"),
    ("github_owner", "acme.corp", "not a GitHub user or organisation name"),
    ("github_owner", "-acme", "not a GitHub user or organisation name"),
    ("github_owner", "a" * 40, "not a GitHub user or organisation name"),
    ("github_repo", "my repo", "not a GitHub repository name"),
    ("github_repo", "..", "not a GitHub repository name"),
    ("python_min", "2.7", "is past its end of life"),
    ("python_min", "3.8", "is past its end of life"),
    ("python_min", "3.99", "not a released CPython"),
    ("release_environment", "my env", "not a GitHub environment name"),
    ("release_environment", "release/prod", "not a GitHub environment name"),
    ("license", "WTFPL", "Invalid choice"),
    ("build_backend", "poetry", "Invalid choice"),
    ("build_backend", "other", "other is for an existing project only"),
    # One trailing newline: `re.match` with `$` used to accept each of these.
    ("project_name", "acme-widgets\n", "not a valid PyPI project name"),
    ("github_owner", "acme\n", "not a GitHub user or organisation name"),
    ("github_repo", "acme-widgets\n", "not a GitHub repository name"),
    ("author_email", "jane@example.com\n", "not an email address"),
    ("release_environment", "release\n", "not a GitHub environment name"),
    # Names that shadow, or that a file system refuses.
    ("project_name", "test", "CPython's test package"),
    ("project_name", "tests", "a folder of the project"),
    ("project_name", "src", "a folder of the project"),
    ("project_name", "CON", "device name on Windows"),
    ("project_name", "nul", "device name on Windows"),
    ("project_name", "a" * 101, "keep it to 100"),
    ("import_name", "lpt1", "device name on Windows"),
    ("import_name", "tests", "a folder of the project"),
]


@pytest.mark.parametrize(
    ("question", "value", "message"), REFUSALS, ids=[f"{q}={v[:12]!r}" for q, v, _ in REFUSALS]
)
def test_bad_answer_is_refused_with_its_message(question: str, value: str, message: str) -> None:
    """Each row, by the question's one rule (answers.question_error), called directly: the rule
    that copier applies at the prompt, to `-d` answers and to defaults."""
    if message == "Invalid choice":  # a choice question: its rule names the choices
        message = f"{value!r} is not one of"
    assert message in answers.question_error(question, value)


# One row per way copier applies a rule: a text question's validator, a choice question's
# choices, a choice refused for this project by its own validator (the rest of the table is
# the same rule, called directly above).
THROUGH_COPIER = [
    REFUSALS[0],
    ("license", "WTFPL", "Invalid choice"),
    ("build_backend", "other", "other is for an existing project only"),
]


@pytest.mark.parametrize(
    ("question", "value", "message"), THROUGH_COPIER, ids=[q for q, _, _ in THROUGH_COPIER]
)
def test_copier_refuses_a_bad_answer_with_its_rules_message(
    copie_session: Any, question: str, value: str, message: str
) -> None:
    result = copy(copie_session, **{question: value})
    assert result.exit_code != 0
    assert message in str(result.exception)


@pytest.mark.parametrize(("question", "value", "message"), REFUSALS[:3] + REFUSALS[16:17])
def test_refusal_messages_give_an_example(question: str, value: str, message: str) -> None:
    error = {"project_name": names.project_name_error, "github_owner": names.github_owner_error}[question](
        value
    )
    assert "for example" in error


# --- no shell ever sees an answer -----------------------------------------------------------


def test_tasks_and_migrations_never_go_through_a_shell() -> None:
    config = load_yaml(TEMPLATE_DIR / "copier.yml")
    for entry in [*config.get("_tasks", []), *config.get("_migrations", [])]:
        command = entry.get("command", entry) if isinstance(entry, dict) else entry
        assert isinstance(command, list), f"a string command runs in a shell: {command!r}"


def test_answers_crafted_for_a_shell_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    dest = tmp_path / f"p;touch {marker};"
    crafted = {
        "description": f"$(touch {marker}) `touch {marker}`",
        "author_name": f'x"; touch {marker}; echo "',
    }
    done = copy_with_answers(dest, {**REQUIRED_ANSWERS, **crafted})
    assert not marker.exists()
    assert f"$(touch {marker})" in (dest / "pyproject.toml").read_text()
    assert "p;touch" in done.stdout + done.stderr  # the message quotes the odd path, it does not run it


@pytest.mark.slow
def test_project_with_nasty_answers_passes_its_tests(copie_session: Any, tmp_path: Path) -> None:
    result = copy(
        copie_session,
        description='Widgets: "fast", {{ x }} & \\raw\\ — 🐍 # not a comment',
        author_name='Zoë O\'Brien \\ "the" {% raw %}',
        license="BSD-3-Clause",
        release_environment="true",
    )
    assert result.exit_code == 0, result.exception
    assert (
        load_yaml(result.project_dir / ".github/workflows/publish.yml")["jobs"]["publish"]["environment"][
            "name"
        ]
        == "true"
    )
    python = make_venv(tmp_path / "venv")
    install_into(python, "-e", ".[test]", cwd=result.project_dir)
    run([python, "-m", "pytest", "-p", "no:cacheprovider"], cwd=result.project_dir)


@given(
    question=st.sampled_from(
        ["project_name", "github_owner", "github_repo", "author_email", "release_environment"]
    ),
    value=st.sampled_from(["acme", "acme-widgets", "jane@example.com", "release"]),
)
def test_no_validator_accepts_a_trailing_newline(question: str, value: str) -> None:
    """Each rule is a full match: a value that is valid alone is refused with one newline after it."""
    rule = answers.RULES[question]
    assert rule(value + "\n"), (question, value)
    assert rule(value + "\r\n"), (question, value)


def test_every_question_of_a_kind_has_its_rule() -> None:
    """Each yes/no question is read as one (an answer copier passes as a bool, `-d x=False` on
    update, was refused as "not text" when stable_abi was missing here), and each choice
    question accepts exactly copier.yml's choices."""
    questions = {k: v for k, v in load_yaml(TEMPLATE_DIR / "copier.yml").items() if not k.startswith("_")}
    assert {k for k, v in questions.items() if v.get("type") == "bool"} == answers.BOOL_QUESTIONS
    for question, values in answers.CHOICES.items():
        choices = questions[question]["choices"]
        given = [c["value"] if isinstance(c, dict) else c for c in choices.values()]
        assert sorted(given) == sorted(values), question
    for question in answers.BOOL_QUESTIONS:
        assert answers.question_error(question, False) == answers.question_error(question, "yes") == ""
