"""The thin layer between copier's Jinja and the plain modules beside this file.

copier.yml loads the two classes below through copier-template-extensions (the retrofit's
questions live in extensions/retrofit_questions.py, registered here):
- ``Filters`` gives questions their computed defaults and validators (filters and
  globals, usable before every answer is known);
- ``Derived`` adds the values computed from the answers (import name rules, Python
  matrix, classifiers, build backend, action pins) to the context of every file.

The modules are loaded by path, afresh for each copier run, so that rendering an
older and a newer version of the template in one process (``copier update``) uses
each version's own code.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from copier.errors import UserMessageError
from copier_template_extensions import ContextHook
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

_HERE = Path(__file__).resolve().parent


def _load(name: str) -> ModuleType:
    module_name = f"copier_python_lib_{name}_{id(_HERE)}"
    spec = importlib.util.spec_from_file_location(module_name, _HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


names = _load("names")
pythons = _load("pythons")
backends = _load("backends")
licenses = _load("licenses")
prompts = _load("prompts")


class _Lazy:
    """A sibling module loaded on first use: only a retrofit needs these two."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = _load(self._name)
        return getattr(self._module, attr)


existing = _Lazy("existing")
# The retrofit's questions: the derived answer, its refusals, the workflow and its report.
retrofit_questions = _load("retrofit_questions")
copier_operation = retrofit_questions.copier_operation
PROJECT_FILES = retrofit_questions.PROJECT_FILES
PUBLISH_WORKFLOW = retrofit_questions.PUBLISH_WORKFLOW
_is_existing_project = retrofit_questions.is_existing_project


def today() -> dt.date:
    return dt.date.today()


def git_config(key: str) -> str:
    """A value of the user's git configuration, or "" when git or the key is missing."""
    try:
        done = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


