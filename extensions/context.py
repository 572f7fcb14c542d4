"""The thin layer between copier's Jinja and the plain modules beside this file.

copier.yml loads the two classes below through copier-template-extensions:
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
from jinja2 import Environment
from jinja2.ext import Extension

_HERE = Path(__file__).resolve().parent

# PyPI trusts the publishing workflow by its file name: renaming it breaks releases.
PUBLISH_WORKFLOW = "publish.yml"


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
retrofit = _Lazy("retrofit")
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def _is_existing_project(root: Any) -> bool:
    return any((Path(str(root)) / name).is_file() for name in PROJECT_FILES)


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


# Each validated question's rule: "" for a valid value, else the sentence copier shows.
RULES: dict[str, Any] = {
    "project_name": names.project_name_error,
    "import_name": names.import_name_error,
    "description": names.description_error,
    "github_owner": names.github_owner_error,
    "github_repo": names.github_repo_error,
    "author_name": names.author_name_error,
    "author_email": names.email_error,
    "license": lambda v: "" if v in licenses.LICENSES else "not offered",
    "python_min": lambda v: pythons.python_min_error(str(v), today()),
    "build_backend": lambda v: "" if v in backends.BACKENDS or v == "other" else "not offered",
    "ci_installer": lambda v: "" if v in ("pip", "uv") else "not offered",
    "os_matrix": lambda v: "" if v in ("linux", "all") else "not offered",
    "free_threading": lambda v: "" if v in ("required", "allowed-to-fail", "none") else "not offered",
    "docs": lambda v: "" if v in ("none", "mkdocs") else "not offered",
    "versioning": lambda v: "" if v in ("static", "git") else "not offered",
    "cli": lambda v: "" if v in ("none", "argparse", "click") else "not offered",
    "release_environment": names.environment_error,
}


def pick(candidates: list[Any], question: str) -> str:
    """The first candidate default that passes the question's own rule ("" if none does);
    any non-empty candidate for a question without a rule here."""
    return prompts.pick(candidates, RULES.get(question, lambda value: ""))


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


def copier_operation() -> str:
    """ "copy" or "update": what copier is doing (also while it renders the old and the new
    version of a project inside an update).

    Copier gives `_copier_operation` to `_exclude` and `_tasks` only, not to questions, so it
    is read from where copier keeps it (copier 9.10 to 9.19 alike; the tests run both). If a
    later copier moves it, "update" is assumed wherever a project has an answers file: the
    recorded answer then wins, which never deletes or re-renders anything.
    """
    try:
        from copier._main import _operation

        return str(_operation.get())
    except (ImportError, LookupError):
        return "unknown"


def _recorded(path: Path, operation: str) -> bool:
    """Whether ``retrofit`` is the project's recorded answer rather than derived: on update (or,
    should copier's operation be unreadable, wherever an answers file exists)."""
    return operation == "update" or (operation == "unknown" and (path / ".copier-answers.yml").is_file())


def retrofit_default(root: Any, operation: str = "copy") -> str:
    """How the project in ``root`` comes to the template: "no" (a new one), "add" or "upgrade".

    Derived, never asked. On `copier copy` the destination decides (never a committed
    answers file, which anyone can edit), and every check runs; a project that cannot be
    retrofitted now stops copier here, with copier's plain message (no traceback) saying what
    to do. On `copier update` it is what the project recorded when it was made.
    """
    path = Path(str(root))
    if _recorded(path, operation):
        return _answered_retrofit(path)
    mode = "no"
    try:
        if _is_existing_project(path):
            mode = "upgrade" if retrofit.publishing_workflows(path) else "add"
        elif (path / ".github" / "workflows").is_dir() and retrofit.publishing_workflows(path):
            raise UserMessageError(_subfolder_refusal(path))
        reason = retrofit_error(path, mode, operation)
    except retrofit.RetrofitRefusal as refusal:
        reason = str(refusal)
    if reason:
        raise UserMessageError(reason)
    return mode


def _link_out_of(path: Path) -> Path | None:
    """A symbolic link at the top of the project or in .github that leads outside it (copier
    9.10 refuses those with a traceback; reading one, such as a LICENSE linked to /dev/zero,
    could read forever)."""
    top = path.resolve()
    places = [path, path / ".github", path / ".github" / "workflows"]
    for place in places:
        if not place.is_dir() or place.is_symlink():
            continue  # a linked .github folder is refused by the workflow reader, naming it
        for entry in sorted(place.iterdir()):
            if entry.is_symlink() and not entry.resolve().is_relative_to(top):
                return entry
    return None


