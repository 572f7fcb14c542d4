"""Defaults that work at a terminal: a question is shown with a value that passes its own
validator, or with an empty field that is checked only once the person has typed.

Copier checks a question's default with the question's validator before it shows the
prompt (copier >= 9.7). A required answer whose default is "" would therefore fail before
anything can be typed. Three cases:

- a candidate default is valid (the destination folder's name, the git remote's owner,
  git's user.name, org.yml...): it is shown, and Enter accepts it (``pick``);
- nothing valid and no prompt (``--defaults``): one plain line names the ``-d KEY=VALUE``
  to pass (``required`` raises copier's ``UserMessageError``, which copier prints without
  a traceback);
- nothing valid at a terminal: the field is empty and the validator runs only on what the
  person types. Copier >= 9.11 does this itself when a default renders its ``UNSET``
  variable. Older copier has no ``UNSET`` and validates the rendered "" at once; there
  ``required`` records that the empty value is copier's own look at the default, and
  ``answer_error`` lets exactly that one check pass (copier checks a default right after
  rendering it). A person who presses Enter on the empty field is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from copier.errors import UserMessageError
from jinja2 import Undefined, pass_context
from jinja2.runtime import Context

# What to type for each required answer, shown in the messages.
EXAMPLES = {"project_name": "acme-widgets", "github_owner": "acme-corp"}

# Required answers whose empty default copier (< 9.11) is about to check.
_empty_default_pending: set[str] = set()


def pick(candidates: Iterable[Any], rule: Callable[[str], str]) -> str:
    """The first candidate that is a non-empty string and passes ``rule`` (an ``*_error``
    function: "" means valid); "" when none does."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate and not rule(candidate):
            return candidate
    return ""


@pass_context
def required(context: Context, value: Any, question: str) -> Any:
    """``value`` when there is one; otherwise no default at all (see the module's docstring)."""
    if value:
        return value
    conf = context.get("_copier_conf")
    if conf is not None and conf["defaults"]:
        example = EXAMPLES.get(question, "value")
        where = ""
        if question == "project_name" and str(context.get("retrofit") or "no") != "no":
            # An existing project: say where the name was looked for (PyPI's name is never guessed).
            read = [
                n
                for n in ("pyproject.toml", "setup.cfg", "setup.py")
                if (Path(str(conf["dst_path"])) / n).is_file()
            ]
            where = (
                f" {', '.join(read)} name{'s' if len(read) == 1 else ''} no package as this template reads them "
                "([project] name, [tool.poetry] or [tool.flit.metadata], setup.cfg's [metadata] name, a literal "
                "setup(name=...)): a name set by code or another tool cannot be read."
            )
        raise UserMessageError(
            f"No value for {question}:{where} Pass -d {question}=VALUE (for example -d {question}={example}), "
            "or leave out --defaults to be asked."
        )
    unset = context.get("UNSET")
    if isinstance(unset, Undefined):
        str(unset)  # copier >= 9.11: raises its UnsetError, so the prompt has no default
    _empty_default_pending.add(question)
    return ""


def answer_error(question: str, rule: Callable[[str], str]) -> Callable[[Any], str]:
    """``rule`` as the validator of a required answer, except for copier's own one look at
    the empty default it has just rendered (copier < 9.11)."""

    def check(value: Any) -> str:
        text = "" if value is None else str(value)
        if not text and question in _empty_default_pending:
            _empty_default_pending.discard(question)
            return ""
        return rule(text)

    return check


# At a prompt, copier shows a validator's message on one line of the terminal (prompt_toolkit's
# validation toolbar is one line high), after its own prefix, and cuts what is longer. There
# the message is shortened to fit an 80-column terminal; an answer given with -d gets the
# whole sentence (context.given_ok).
TERMINAL_WIDTH = 80
_ECHO = re.compile(r"^'[^']*'\s+(?:is\s+|gives\s+)?")


@pass_context
def fit(context: Context, message: Any, question: str) -> str:
    """``message`` as copier can show it at the prompt of ``question`` on 80 columns: whole when
    it fits, else without the echo of what was typed and cut after the last whole clause or
    word that fits. Without a prompt (``--defaults``) the whole message."""
    text = str(message)
    conf = context.get("_copier_conf")
    if conf is None or conf["defaults"]:
        return text  # exactly the rule's sentence, which quotes the answer as typed
    return shorten(text, question)


def shorten(message: str, question: str) -> str:
    """``message`` shortened to what copier's one-line refusal at the prompt of ``question`` shows."""
    text = " ".join(str(message).split())
    budget = TERMINAL_WIDTH - 1 - len(f"Validation error for question '{question}': ")
    if len(text) <= budget:
        return text
    text = _ECHO.sub("", text)
    if len(text) <= budget:
        return text
    cut = text[: budget + 1]
    for stop in (". ", "; ", ": ", ", ", " (", " and ", " which "):
        if (end := cut.rfind(stop)) > budget // 3:
            return cut[:end].rstrip(" :;,(")
    return cut.rsplit(" ", 1)[0].rstrip(" :;,(")


def folder_name(destination: Any) -> str:
    """The name of the destination folder (``copier copy T my-lib`` -> ``my-lib``)."""
    return Path(str(destination)).resolve().name
