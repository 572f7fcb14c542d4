"""The thin layer between copier's Jinja and the modules beside it: registrations only.

copier.yml loads the two classes below through extensions/load.py:
- ``Filters`` gives questions their computed defaults and validators (filters and globals,
  usable before every answer is known): the rules of answers.py, the one record of the
  destination's facts of destination.py (which reads an existing project through the retrofit),
  the serialisers of serialise.py;
- ``Derived`` adds the values computed from the answers (Python matrix, classifiers, build
  backend, action pins) to the context of every file, once per set of answers.
"""

from __future__ import annotations

import datetime as dt
import functools
import subprocess
from pathlib import Path
from typing import Any

import yaml
from copier.errors import UserMessageError
from copier_template_extensions import ContextHook
from jinja2 import Environment
from jinja2.ext import Extension

from . import (
    answers,
    backends,
    compiled,
    destination,
    docs_engines,
    folder,
    licenses,
    names,
    prompts,
    pythons,
    serialise,
)
from .pins import uses

_HERE = Path(__file__).resolve().parent


def today() -> dt.date:
    return dt.date.today()


# The keys copier.yml's defaults read, all read by one git process.
_GIT_KEYS = ("user.name", "user.email", "github.user")


def git_config(key: str) -> str:
    """A value of the user's git configuration, or "" when git or the key is missing."""
    return _git_values().get(key, "") if key in _GIT_KEYS else _git_value(key)


@functools.cache
def _git_values() -> dict[str, str]:
    """The values of _GIT_KEYS that are set: read once per loading of this package (each
    copier process, each template folder), where copier renders a default several times."""
    pattern = "^(" + "|".join(key.replace(".", "[.]") for key in _GIT_KEYS) + ")$"
    values: dict[str, str] = {}
    for entry in _git(["--null", "--get-regexp", pattern]).split("\0"):
        key, _, value = entry.partition("\n")
        if key:
            values[key] = value.strip()  # the last one wins, as with --get
    return values


@functools.cache
def _git_value(key: str) -> str:
    return _git(["--get", key]).strip()


def _git(arguments: list[str]) -> str:
    try:
        done = subprocess.run(
            ["git", "config", *arguments], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


@functools.cache
def org_defaults() -> dict[str, Any]:
    """The organisation defaults of org.yml (at the template's top level)."""
    return read_org(_HERE.parent / "org.yml")


def read_org(path: Path) -> dict[str, Any]:
    """An organisation's defaults file, or a message that says where it is broken (a fork's
    maintainer edits it by hand)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=serialise.SAFE_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.context_mark or error.problem_mark  # where the broken part starts
        where = f" line {mark.line + 1}" if mark else ""
        raise UserMessageError(
            f"{path.name}{where} is not YAML ({error.problem or error.context}): fix it, then run copier again."
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UserMessageError(f"{path.name} is not YAML ({error}): fix it, then run copier again.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserMessageError(
            f"{path.name} must map question names to default values (like `license: MIT`), not hold "
            f"a {type(data).__name__}: fix it, then run copier again."
        )
    return data


def workflow_actions(answers: dict[str, Any]) -> list[str]:
    """The actions the rendered workflows use, for configuration that must list them."""
    # setup-python in every project: test.yml's checks and coverage jobs use it with uv too.
    actions = [
        "actions/checkout",
        "actions/setup-python",
        *(
            ["astral-sh/setup-uv"]
            if answers.get("ci_installer") == "uv" or answers.get("lowest_dependencies") is True
            else []
        ),
        *(
            ["actions/upload-pages-artifact", "actions/deploy-pages"]
            if answers.get("docs") in docs_engines.ENGINES
            else []
        ),
        "actions/upload-artifact",
        "actions/download-artifact",
        "pypa/gh-action-pypi-publish",
        *(["actions/attest"] if answers.get("attestations") is True else []),
        *(["pypa/gh-action-pip-audit"] if answers.get("dependency_audit") is True else []),
        *(["pypa/cibuildwheel"] if answers.get("build_backend") == "scikit-build-core" else []),
    ]
    return sorted(actions)


class Filters(Extension):
    """Filters and globals for questions: defaults and validators."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        compiled.compile_once(environment)
        environment.filters.update(
            {
                "import_name": names.import_name,
                "pick": answers.pick,
                "fit": prompts.fit,
                "required": prompts.required,
                "folder_name": prompts.folder_name,
                "toml_str": serialise.toml_str,
                "toml_list": serialise.toml_list,
                "yaml_str": serialise.yaml_str,
                "yaml_scalar": serialise.yaml_scalar,
                "md_text": serialise.md_text,
                "py_str": serialise.py_str,
                # The one door to what the destination holds (extensions/destination.py).
                "destination": destination.destination,
                # After an update: did it delete a file (migrations/keep_edited.py)?
                "deleted_by_update": lambda root: bool(folder.deleted_files(root)),
            }
        )
        environment.globals.update(
            {
                "git_config": git_config,
                "copier_operation": folder.copier_operation,
                "copier_before": folder.copier_before,
                "opt_in_default": answers.opt_in_default,
                "new_project_option": answers.new_project_option,
                "given_ok": answers.given_ok,
                "refused": answers.refused,
                "choice_refused": answers.choice_refused,
                "default_python_min": lambda: pythons.default_min(today()),
                "released_pythons": lambda: pythons.released(today()),
                "pypy_error": pythons.pypy_error,
                "pypy_version": pythons.PYPY[0],
                "license_text": licenses.license_text,
                "license_names_holder": licenses.names_holder,
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
    "attestations",
    "dependency_audit",
    "lowest_dependencies",
    "stable_abi",
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
        if a["build_backend"] == "scikit-build-core" and a["stable_abi"] is True:
            values["backend_config"] += backends.STABLE_ABI_CONFIG
    if a["docs"] in docs_engines.ENGINES:
        engine = docs_engines.ENGINES[str(a["docs"])]
        values["docs_engine"] = engine
        values["docs_requires"] = docs_engines.requirements(engine, str(a["python_min"] or ""))
    # A compiled extension: wheels per system and CPU (cibuildwheel), not one pure wheel.
    values["compiled"] = a["build_backend"] == "scikit-build-core"
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
        # Copier builds a context for each text it renders (about 500 in a render): one hash.
        answers = tuple(map(context.get, _DERIVED_FROM))
        try:
            hash(answers)
        except TypeError:
            answers = tuple(map(_hashable, answers))
        context.update(_derived(answers, today()))
        context.setdefault("publish_workflow", folder.PUBLISH_WORKFLOW)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