def _subfolder_refusal(path: Path) -> str:
    """A repository that publishes a package kept in a subfolder (a monorepo)."""
    packages = sorted(
        str(p.parent.relative_to(path))
        for depth in ("*", "*/*", "*/*/*")
        for name in PROJECT_FILES
        for p in path.glob(f"{depth}/{name}")
        if p.is_file() and ".git" not in p.parts
    )
    where = f" ({', '.join(dict.fromkeys(packages))})" if packages else ""
    return (
        "This repository publishes to PyPI but holds no pyproject.toml, setup.py or setup.cfg at its top: the package "
        f"lives in a subfolder{where}. This template retrofits a project whose package is at the top of the "
        "repository; it will not render a new library over this one. Retrofit the workflow by hand (see the README)."
    )


def retrofit_is_unchanged(conf: Any) -> bool:
    """True, or copier stops with a plain message: ``retrofit`` records how the project was made
    (its answers file says it) and no ``-d retrofit=...`` may change it, since that would drop
    every file the template made from the update's merge.

    Used as the question's ``when``: copier renders ``when`` before it looks at a ``-d`` answer,
    and an error raised there prints as a message, where a validator's prints a traceback."""
    given = (conf["data"] or {}).get("retrofit")
    path = Path(str(conf["dst_path"]))
    if (
        given is None
        or not (path / ".copier-answers.yml").is_file()
        or not _recorded(path, copier_operation())
    ):
        # No answer given; or copier's own render of the old or new version, in an empty
        # folder; or a copy, where retrofit_error checks the answer against the folder.
        return True
    made = _answered_retrofit(path)
    if str(given) != made:
        raise UserMessageError(
            f"retrofit is how this project was made ({made!r}, in .copier-answers.yml) and cannot "
            f"change on update; run the update without -d retrofit={given}."
        )
    return True


def _answered_retrofit(path: Path) -> str:
    """The recorded answer ("no" for a project made before the question existed, or none)."""
    answers_file = path / ".copier-answers.yml"
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) if answers_file.is_file() else None
    return str(answers.get("retrofit", "no")) if isinstance(answers, dict) else "no"


def publish_workflow_default(root: Any) -> str:
    if not _is_existing_project(root):
        return PUBLISH_WORKFLOW
    try:
        found = retrofit.publishing_workflows(Path(str(root)))
    except retrofit.RetrofitRefusal:
        return PUBLISH_WORKFLOW
    return found[0].path.name if len(found) == 1 else PUBLISH_WORKFLOW


def publish_workflow_error(name: str, root: Any, operation: str = "copy") -> str:
    """The workflow PyPI will trust must be the one that publishes: a name is refused unless it
    is that workflow's file name (on copy; an update keeps what the project recorded)."""
    if reason := names.workflow_file_error(name):
        return reason
    if operation != "copy" or not _is_existing_project(root):
        return ""
    try:
        found = retrofit.publishing_workflows(Path(str(root)))
    except retrofit.RetrofitRefusal:
        return ""  # the retrofit's own refusal says what is wrong
    if len(found) == 1 and found[0].path.name != name:
        return (
            f".github/workflows/{found[0].path.name} is the workflow that publishes, so it is the one "
            f"PyPI must trust, not {name}: leave out -d publish_workflow."
        )
    return ""


def existing_environment(root: Any) -> str:
    if not _is_existing_project(root):
        return ""
    try:
        found = retrofit.publishing_workflows(Path(str(root)))
    except retrofit.RetrofitRefusal:
        return ""
    for workflow in found[:1]:
        for job in workflow.publishing_jobs():
            node = job.get("environment")
            if node is not None:
                name = retrofit.get(node, "name")
                return retrofit.scalar(name[1] if name else node)
    return ""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=False
    )


def retrofit_error(root: Any, mode: str, operation: str = "copy") -> str:
    """Why ``mode`` cannot be applied to ``root`` now; "" when it can."""
    path = Path(str(root))
    if _recorded(path, operation):
        # The project's recorded answer (the question's `when` refuses a change); copier's own
        # renders of the old and the new version happen in empty temporary folders.
        return ""
    if not _is_existing_project(path):
        if mode == "no":
            return ""
        return (
            f"{path} holds no project (no pyproject.toml, setup.py or setup.cfg): "
            "retrofit=add and retrofit=upgrade are for existing projects only."
        )
    if mode == "no":
        return (
            f"{path} holds an existing project: a new project cannot be rendered over it. "
            "Leave out -d retrofit=no; the template then keeps the project's own files."
        )
    if _answered_retrofit(path) == "no" and (path / ".copier-answers.yml").is_file():
        return (
            f"{path}/.copier-answers.yml says this project was made from a template as a new project. "
            "If it was, bring in template releases with `copier update --trust --defaults`; if not, "
            "delete .copier-answers.yml, commit, and run this command again."
        )
    if link := _link_out_of(path):
        return (
            f"{link.relative_to(path)} is a symbolic link to {link.readlink()}, outside the project. "
            "Copier writes and reads the files here, and never outside the project: replace the link with "
            "the file itself (or remove it), commit, and run copier again."
        )
    if _git(path, "rev-parse", "--is-inside-work-tree").returncode != 0:
        return (
            f"{path} is not a git repository. A retrofit changes files in place: run `git init && git add -A "
            "&& git commit -m 'Before Trusted Publishing'` first, so every change can be reviewed and undone."
        )
    if _git(path, "status", "--porcelain").stdout.strip():
        return (
            f"{path} has uncommitted changes. Commit or stash them first, so that the retrofit's changes "
            "can be reviewed with `git diff` and undone."
        )
    if reason := retrofit.check(path):
        return reason
    if mode == "upgrade":
        return (
            ""
            if retrofit.publishing_workflows(path)
            else ("No workflow here publishes to PyPI: answer retrofit=add to add publish.yml.")
        )
    if retrofit.publishing_workflows(path):
        return "A workflow here already publishes to PyPI: answer retrofit=upgrade to upgrade it in place."
    return ""


