"""The folder copier writes into: a new project, or an existing one (a retrofit).

Every question asks this module about the destination. What a new project needs is
answered here, cheaply; only a folder that holds a project (or a GitHub workflow, or is
recorded as a retrofit) imports the retrofit sub-package (each function imports it where it needs it), so rendering a new project
loads none of it. Each function is registered as a copier filter by context.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from copier.errors import UserMessageError

from . import names

# PyPI trusts the publishing workflow by its file name: renaming it breaks releases.
PUBLISH_WORKFLOW = "publish.yml"
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
_GITHUB_URL = re.compile(r"github\.com[:/]+([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?(?:[#?].*)?$")


def is_existing_project(root: str | Path) -> bool:
    return any((Path(str(root)) / name).is_file() for name in PROJECT_FILES)


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


def answers_path(conf: Any) -> Path:
    """The answers file copier is using for this run (``-a FILE``, or the template's default),
    inside the destination: every guard reads this one, never a fixed name."""
    return Path(str(conf["dst_path"])) / str(conf["answers_file"] or ".copier-answers.yml")


def recorded(answers: Path, operation: str) -> bool:
    """Whether ``retrofit`` is the project's recorded answer rather than derived: on update (or,
    should copier's operation be unreadable, wherever the answers file exists)."""
    return operation == "update" or (operation == "unknown" and answers.is_file())


def answered_retrofit(answers_file: Path) -> str:
    """The recorded answer ("no" for a project made before the question existed, or none)."""
    try:
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) if answers_file.is_file() else None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as error:
        raise UserMessageError(
            f"{answers_file.name} is not readable YAML ({type(error).__name__}): restore it with "
            f"`git checkout -- {answers_file.name}` and run copier again."
        ) from None
    return str(answers.get("retrofit", "no")) if isinstance(answers, dict) else "no"


def _new_project(conf: Any, operation: str) -> bool:
    """A copy into a folder with no project and no workflows: nothing of the retrofit applies."""
    path = Path(str(conf["dst_path"]))
    return (
        not recorded(answers_path(conf), operation)
        and not is_existing_project(path)
        and not (path / ".github" / "workflows").is_dir()
    )


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A read-only git command in ``root`` (a missing git reads as a failed command)."""
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        return subprocess.CompletedProcess(args, 128, "", str(error))


def git_output(root: Path, *args: str) -> str:
    """The output of a read-only git command in ``root`` ("" when git or the answer is missing)."""
    done = git(root, *args)
    return done.stdout.strip() if done.returncode == 0 else ""


def github_repository(url: str) -> tuple[str, str] | None:
    """(owner, repository) of a github.com URL, https or ssh; None for any other URL."""
    match = _GITHUB_URL.search(url)
    return (match.group(1), match.group(2)) if match else None


def remote_owner(root: str | Path) -> str:
    """The GitHub owner in the ``origin`` remote of a destination that is a git checkout's top
    (a repository cloned from GitHub before rendering into it)."""
    path = Path(str(root))
    if not (path / ".git").exists():
        return ""
    found = github_repository(git_output(path, "remote", "get-url", "origin"))
    return found[0] if found else ""


def untracked_error(path: Path) -> str:
    """Files git does not track and does not ignore, listed whatever the user's git settings say
    (``status.showUntrackedFiles=no`` hides them from copier's own check of a dirty tree): an
    update or a retrofit could write over one of them."""
    done = git(path, "status", "--porcelain", "--untracked-files=all")
    if done.returncode != 0:
        return ""  # not a git repository: copier and retrofit_error say so
    untracked = [line[3:] for line in done.stdout.splitlines() if line.startswith("??")]
    if not untracked:
        return ""
    shown = ", ".join(untracked[:3]) + (f" and {len(untracked) - 3} more" if len(untracked) > 3 else "")
    return (
        f"{path.resolve()} has files git does not track ({shown}); copier could write over them. "
        "Commit them, or list them in .gitignore, then run copier again."
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
def retrofit_report(root: str | Path, workflow: str) -> dict[str, Any]:
    from .retrofit import questions

    return questions.retrofit_report(root, workflow)


def workflow_triggers(root: str | Path, name: str) -> str:
    from .retrofit import questions

    return questions.workflow_triggers(root, name)


def git_changes(root: str | Path) -> list[str]:
    """Files the retrofit added or changed, as `git status` lists them."""
    done = git(Path(str(root)), "status", "--porcelain", "--untracked-files=all")
    return [
        line[3:] + (" (new)" if line.startswith("??") else " (changed)") for line in done.stdout.splitlines()
    ]
