"""What a PyPI credential looks like in a workflow, and the lines that only hand one on.

Read by every rung of the retrofit (recognise.py accounts for each credential, the planners
remove them, verify.py checks that none is left). A credential is a secret that an upload
reads: named like a PyPI one (PYPI, TWINE, WAREHOUSE...), or handed to a variable or option
that an upload tool reads its password from. Standard library only.
"""

from __future__ import annotations

import re

from .workflows import github_token, secrets_read

# A secret named for PyPI (or for a tool's PyPI login).
_PYPI_NAME = re.compile(
    r"PYPI|TWINE|WAREHOUSE|FLIT_PASSWORD|HATCH_(?:INDEX_)?(?:AUTH|TOKEN)|MATURIN_P", re.IGNORECASE
)
# Variables that upload tools read their PyPI login from (a user name too: it goes with them).
PYPI_VARIABLE = re.compile(
    r"^(?:TWINE_(?:USERNAME|PASSWORD|TOKEN)|PYPI_(?:API_)?(?:TOKEN|PASSWORD|USERNAME|USER)|TEST_?PYPI_(?:API_)?"
    r"(?:TOKEN|PASSWORD)|MATURIN_(?:USERNAME|PASSWORD|PYPI_TOKEN)|FLIT_(?:USERNAME|PASSWORD)|UV_PUBLISH_"
    r"(?:TOKEN|USERNAME|PASSWORD)|POETRY_PYPI_TOKEN_\w+|POETRY_HTTP_BASIC_\w+_(?:USERNAME|PASSWORD)|"
    r"HATCH_INDEX_(?:USER|AUTH)|PDM_PUBLISH_(?:USERNAME|PASSWORD))$"
)
# The options each upload tool takes a login in (the value follows, or comes after `=`).
_LOGIN_OPTIONS = {
    "twine": ("-u", "--username", "-p", "--password"),
    "uv": ("-u", "--username", "-p", "--password", "-t", "--token"),
    "pdm": ("-u", "--username", "-P", "--password"),
    "maturin": ("-u", "--username", "-p", "--password"),
    "poetry": ("-u", "--username", "-p", "--password"),
    "hatch": ("-u", "--user", "-a", "--auth"),
    "flit": (),
}
# One shell word: quoted parts, expressions and single characters, each way to match a
# character being one (nested repeats here once backtracked for minutes on a long value).
_WORD = r"""(?:"[^"]*"|'[^']*'|\$\{\{(?:[^}]|\}(?!\}))*\}\}|\$(?!\{\{)|[^\s"'$])+"""
# `export TWINE_PASSWORD=...`, `echo "TWINE_PASSWORD=..." >> "$GITHUB_ENV"`, `poetry config
# pypi-token.pypi ...`: shell lines whose only work is to hand a login on.
_EXPORT = re.compile(rf"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)={_WORD}\s*;?\s*$")
# `TWINE_PASSWORD=... twine upload ...`: a login given to one command only, before it.
_PREFIX = re.compile(rf"(?:^|(?<=\s))([A-Za-z_][A-Za-z0-9_]*)={_WORD}\s+")
_TO_GITHUB_ENV = re.compile(r"""^\s*echo\s+["']?([A-Za-z_][A-Za-z0-9_]*)=.*>>\s*["']?\$\{?GITHUB_ENV""")
POETRY_LOGIN = re.compile(r"^\s*poetry\s+config\s+(?:pypi-token\.\S+|http-basic\.\S+)\s")


def pypi_secret(name: str) -> bool:
    """A secret whose name says it is a PyPI login (GitHub's own token never is)."""
    return not github_token(name) and bool(_PYPI_NAME.search(name))


def credential_in(text: str, known: set[str]) -> list[str]:
    """The PyPI logins ``text`` reads: secrets named like one, or among ``known`` (the secrets
    the uploads of the workflow read)."""
    return [name for name in secrets_read(text) if name in known or pypi_secret(name)]


def strip_login(tool: str, command: str) -> str:
    """``command`` (one upload, from its tool's name on) without the options that give a login."""
    options = _LOGIN_OPTIONS.get(tool, ())
    if not options:
        return command
    names = "|".join(re.escape(option) for option in sorted(options, key=len, reverse=True))
    stripped = re.sub(rf"\s(?:{names})(?:=|\s+){_WORD}", "", command)
    return re.sub(r"[ \t]+$", "", stripped)


def strip_prefix(command: str, known: set[str]) -> str:
    """``command`` without the `VAR=value` prefixes that give it a PyPI login."""

    def drop(match: re.Match[str]) -> str:
        login = PYPI_VARIABLE.match(match.group(1)) or credential_in(match.group(0), known)
        return "" if login else match.group(0)

    return _PREFIX.sub(drop, command)


def hands_login(line: str, known: set[str]) -> bool:
    """A shell line whose only work is to hand a PyPI login on: an export of one, a line that
    writes one to $GITHUB_ENV, or poetry's login configuration."""
    if POETRY_LOGIN.match(line):
        return True
    for pattern in (_EXPORT, _TO_GITHUB_ENV):
        if (match := pattern.match(line)) and (
            PYPI_VARIABLE.match(match.group(1)) or credential_in(line, known)
        ):
            return True
    return False


def login_line(text: str) -> int:
    """The first line of a workflow's text (comments aside) that reads a secret named like a PyPI
    login, or sets a variable an upload tool reads its login from; 0 for none."""
    for number, line in enumerate(text.splitlines(), 1):
        code = re.sub(r"(?:^|\s)#.*$", "", line)
        if any(pypi_secret(name) for name in secrets_read(code)):
            return number
        if (match := re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*\S", code)) and PYPI_VARIABLE.match(
            match.group(1)
        ):
            return number
    return 0
