"""What the folder copier writes into holds, as plain facts: a project file, an answers file
and its recorded ``retrofit``, git's view of it, its GitHub remote, and what copier is doing.

The ground floor of the destination's facts: destination.py (the run's one record of them)
and the retrofit read these; nothing here imports either.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from copier.errors import UserMessageError

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


def copier_before(version: str) -> bool:
    """Whether the copier running is older than ``version`` (a task that only older copier
    needs then runs; where copier's version cannot be read, it runs too: the safe guess)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    from packaging.version import InvalidVersion, Version

    try:
        return Version(installed("copier")) < Version(version)
    except (PackageNotFoundError, InvalidVersion):
        return True


def answers_path(conf: Any) -> Path:
    """The answers file copier is using for this run (``-a FILE``, or the template's default),
    inside the destination: every guard reads this one, never a fixed name."""
    return Path(str(conf["dst_path"])) / str(conf["answers_file"] or ".copier-answers.yml")


def recorded(answers: Path, operation: str) -> bool:
    """Whether ``retrofit`` is the project's recorded answer rather than derived: on update (or,
    should copier's operation be unreadable, wherever the answers file exists)."""
    return operation == "update" or (operation == "unknown" and answers.is_file())


def _answers(answers_file: Path) -> dict[str, Any]:
    try:
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) if answers_file.is_file() else None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as error:
        raise UserMessageError(
            f"{answers_file.name} is not readable YAML ({type(error).__name__}): restore it with "
            f"`git checkout -- {answers_file.name}` and run copier again."
        ) from None
    return answers if isinstance(answers, dict) else {}


def answered_retrofit(answers_file: Path) -> str:
    """The recorded answer ("no" for a project made before the question existed, or none)."""
    return str(_answers(answers_file).get("retrofit", "no"))


# Answers that only this template's answers files record (every release has asked them; and
# `retrofit`, which no other template asks).
_OUR_ANSWERS = frozenset({"project_name", "github_owner", "release_environment"})


def other_template(answers_file: Path) -> str:
    """The template another template's answers file records (its `_src_path`, or "another
    template"); "" for a file of this template's, or no file."""
    answers = _answers(answers_file)
    if not answers or "retrofit" in answers or answers.keys() >= _OUR_ANSWERS:
        return ""
    return str(answers.get("_src_path") or "another template")


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


def enclosing_repository(root: str | Path) -> str:
    """The top of the git repository ``root`` lies in, when ``root`` is a subfolder of it ("" at
    a repository's top or outside git): GitHub runs the workflows of the top's .github only."""
    path = Path(str(root))
    if not path.is_dir():
        return ""
    top = git_output(path, "rev-parse", "--show-toplevel")
    return top if top and Path(top).resolve() != path.resolve() else ""


def deleted_files(root: str | Path) -> list[str]:
    """Files of the last commit that are missing from the work tree of ``root`` now: after an
    update (copier refuses a dirty tree), the files the update deleted."""
    done = git(Path(str(root)), "ls-files", "--deleted", "-z")
    return sorted({name for name in done.stdout.split("\0") if name})


def github_repository(url: str) -> tuple[str, str] | None:
    """(owner, repository) of a github.com URL, https or ssh; None for any other URL."""
    match = _GITHUB_URL.search(url)
    return (match.group(1), match.group(2)) if match else None


def untracked_error(path: Path) -> str:
    """Files git does not track and does not ignore, listed whatever the user's git settings say
    (``status.showUntrackedFiles=no`` hides them from copier's own check of a dirty tree): an
    update or a retrofit could write over one of them."""
    # ls-files: the project's own folder only (it may be a subfolder of the repository), with
    # paths relative to it.
    done = git(path, "ls-files", "--others", "--exclude-standard", "-z")
    if done.returncode != 0:
        return ""  # not a git repository: copier and retrofit_error say so
    untracked = [name for name in done.stdout.split("\0") if name]
    if not untracked:
        return ""
    shown = ", ".join(untracked[:3]) + (f" and {len(untracked) - 3} more" if len(untracked) > 3 else "")
    return (
        f"{path.resolve()} has files git does not track ({shown}); copier could write over them. "
        "Commit them, or list them in .gitignore, then run copier again."
    )
