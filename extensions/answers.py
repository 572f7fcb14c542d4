"""The one rule of each question, and where copier applies it.

``question_error`` says why a value is not an answer ("" when it is). The same rule refuses a
value typed at a prompt (``refused``, a question's validator), an answer given with ``-d`` or
``--data-file`` (``given_ok``, in each question's ``when``) and a candidate default
(``pick``, ``opt_in_default``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from copier.errors import UserMessageError
from jinja2 import pass_context
from jinja2.runtime import Context

from . import backends, docs_engines, licenses, names, prompts, pythons
from .destination import destination
from .folder import copier_operation

# Each text question's rule: "" for a valid value, else the sentence that says what to type.
RULES: dict[str, Callable[[str], str]] = {
    "project_name": names.project_name_error,
    "import_name": names.import_name_error,
    "description": names.description_error,
    "github_owner": names.github_owner_error,
    "github_repo": names.github_repo_error,
    "author_name": names.author_name_error,
    "author_email": names.email_error,
    "conduct_contact": names.email_error,
    "python_min": lambda v: pythons.python_min_error(str(v), dt.date.today()),
    "release_environment": names.environment_error,
}
# Choice questions: the values copier accepts (copier.yml's `choices`).
CHOICES: dict[str, tuple[str, ...]] = {
    "license": tuple(licenses.LICENSES),
    "build_backend": (*backends.BACKENDS, "other"),
    "ci_installer": ("pip", "uv"),
    "os_matrix": ("linux", "all"),
    "free_threading": ("required", "allowed-to-fail", "none"),
    "docs": ("none", *docs_engines.ENGINES),
    "versioning": ("static", "git"),
    "changelog": ("towncrier", "by-hand"),
    "cli": ("none", "argparse", "click"),
}
# What copier reads as yes or no for a `type: bool` answer given as text (`-d pin_actions=no`).
_BOOL_WORDS = frozenset({"y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0"})
BOOL_QUESTIONS = frozenset(
    {
        "dependency_audit",
        "community",
        "pypy",
        "lowest_dependencies",
        "testpypi",
        "attestations",
        "pin_actions",
        "update_notice",
        "update_pull_request",
        "stable_abi",
    }
)

# The questions an existing project (a retrofit) is not asked: each shapes files the retrofit
# leaves to the project (its tests workflow, docs, changelog, community files) or belongs to
# a new project's own workflows. Their `when` asks `retrofit == 'no'` (a test holds the two
# together). Copier renders with an answer given with `-d` even where `when` is false, and does
# not record it, so the next update would render without it: a retrofit refuses one instead.
NEW_PROJECT_ONLY = frozenset(
    {
        "stable_abi",
        "os_matrix",
        "free_threading",
        "pypy",
        "lowest_dependencies",
        "docs",
        "changelog",
        "cli",
        "dependency_audit",
        "community",
        "conduct_contact",
        "attestations",
        "pin_actions",
        "update_notice",
        "update_pull_request",
    }
)


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
            return "A new project is built with setuptools, hatchling or scikit-build-core: other is for an existing project only."
        if question == "build_backend" and value == "scikit-build-core" and not new_project:
            return "An existing project keeps its own build backend: answer other."
        return ""
    if question in ("author_email", "conduct_contact") and not value:
        return ""  # no email at all is an answer
    if question == "import_name" and new_project:
        return names.import_name_error(value) or names.dependency_error(value)
    if question == "publish_workflow":
        if conf is None:
            return names.workflow_file_error(value)
        return destination(conf).publish_workflow_error(value)
    rule = RULES.get(question)
    return rule(value) if rule else ""


@pass_context
def refused(context: Context, question: str) -> str:
    """A question's validator, ``{{ refused('NAME') }}``: its rule's sentence about the answer
    being checked (copier puts it in the context under the question's name), shortened to what
    copier shows at a prompt on 80 columns (prompts.fit). Copier before 9.11 checks the empty
    default of a required answer once before the prompt: that one look passes
    (prompts.answer_error). Every validator is the same text but for the name, a literal, so
    all of them compile once (compiled.py)."""
    rule = prompts.answer_error(
        question,
        lambda text: question_error(question, text, context.get("retrofit"), context.get("_copier_conf")),
    )
    return prompts.fit(context, rule(context.resolve(question)), question)


# Why a choice is shown disabled at a prompt, short enough to follow its label at 80 columns.
_CHOICE_FOR = {
    "other": "other is for an existing project only",
    "scikit-build-core": "for a new project only",
}


@pass_context
def choice_refused(context: Context, question: str, value: str) -> str:
    """A choice's own validator: a choice the question's rule refuses for this project is shown
    disabled at the prompt (copier does not run the question's validator on a pick from a
    list, so without this a new project could pick `other` and fail after every question)."""
    if not question_error(question, value, context.get("retrofit")):
        return ""
    return _CHOICE_FOR.get(value, "not for this project")


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
    # On copy only: inside an update copier renders the old version with the recorded answers
    # as its data, and a retrofit made with 1.1.0 recorded pin_actions and update_notice.
    if question in NEW_PROJECT_ONLY and (retrofit or "no") != "no" and copier_operation() == "copy":
        raise UserMessageError(
            f"-d {question}={data[question]}: an existing project is not asked this. The retrofit adds "
            "the release setup and keeps the project's own workflows and files: leave it out."
        )
    return True


@pass_context
def opt_in_default(context: Context, question: str, organisation: Any, default: str, on_update: str) -> str:
    """The default of a question that changes a project's shape (its systems, free-threaded
    job, docs, versioning, command line): the ``organisation``'s answer in org.yml (else
    ``default``) for a new project; ``on_update`` for a project that updates into the
    question, which keeps its shape (organisation defaults apply to new projects only) until
    its owner answers otherwise, and for an existing project (a retrofit), which is not asked
    and keeps its own."""
    if _keeps_its_shape(context):
        return on_update
    # Asked of new projects only: the rule of a new project.
    return prompts.pick([organisation, default], lambda value: question_error(question, value))


@pass_context
def new_project_option(context: Context, organisation: Any, default: bool) -> bool:
    """The default of a yes/no option that adds files or jobs (PyPy, the lowest versions, the
    audit, community files, attestations, the stable ABI): the ``organisation``'s answer in
    org.yml (else ``default``) for a new project; off for a project that updates into the
    question and for a retrofit, which keep their shape (see ``opt_in_default``)."""
    if _keeps_its_shape(context):
        return False
    return organisation if isinstance(organisation, bool) else default


def _keeps_its_shape(context: Context) -> bool:
    """An update (a question new to the project takes the answer that changes nothing) or an
    existing project (a retrofit, which is not asked and keeps its own)."""
    return copier_operation() == "update" or (context.get("retrofit") or "no") != "no"


@pass_context
def pick(context: Context, candidates: list[Any], question: str) -> str:
    """The first candidate default that passes the question's own rule ("" if none does), for
    the project as it comes to the template (an existing project's own backend is an answer)."""
    retrofit = context.get("retrofit")
    return prompts.pick(candidates, lambda value: question_error(question, value, retrofit))