@functools.cache
def org_defaults() -> dict[str, Any]:
    """The organisation defaults of org.yml (at the template's top level)."""
    data = yaml.safe_load((_HERE.parent / "org.yml").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TypeError("org.yml must be a mapping of question names to default values")
    return data


@functools.cache
def action_pins() -> dict[str, dict[str, str]]:
    return yaml.safe_load((_HERE / "actions.yml").read_text(encoding="utf-8"))


def uses(action: str, pin: bool) -> str:
    """The ``uses:`` value of ``action``: a commit SHA with its version, or the moving tag."""
    entry = action_pins()[action]
    return f"{action}@{entry['ref']} # {entry['version']}" if pin else f"{action}@{entry['tag']}"


# --- serialisers: a value lands in a file exactly as typed ------------------------

_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_str(value: Any) -> str:
    """A TOML basic string (with quotes) that reads back as exactly ``value``."""
    out = []
    for char in str(value):
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _yaml_printable(char: str) -> bool:
    """YAML 1.1/1.2 printable characters that are not also line breaks."""
    code = ord(char)
    return (
        char == "\t"
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ) and char not in "\u2028\u2029"


def yaml_str(value: Any) -> str:
    """A YAML double-quoted scalar that reads back as exactly ``value``."""
    # A JSON string is a YAML double-quoted scalar; what YAML cannot hold raw (C1
    # controls, DEL, line separators) is escaped, with \U for non-BMP characters.
    quoted = json.dumps(str(value), ensure_ascii=False)
    return "".join(
        c
        if _yaml_printable(c) or c in "\n\r"
        else (f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08X}")
        for c in quoted
    )


def yaml_scalar(value: Any) -> str:
    """``value`` as YAML's own serialiser writes it: plain when that reads back as the same
    string (``release``), quoted when it would not (``'true'``, ``'1.0'``)."""
    text = yaml.safe_dump(str(value), default_flow_style=True, allow_unicode=False, width=1_000_000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


# Characters that can start Markdown syntax (CommonMark lets any ASCII punctuation be
# escaped with a backslash; only these need it for text to stay text).
_MARKDOWN_SPECIAL = set("\\`*_[]<>#!|~&{}")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")


def md_text(value: Any) -> str:
    """One line of text that Markdown (CommonMark, GitHub) shows exactly as typed."""
    escaped = "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in str(value))
    match = _MARKDOWN_LINE_START.match(escaped)
    if match:  # a list item, a heading underline or a quote if left alone
        start = match.end() - 1
        escaped = escaped[:start] + "\\" + escaped[start:]
    return escaped


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(toml_str(v) for v in values) + "]"


def workflow_actions(answers: dict[str, Any]) -> list[str]:
    """The actions the rendered workflows use, for configuration that must list them."""
    # setup-python in every project: test.yml's checks and coverage jobs use it with uv too.
    actions = [
        "actions/checkout",
        "actions/setup-python",
        *(["astral-sh/setup-uv"] if answers.get("ci_installer") == "uv" else []),
        *(
            ["actions/upload-pages-artifact", "actions/deploy-pages"]
            if answers.get("docs") == "mkdocs"
            else []
        ),
        "actions/upload-artifact",
        "actions/download-artifact",
        "pypa/gh-action-pypi-publish",
    ]
    return sorted(actions)


# --- an existing project (retrofit) ----------------------------------------------------


@functools.cache
def _existing_metadata(root: str) -> dict[str, str]:
    path = Path(root)
    try:
        return existing.metadata(path) if _is_existing_project(path) else {}
    except existing.ProjectFileError as error:
        raise UserMessageError(str(error)) from None


def existing_value(root: Any, key: str) -> str:
    """What the project in ``root`` already declares for ``key`` ("" for a new project)."""
    value = _existing_metadata(str(root)).get(key, "")
    if key == "python_min" and value:
        known = pythons.released(today())
        if value not in known and pythons._key(value) < pythons._key(known[0]):
            value = known[0]  # older than every version this template tests: start the matrix there
    return value


# Each text question's rule: "" for a valid value, else the sentence that says what to type.
RULES: dict[str, Any] = {
    "project_name": names.project_name_error,
    "import_name": names.import_name_error,
    "description": names.description_error,
    "github_owner": names.github_owner_error,
    "github_repo": names.github_repo_error,
    "author_name": names.author_name_error,
    "author_email": names.email_error,
    "python_min": lambda v: pythons.python_min_error(str(v), today()),
    "release_environment": names.environment_error,
}
# Choice questions: the values copier accepts (copier.yml's `choices`).
CHOICES: dict[str, tuple[str, ...]] = {
    "license": tuple(licenses.LICENSES),
    "build_backend": (*backends.BACKENDS, "other"),
    "ci_installer": ("pip", "uv"),
    "os_matrix": ("linux", "all"),
    "free_threading": ("required", "allowed-to-fail", "none"),
    "docs": ("none", "mkdocs"),
    "versioning": ("static", "git"),
    "cli": ("none", "argparse", "click"),
}
# What copier reads as yes or no for a `type: bool` answer given as text (`-d pin_actions=no`).
_BOOL_WORDS = frozenset({"y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0"})
BOOL_QUESTIONS = frozenset({"testpypi", "pin_actions", "update_notice"})


def question_error(question: str, value: Any, retrofit: Any = "no", conf: Any = None) -> str:
    """Why ``value`` is not an answer to ``question`` ("" when it is): the one rule of each
    question, used by its validator at a prompt (``refused``), for an answer given with ``-d``
    or ``--data-file`` (``given_ok``) and for the candidate defaults (``pick``). ``retrofit`` is
    how the project comes to the template; ``conf`` copier's ``_copier_conf``, where a rule
    reads the destination."""
    if question in BOOL_QUESTIONS:
        if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in _BOOL_WORDS):
            return ""
        return f"{value!r} is not yes or no (true/false, y/n)."
    if not isinstance(value, str):
        return f"{value!r} is not text."
    new_project = (retrofit or "no") == "no"
    if question in CHOICES:
        if value not in CHOICES[question]:
            return f"{value!r} is not one of {', '.join(CHOICES[question])}."
        if question == "build_backend" and value == "other" and new_project:
            return "A new project is built with setuptools or hatchling."
        return ""
    if question == "author_email" and not value:
        return ""  # no email at all is an answer
    if question == "import_name" and new_project:
        return names.import_name_error(value) or names.dependency_error(value)
    if question == "publish_workflow":
        if conf is None:
            return names.workflow_file_error(value)
        return retrofit_questions.publish_workflow_error(value, conf["dst_path"], copier_operation())
    rule = RULES.get(question)
    return rule(value) if rule else ""


@pass_context
def refused(context: Context, value: Any, question: str) -> str:
    """A question's validator: its rule's sentence, shortened to what copier shows at a prompt on
    80 columns (prompts.fit). Copier before 9.11 checks the empty default of a required answer
    once before the prompt: that one look passes (prompts.answer_error)."""
    rule = prompts.answer_error(
        question,
        lambda text: question_error(question, text, context.get("retrofit"), context.get("_copier_conf")),
    )
    return prompts.fit(context, rule(value), question)


@pass_context
def given_ok(context: Context, question: str) -> bool:
    """True, or copier stops with one plain line: an invalid answer given with ``-d`` or
    ``--data-file``. Used in each question's ``when``, which copier renders before it checks a
    given answer (its own refusal, from the validator, prints a traceback); at a prompt the
    validator still shows the same sentence and asks again."""
    conf = context.get("_copier_conf")
    data = (conf["data"] or {}) if conf is not None else {}
    if question not in data:
        return True
    retrofit = context.get("retrofit")  # the first question: answered (or derived) by now
    if message := question_error(question, data[question], retrofit, conf):
        raise UserMessageError(f"-d {question}={data[question]}: {message}")
    return True


def opt_in_default(question: str, organisation: Any, default: str, on_update: str) -> str:
    """The default of a question that changes a project's shape (its systems, free-threaded
    job, docs, versioning, command line): the ``organisation``'s answer in org.yml (else
    ``default``) for a new project; ``on_update`` for a project that updates into the
    question, which keeps its shape (organisation defaults apply to new projects only) until
    its owner answers otherwise."""
    if copier_operation() == "update":
        return on_update
    # Asked of new projects only: the rule of a new project.
    return prompts.pick([organisation, default], lambda value: question_error(question, value))


@pass_context
def pick(context: Context, candidates: list[Any], question: str) -> str:
    """The first candidate default that passes the question's own rule ("" if none does), for
    the project as it comes to the template (an existing project's own backend is an answer)."""
    retrofit = context.get("retrofit")
    return prompts.pick(candidates, lambda value: question_error(question, value, retrofit))


def remote_owner(root: Any) -> str:
    """The GitHub owner in the ``origin`` remote of a destination that is a git checkout's top
    (a repository cloned from GitHub before rendering into it)."""
    path = Path(str(root))
    if not (path / ".git").exists():
        return ""
    found = existing.github_repository(existing.git_remote(path))
    return found[0] if found else ""


def existing_import_name(root: Any, project_name: str) -> str:
    if not _is_existing_project(root):
        return names.import_name(str(project_name))
    return existing.import_name(Path(str(root)), str(project_name))


class Filters(Extension):
    """Filters and globals for questions: defaults and validators."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(
            {
                "import_name": names.import_name,
                "pick": pick,
                "refused": refused,
                "fit": prompts.fit,
                "required": prompts.required,
                "folder_name": prompts.folder_name,
                "remote_owner": remote_owner,
                "toml_str": toml_str,
                "toml_list": toml_list,
                "yaml_str": yaml_str,
                "yaml_scalar": yaml_scalar,
                "md_text": md_text,
                "existing": existing_value,
                "existing_import_name": existing_import_name,
                "existing_environment": retrofit_questions.existing_environment,
                "retrofit_default": retrofit_questions.retrofit_default,
                "retrofit_is_unchanged": retrofit_questions.retrofit_is_unchanged,
                "retrofit_choice_error": retrofit_questions.retrofit_choice_error,
                "retrofit_error": retrofit_questions.retrofit_error,
                "retrofit_report": retrofit_questions.retrofit_report,
                "workflow_triggers": retrofit_questions.workflow_triggers,
                "publish_workflow_default": retrofit_questions.publish_workflow_default,
                "git_changes": retrofit_questions.git_changes,
                "tests_call": retrofit_questions.tests_call,
                "py_str": lambda v: json.dumps(str(v), ensure_ascii=False),
            }
        )
        environment.globals.update(
            {
                "git_config": git_config,
                "copier_operation": copier_operation,
                "opt_in_default": opt_in_default,
                "given_ok": given_ok,
                "default_python_min": lambda: pythons.default_min(today()),
                "released_pythons": lambda: pythons.released(today()),
                "license_text": licenses.license_text,
                "org": org_defaults(),
            }
        )


_DERIVED_FROM = (
    "python_min",
    "build_backend",
    "import_name",
    "github_owner",
    "github_repo",
    "project_name",
    "pin_actions",
    "ci_installer",
    "docs",
)


@functools.cache
def _derived(answers: tuple[Any, ...], date: dt.date) -> dict[str, Any]:
    """Everything computed from the answers; cached, since copier builds a context per file."""
    a = dict(zip(_DERIVED_FROM, answers, strict=True))
    values: dict[str, Any] = {"current_year": date.year}
    # Answers are validated after some of this runs (copier renders defaults with the
    # context too): derive only from valid values and leave the refusal to the validator.
    if a["python_min"] and not pythons.python_min_error(str(a["python_min"]), date):
        values["python_versions"] = pythons.matrix(str(a["python_min"]), date)
        values["python_classifiers"] = pythons.classifiers(str(a["python_min"]), date)
        values["python_newest"] = pythons.newest(date)
    if a["build_backend"] in backends.BACKENDS:
        backend = backends.backend(str(a["build_backend"]))
        values["backend"] = backend
        values["backend_config"] = backend.tool_config.format(import_name=a["import_name"])
    if a["github_owner"] and a["github_repo"]:
        values["repo_url"] = f"https://github.com/{a['github_owner']}/{a['github_repo']}"
        # GitHub Pages serves a user's or organisation's own site repository at the root.
        owner, repo = str(a["github_owner"]), str(a["github_repo"])
        pages = f"https://{owner.lower()}.github.io/"
        values["docs_url"] = pages if repo.lower() == f"{owner.lower()}.github.io" else f"{pages}{repo}/"
    if a["project_name"]:
        # How the project's name appears in sdist and wheel file names.
        values["dist_name"] = names.normalize(str(a["project_name"])).replace("-", "_")
        # A start for PyPI's search: the words of the name; the user adds more.
        values["keywords"] = names.normalize(str(a["project_name"])).split("-")
    pin = True if a["pin_actions"] is None else bool(a["pin_actions"])
    values["uses"] = lambda action: uses(action, pin)
    values["workflow_actions"] = workflow_actions(a)
    return values


class Derived(ContextHook):
    """Values derived from the answers, available by name in every template file."""

    def hook(self, context: dict[str, Any]) -> None:
        answers = tuple(_hashable(context.get(name)) for name in _DERIVED_FROM)
        context.update(_derived(answers, today()))
        context.setdefault("publish_workflow", PUBLISH_WORKFLOW)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
