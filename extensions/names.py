"""Rules for the names a user types: PyPI names, import names, GitHub names, emails.

Each ``*_error`` function returns "" for a valid value and otherwise one sentence
that says what is wrong and gives a valid example; copier shows it at the question.
Only the standard library is used.
"""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata

# PEP 508 / core metadata "Name": ASCII letters and digits, with . _ - inside.
_SEPARATORS = re.compile(r"[-_.]+")  # PEP 503
_DIST_NAME = re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE)
# GitHub user and organisation names: 1-39 characters, letters, digits and single
# hyphens, not at either end.
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
# GitHub repository names: letters, digits, ".", "_" and "-", at most 100 characters.
_GITHUB_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
# GitHub environment names: kept to a set that is safe in YAML, URLs and PyPI's form.
_ENVIRONMENT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9])?")
_EMAIL = re.compile(r"[^@\s\"'<>]+@[^@\s\"'<>]+\.[^@\s\"'<>.]+")
# A workflow file name in .github/workflows (what PyPI's trusted publisher names).
_WORKFLOW_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml")
# Every pattern here is applied with fullmatch: `re.match` with `$` would accept a
# trailing newline, which breaks the YAML, TOML and headers the answer lands in.

STDLIB_MODULES: frozenset[str] = frozenset(sys.stdlib_module_names)
# Import names that break a project made from this template: CPython's own test package
# (left out of sys.stdlib_module_names), and the project's own folders.
SHADOWING_NAMES: frozenset[str] = frozenset({"test", "tests", "src"})
# Packages a rendered project installs beside its own (tests, coverage, checks, build backends,
# the command line, the docs): a package of the same import name would shadow them there.
DEPENDENCY_NAMES: frozenset[str] = frozenset(
    {
        "pytest",
        "coverage",
        "mypy",
        "ruff",
        "click",
        "build",
        "twine",
        "pip",
        "setuptools",
        "setuptools_scm",
        "hatchling",
        "hatch_vcs",
        "mkdocs",
        "mkdocstrings",
        "material",
        "zensical",
        "sphinx",
        "furo",
        "myst_parser",
    }
)
# Names Windows cannot give a file or folder (with any extension).
WINDOWS_DEVICE_NAMES: frozenset[str] = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)
# Longer names make sdist and wheel file names that some file systems refuse.
MAX_NAME_LENGTH = 100


def normalize(name: str) -> str:
    """PEP 503 normalised form: how PyPI compares names (``Acme_Widgets`` -> ``acme-widgets``)."""
    # packaging.utils.canonicalize_name, without importing its platform tags on every render.
    return _SEPARATORS.sub("-", name).lower()


def import_name(project_name: str) -> str:
    """The import name a distribution name suggests (``acme-widgets`` -> ``acme_widgets``)."""
    return normalize(project_name).replace("-", "_").replace(".", "_")


def project_name_error(name: str) -> str:
    if not _DIST_NAME.fullmatch(name):
        return (
            f"{name!r} is not a valid PyPI project name: use ASCII letters and digits, "
            "with '-', '_' or '.' only between them (for example acme-widgets)."
        )
    if len(name) > MAX_NAME_LENGTH:
        return f"The name is {len(name)} characters long; keep it to {MAX_NAME_LENGTH} (for example acme-widgets)."
    module = import_name(name)
    if reserved := _reserved_error(module):
        return f"{name!r} gives the import name {module!r}, which {reserved}. Pick another name."
    if module in STDLIB_MODULES:
        return (
            f"{name!r} is the name of a Python standard library module; PyPI refuses it "
            f"and importing it would be ambiguous. Pick another name (for example {module}-tools)."
        )
    return ""


def import_name_error(name: str) -> str:
    if not (name.isascii() and name.isidentifier()):
        return (
            f"{name!r} is not a valid Python import name: use lowercase ASCII letters, "
            "digits and '_', starting with a letter (for example acme_widgets)."
        )
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword and cannot be imported; try {name}_lib."
    if len(name) > MAX_NAME_LENGTH:
        return f"The import name is {len(name)} characters long; keep it to {MAX_NAME_LENGTH}."
    if reserved := _reserved_error(name):
        return f"{name!r} {reserved}; try {name}_lib."
    if name in STDLIB_MODULES:
        return f"{name!r} would shadow the standard library module of that name; try {name}_lib."
    return ""


def _reserved_error(module: str) -> str:
    """Why an import name would break the project ("" when it would not)."""
    if module.lower() in WINDOWS_DEVICE_NAMES:
        return "is a device name on Windows, where no file or folder can have it"
    if module in SHADOWING_NAMES:
        return "would be shadowed by (or shadow) a folder of the project or CPython's test package"
    return ""


def dependency_error(name: str) -> str:
    """A new project's import name must not be a package its own tests, checks or build install
    (an existing project keeps the name it has)."""
    if name in DEPENDENCY_NAMES:
        return f"{name!r} is a package this project's tests, checks or build install; try {name}_lib."
    return ""


def new_import_name(project_name: str) -> str:
    """A new project's suggested import name: ``import_name``, with ``_lib`` after a name the
    project's own tools install (a project named click cannot be imported as click)."""
    name = import_name(project_name)
    return f"{name}_lib" if name in DEPENDENCY_NAMES else name


def workflow_file_error(name: str) -> str:
    if _WORKFLOW_FILE.fullmatch(name):
        return ""
    return f"{name!r} is not a workflow file name in .github/workflows (for example publish.yml)."


def github_owner_error(owner: str) -> str:
    if _GITHUB_OWNER.fullmatch(owner):
        return ""
    if not owner:
        return (
            "A GitHub owner is required (for example acme-corp); without a prompt, pass -d github_owner=NAME."
        )
    return (
        f"{owner!r} is not a GitHub user or organisation name: 1 to 39 letters, digits "
        "or single hyphens, not starting or ending with a hyphen (for example acme-corp)."
    )


def github_repo_error(repo: str) -> str:
    if _GITHUB_REPO.fullmatch(repo) and repo not in {".", ".."} and not repo.endswith(".git"):
        return ""
    return (
        f"{repo!r} is not a GitHub repository name: up to 100 letters, digits, '.', '_' "
        "or '-', not ending in .git (for example acme-widgets)."
    )


def email_error(email: str) -> str:
    if _EMAIL.fullmatch(email):
        return ""
    return f"{email!r} is not an email address (for example jane@example.com)."


def environment_error(name: str) -> str:
    if _ENVIRONMENT.fullmatch(name):
        return ""
    return (
        f"{name!r} is not a GitHub environment name this template accepts: letters, "
        "digits, '.', '_' or '-', starting and ending with a letter or digit (for example release)."
    )


def single_line_error(value: str, what: str, example: str, max_length: int = 512) -> str:
    """Free text that must stay on one line (a summary, a name): printable, trimmed, not empty."""
    if not value.strip():
        return f"Give {what} (for example {example})."
    bad = [c for c in value if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}]
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(bad))
        return (
            f"{what.capitalize()} must be one line of printable text; remove {shown} (for example {example})."
        )
    if value != value.strip():
        return f"{what.capitalize()} must not start or end with spaces (for example {example})."
    if len(value) > max_length:
        return f"{what.capitalize()} is {len(value)} characters long; keep it under {max_length} (for example {example})."
    return ""


def description_error(value: str) -> str:
    return single_line_error(value, "a one-line description", "Widgets for every occasion.")


def author_name_error(value: str) -> str:
    return single_line_error(value, "an author or team name", "Jane Doe", max_length=200)
