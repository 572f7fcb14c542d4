"""The one door from copier to the destination: what the folder copier writes into holds,
read once per run into a ``Destination`` record that questions, files and messages read.

``destination(conf)`` (a copier filter: ``_copier_conf | destination``) gives the run's record;
each field is read from the disk the first time something asks for it, and kept for the rest
of the run. A new project's fields come from the plain facts of folder.py; an existing
project's (a retrofit) from the retrofit sub-package, imported by the first field that needs it,
so rendering a new project loads none of it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from copier.errors import UserMessageError

from . import names, pythons
from .folder import (
    PUBLISH_WORKFLOW,
    answered_retrofit,
    answers_path,
    copier_operation,
    enclosing_repository,
    git,
    git_output,
    github_repository,
    is_existing_project,
    recorded,
    untracked_error,
)

T = TypeVar("T")
_NO_CALLS: dict[str, Any] = {"calls": [], "reasons": []}


@dataclass(frozen=True, eq=False)
class Destination:
    """The destination's facts for one copier run (one folder, answers file and operation).

    The facts are those before copier writes anything: they decide what it writes. Only what a
    message says after the tasks ran (``holds``, ``changes``) is read again when asked."""

    path: Path
    answers_file: str  # as copier was given it (`-a FILE`), or its default
    operation: str
    given_retrofit: str | None = None  # `-d retrofit=...`
    source: Path | None = None  # the template's folder for this run (`_copier_conf.src_path`)
    _checked: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    # --- plain facts: no retrofit -------------------------------------------------------------

    @functools.cached_property
    def answers(self) -> Path:
        return answers_path(self._conf())

    @functools.cached_property
    def existing(self) -> bool:
        """The folder holds a project (pyproject.toml, setup.py or setup.cfg)."""
        return is_existing_project(self.path)

    @functools.cached_property
    def recorded(self) -> bool:
        """``retrofit`` is the project's recorded answer (an update), not derived."""
        return recorded(self.answers, self.operation)

    @functools.cached_property
    def new(self) -> bool:
        """A copy into a folder with no project and no workflows: nothing of the retrofit applies."""
        return not self.recorded and not self.existing and not (self.path / ".github" / "workflows").is_dir()

    @functools.cached_property
    def remote_owner(self) -> str:
        """The GitHub owner in the ``origin`` remote of a destination that is a git checkout's top
        (a repository cloned from GitHub before rendering into it)."""
        if not (self.path / ".git").exists():
            return ""
        found = github_repository(git_output(self.path, "remote", "get-url", "origin"))
        return found[0] if found else ""

    @functools.cached_property
    def repository_top(self) -> str:
        """The top of the git repository the folder is a subfolder of ("" at a top or outside git)."""
        return enclosing_repository(self.path)

    def holds(self, name: str) -> bool:
        """Whether the project holds the file now (what a task wrote: messages come after tasks)."""
        return (self.path / name).is_file()

    def changes(self) -> list[str]:
        """Files the retrofit added or changed, as `git status` lists them now."""
        done = git(self.path, "status", "--porcelain", "--untracked-files=all")
        return [
            line[3:] + (" (new)" if line.startswith("??") else " (changed)")
            for line in done.stdout.splitlines()
        ]

    # --- how the folder comes to the template: answered here for a new project and on update --

    @functools.cached_property
    def mode(self) -> str:
        """The only answer ``retrofit`` may have, without the checks that can refuse it: on update
        the recorded one, on copy what the folder holds."""
        if self.new:
            return "no"
        if self.recorded:
            if not self.answers.is_file():
                # Copier's own render of the old or new version, in an empty folder: the
                # project's recorded answers come as data.
                return self.given_retrofit or "no"
            return answered_retrofit(self.answers)
        from .retrofit import questions

        return questions.derived_mode(self.path)

    @functools.cached_property
    def default_mode(self) -> str:
        """``retrofit``'s default: "no" (a new project), "add" or "upgrade"; on update what the
        project recorded. A folder that cannot be retrofitted stops copier here, with what to do."""
        if self.new:
            return "no"
        if self.recorded:
            return answered_retrofit(self.answers)
        from .retrofit import questions

        return questions.retrofit_default(self._conf())

    def mode_error(self, mode: str) -> str:
        """Why ``mode`` cannot be applied to the folder now; "" when it can. On update ``mode``
        is the recorded answer (``unchanged`` refuses a change)."""
        if (mode == "no" and self.new) or self.recorded:
            return ""
        from .retrofit import questions

        return self._once(("mode_error", mode), lambda: questions.retrofit_error(self._conf(), mode))

    def choice_error(self, choice: str) -> str:
        """A choice of ``retrofit`` other than the derived one is shown disabled, with why (so
        that copier < 9.19, which shows the question, accepts only the derived answer)."""
        return "" if choice == self.mode else "not what this folder holds"

    @functools.cached_property
    def unchanged(self) -> bool:
        """True, or copier stops with a plain message: ``retrofit`` records how the project was
        made (its answers file says it) and no ``-d retrofit=...`` may change it, since that
        would drop every file the template made from the update's merge.

        Used as the question's ``when``: copier renders ``when`` before it looks at a ``-d``
        answer, and an error raised there prints as a message, where a validator's prints a
        traceback."""
        given = self.given_retrofit
        if not self.recorded:
            # A copy: a given answer must be the one the folder derives (copier would refuse any
            # other choice with a traceback, since the others are disabled).
            if given is not None and (reason := self.mode_error(given)):
                raise UserMessageError(reason)
            return True
        if not self.answers.is_file():
            return True  # copier's own render of the old or new version, in an empty folder
        if reason := untracked_error(self.path):
            raise UserMessageError(reason)
        made = answered_retrofit(self.answers)
        if given is not None and given != made:
            raise UserMessageError(
                f"retrofit is how this project was made ({made!r}, in {self.answers.name}) and cannot "
                f"change on update; run the update without -d retrofit={given}."
            )
        return True

    @functools.cached_property
    def made_new(self) -> bool:
        """A new project, or one the template made as one (recorded ``retrofit: no``): nothing of
        the retrofit applies, and its answers are the template's own."""
        return self.new or (self.recorded and self.mode == "no")

    # --- what an existing project already declares ("" for a new project) ---------------------

    @functools.cached_property
    def declared(self) -> dict[str, str]:
        """The project's own metadata (name, description, owner, licence, python_min...); a
        ``python_min`` older than every version the template tests starts the matrix at the
        oldest it does."""
        if not self.existing or self.made_new:
            return {}
        from .retrofit import questions

        found = dict(questions.metadata(self.path))
        if value := found.get("python_min", ""):
            known = pythons.released(dt.date.today())
            if value not in known and pythons.version_key(value) < pythons.version_key(known[0]):
                found["python_min"] = known[0]
        return found

    def value(self, key: str) -> str:
        """What the project declares for ``key`` ("" when it does not, or for a new project)."""
        return self.declared.get(key, "")

    def import_name(self, project_name: str) -> str:
        if not self.existing or self.made_new:
            return names.new_import_name(str(project_name))
        from .retrofit import questions

        return self._once(
            ("import_name", str(project_name)),
            lambda: questions.existing_import_name(self.path, project_name),
        )

    @functools.cached_property
    def environment(self) -> str:
        """The deployment environment of the existing publish job ("" for a new project)."""
        if not self.existing or self.made_new:
            return ""
        from .retrofit import questions

        return questions.existing_environment(self.path)

    @functools.cached_property
    def publish_workflow(self) -> str:
        """The workflow PyPI is to trust: the project's own that publishes, else publish.yml."""
        if not self.existing or self.made_new:
            return PUBLISH_WORKFLOW
        from .retrofit import questions

        return questions.publish_workflow_default(self.path)

    def publish_workflow_error(self, name: str) -> str:
        """The workflow PyPI will trust must be the one that publishes (see retrofit/questions.py)."""
        if reason := names.workflow_file_error(name):
            return reason
        if self.operation != "copy" or not self.existing:
            return ""
        from .retrofit import questions

        return self._once(
            ("publish_workflow_error", name), lambda: questions.publish_workflow_error(name, self.path)
        )

    # --- what the retrofit reads of the project's workflows, for its files and messages -------

    @functools.cached_property
    def tests_call(self) -> dict[str, Any]:
        """retrofit=add: the tests workflows the added publish.yml calls (none for a new project)."""
        if not self.existing or self.made_new:
            return _NO_CALLS
        from .retrofit import questions

        return questions.tests_call(self.path)

    def release_refs(self, name: str) -> dict[str, str]:
        """An upgraded project's own release: which refs its environment allows, how to release."""
        from .retrofit import questions

        return self._once(("release_refs", name), lambda: questions.release_refs(self.path, name))

    def workflow_triggers(self, name: str) -> str:
        """What starts the project's workflow ``name``, in words."""
        from .retrofit import questions

        return self._once(("workflow_triggers", name), lambda: questions.workflow_triggers(self.path, name))

    def report(self, project_name: str, environment: str) -> dict[str, Any]:
        """What the retrofit did (as of the last commit), for the messages and RELEASING.md."""
        from .retrofit import questions

        return self._once(
            ("report", str(project_name), str(environment)),
            lambda: questions.retrofit_report(self.path, project_name, environment),
        )

    # --- the way in to the retrofit -----------------------------------------------------------

    def _conf(self) -> dict[str, Any]:
        """What the retrofit's questions read of copier's ``_copier_conf``."""
        return {"dst_path": self.path, "answers_file": self.answers_file, "src_path": self.source}

    def _once(self, key: tuple[str, ...], ask: Callable[[], T]) -> T:
        """What ``ask`` answers, asked once per run for each ``key``."""
        if key not in self._checked:
            self._checked[key] = ask()
        return cast(T, self._checked[key])


# Each run's record, by the identity of copier's answers given for the run (``data``, a dict
# of its own per run and per render inside an update), kept with the record so that the
# identity is not reused while the record lives.
_RUNS: dict[tuple[int, str, str, str], tuple[Any, Destination]] = {}
_KEPT = 16


def destination(conf: Any) -> Destination:
    """The record of the destination of the run ``conf`` (copier's ``_copier_conf``) belongs to."""
    data = conf["data"]
    answers_file = str(conf["answers_file"] or ".copier-answers.yml")
    operation = copier_operation()
    key = (id(data), str(conf["dst_path"]), answers_file, operation)
    kept = _RUNS.get(key)
    if kept is not None and kept[0] is data:
        return kept[1]
    given = (data or {}).get("retrofit")
    source = conf.get("src_path")
    record = Destination(
        Path(str(conf["dst_path"])),
        answers_file,
        operation,
        None if given is None else str(given),
        None if source is None else Path(str(source)),
    )
    if len(_RUNS) >= _KEPT:
        del _RUNS[next(iter(_RUNS))]
    _RUNS[key] = (data, record)
    return record