def retrofit_report(root: Any, workflow: str) -> dict[str, Any]:
    """What the retrofit of the publishing workflow (as of the last commit) did, for the
    message: the secrets it no longer uses, notes the owner must read, and whether a
    TestPyPI publisher is needed too."""
    empty: dict[str, Any] = {"secrets": [], "notes": [], "testpypi": False}
    path = Path(str(root))
    done = _git(path, "show", f"HEAD:.github/workflows/{workflow}")
    if done.returncode != 0:
        return empty
    try:
        before = retrofit.Workflow(path / ".github" / "workflows" / workflow, done.stdout)
        planned = retrofit.plan(before, environment="release", project_name="x", uses=lambda action: action)
    except retrofit.RetrofitRefusal:
        return empty
    return {"secrets": planned.secrets, "notes": planned.notes, "testpypi": planned.testpypi}


_TRIGGER_WORDS = {
    "release": "a release on GitHub",
    "push-tags": "a pushed tag",
    "push": "every push",
    "pull_request": "every pull request",
    "workflow_dispatch": "a manual run",
    "schedule": "a schedule",
}


def workflow_triggers(root: Any, name: str) -> str:
    """What starts a project's workflow, in words, for RELEASING.md ("its own triggers" if unreadable)."""
    try:
        triggers = retrofit.Workflow(Path(str(root)) / ".github" / "workflows" / name).triggers()
    except (retrofit.RetrofitRefusal, OSError):
        return "its own triggers"
    words = [_TRIGGER_WORDS.get(t, f"`{t}`") for t in sorted(triggers)]
    return ", ".join(words) or "its own triggers"


def git_changes(root: Any) -> list[str]:
    """Files the retrofit added or changed, as `git status` lists them."""
    done = _git(Path(str(root)), "status", "--porcelain", "--untracked-files=all")
    return [
        line[3:] + (" (new)" if line.startswith("??") else " (changed)") for line in done.stdout.splitlines()
    ]


def test_job(job_id: str, python_versions: list[str], install: str, uses_: Any) -> str:
    return "\n".join(retrofit.test_job_lines(job_id, "  ", python_versions, install, uses_)).rstrip("\n")


class Filters(Extension):
    """Filters and globals for questions: defaults and validators."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(
            {
                "import_name": names.import_name,
                "project_name_error": prompts.answer_error("project_name", names.project_name_error),
                "import_name_error": names.import_name_error,
                "github_owner_error": prompts.answer_error("github_owner", names.github_owner_error),
                "pick": pick,
                "required": prompts.required,
                "folder_name": prompts.folder_name,
                "remote_owner": remote_owner,
                "github_repo_error": names.github_repo_error,
                "email_error": names.email_error,
                "environment_error": names.environment_error,
                "python_min_error": lambda v: pythons.python_min_error(str(v), today()),
                "toml_str": toml_str,
                "toml_list": toml_list,
                "yaml_str": yaml_str,
                "yaml_scalar": yaml_scalar,
                "md_text": md_text,
                "description_error": names.description_error,
                "existing": existing_value,
                "existing_import_name": existing_import_name,
                "existing_environment": existing_environment,
                "retrofit_default": retrofit_default,
                "retrofit_is_unchanged": retrofit_is_unchanged,
                "retrofit_error": retrofit_error,
                "retrofit_report": retrofit_report,
                "workflow_triggers": workflow_triggers,
                "publish_workflow_default": publish_workflow_default,
                "publish_workflow_error": publish_workflow_error,
                "install_args": lambda root: (
                    existing.install_args(Path(str(root))) if _is_existing_project(root) else ""
                ),
                "git_changes": git_changes,
                "author_name_error": names.author_name_error,
                "py_str": lambda v: json.dumps(str(v), ensure_ascii=False),
            }
        )
        environment.globals.update(
            {
                "git_config": git_config,
                "copier_operation": copier_operation,
                "default_python_min": lambda: pythons.default_min(today()),
                "released_pythons": lambda: pythons.released(today()),
                "license_text": licenses.license_text,
                "org": org_defaults(),
                "test_job": test_job,
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
