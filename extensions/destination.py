"""The questions about the destination: a new project, or an existing one (a retrofit).

What a new project needs is answered here, from the plain facts of folder.py; only a folder
that holds a project (or a GitHub workflow, or is recorded as a retrofit) imports the
retrofit sub-package, each function where it needs it, so rendering a new project loads
none of it. Each function is registered as a copier filter by context.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import names
from .folder import (
    PUBLISH_WORKFLOW,
    answers_path,
    copier_operation,
    git,
    git_output,
    github_repository,
    is_existing_project,
    recorded,
)


def remote_owner(root: str | Path) -> str:
    """The GitHub owner in the ``origin`` remote of a destination that is a git checkout's top
    (a repository cloned from GitHub before rendering into it)."""
    path = Path(str(root))
    if not (path / ".git").exists():
        return ""
    found = github_repository(git_output(path, "remote", "get-url", "origin"))
    return found[0] if found else ""


def _new_project(conf: Any, operation: str) -> bool:
    """A copy into a folder with no project and no workflows: nothing of the retrofit applies."""
    path = Path(str(conf["dst_path"]))
    return (
        not recorded(answers_path(conf), operation)
        and not is_existing_project(path)
        and not (path / ".github" / "workflows").is_dir()
    )


# --- the retrofit's questions: answered here for a new project, else by the retrofit ----------


def derived_mode(conf: Any, operation: str = "copy") -> str:
    """The only answer ``retrofit`` may have (see retrofit/questions.py)."""
    if _new_project(conf, operation):
        return "no"
    from .retrofit import questions

    return questions.derived_mode(conf, operation)


def retrofit_choice_error(conf: Any, choice: str, operation: str = "copy") -> str:
    """A choice of ``retrofit`` other than the derived one is shown disabled, with why (so that
    copier < 9.18, which shows the question, accepts only the derived answer)."""
    return "" if choice == derived_mode(conf, operation) else "not what this folder holds"


def retrofit_default(conf: Any, operation: str = "copy") -> str:
    """How the destination comes to the template: "no" (a new project), "add" or "upgrade"."""
    if _new_project(conf, operation):
        return "no"
    from .retrofit import questions

    return questions.retrofit_default(conf, operation)


def retrofit_error(conf: Any, mode: str, operation: str = "copy") -> str:
    """Why ``mode`` cannot be applied to the destination now; "" when it can."""
    if mode == "no" and _new_project(conf, operation):
        return ""
    from .retrofit import questions

    return questions.retrofit_error(conf, mode, operation)


def retrofit_is_unchanged(conf: Any) -> bool:
    """True, or copier stops with a plain message (see retrofit/questions.py): the question's
    ``when``, which copier renders before it looks at a ``-d`` answer."""
    if (conf["data"] or {}).get("retrofit") in (None, "no") and _new_project(conf, copier_operation()):
        return True
    from .retrofit import questions

    return questions.retrofit_is_unchanged(conf)


def release_refs(root: str | Path, name: str) -> dict[str, str]:
    """An upgraded project's own release: which refs its environment allows, how to release."""
    from .retrofit import questions

    return questions.release_refs(root, name)


def publish_workflow_default(root: str | Path) -> str:
    if not is_existing_project(root):
        return PUBLISH_WORKFLOW
    from .retrofit import questions

    return questions.publish_workflow_default(root)


def publish_workflow_error(name: str, root: str | Path, operation: str = "copy") -> str:
    """The workflow PyPI will trust must be the one that publishes (see retrofit/questions.py)."""
    if reason := names.workflow_file_error(name):
        return reason
    if operation != "copy" or not is_existing_project(root):
        return ""
    from .retrofit import questions

    return questions.publish_workflow_error(name, root)


def existing_environment(root: str | Path) -> str:
    """The deployment environment of an existing publish job ("" for a new project)."""
    if not is_existing_project(root):
        return ""
    from .retrofit import questions

    return questions.existing_environment(root)


def existing_value(root: str | Path, key: str) -> str:
    """What the project in ``root`` already declares for ``key`` ("" for a new project)."""
    if not is_existing_project(root):
        return ""
    from .retrofit import questions

    return questions.existing_value(root, key)


def existing_import_name(root: str | Path, project_name: str) -> str:
    if not is_existing_project(root):
        return names.new_import_name(str(project_name))
    from .retrofit import questions

    return questions.existing_import_name(root, project_name)


def tests_call(root: str | Path) -> dict[str, Any]:
    """retrofit=add: the tests workflows the added publish.yml calls (none for a new project)."""
    if not is_existing_project(root):
        return {"calls": [], "reasons": []}
    from .retrofit import questions

    return questions.tests_call(root)


# Used by the messages and RELEASING.md of a retrofit only.
def retrofit_report(root: str | Path, project_name: str, environment: str) -> dict[str, Any]:
    from .retrofit import questions

    return questions.retrofit_report(root, project_name, environment)


def workflow_triggers(root: str | Path, name: str) -> str:
    from .retrofit import questions

    return questions.workflow_triggers(root, name)


def git_changes(root: str | Path) -> list[str]:
    """Files the retrofit added or changed, as `git status` lists them."""
    done = git(Path(str(root)), "status", "--porcelain", "--untracked-files=all")
    return [
        line[3:] + (" (new)" if line.startswith("??") else " (changed)") for line in done.stdout.splitlines()
    ]
