"""What an existing project already says about itself: the defaults of a retrofit.

Reads pyproject.toml ([project], or [tool.poetry]), setup.cfg, setup.py (literal
arguments of ``setup()`` only: nothing is executed), the LICENSE file, the git remote
and the GitHub workflows. Standard library, PyYAML and packaging only (copier's own
dependencies); TOML needs ``tomllib`` (Python >= 3.11) or ``tomli``.
"""

from __future__ import annotations

import ast
import configparser
import re
import stat
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ..folder import git_output, github_repository

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    try:
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]

_POETRY_AUTHOR = re.compile(r"^\s*(?P<name>[^<]+?)\s*(?:<(?P<email>[^>]+)>)?\s*$")
_LICENSE_CLASSIFIERS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: BSD License": "BSD-3-Clause",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
}
_LICENSE_TEXTS = (
    ("Apache License", "Apache-2.0"),
    ("Permission is hereby granted, free of charge", "MIT"),
    ("Neither the name of", "BSD-3-Clause"),
    ("Permission to use, copy, modify, and/or distribute", "ISC"),
)


# A project file larger than this is not one a person wrote: it is not read.
MAX_FILE_BYTES = 1_000_000


class ProjectFileError(ValueError):
    """A project file that exists but cannot be read; the message says which and what to do."""


def read_text(path: Path) -> str | None:
    """The text of a regular file of reasonable size; None for a folder, a device (a link to
    /dev/zero), or a missing or oversized file. ProjectFileError for a file that is not UTF-8."""
    try:
        info = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    if info.st_size > MAX_FILE_BYTES:
        raise ProjectFileError(
            f"{path.name} is {info.st_size} bytes, more than a project file this template reads "
            f"({MAX_FILE_BYTES}); its values cannot be read. Pass them with -d (for example "
            "-d project_name=NAME), or shrink the file, and run copier again."
        )
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ProjectFileError(
            f"{path.name}:{line}: not UTF-8 text (byte 0x{raw[error.start]:02x}). Save it as UTF-8, "
            "commit, and run copier again."
        ) from None


def _toml(path: Path) -> dict[str, Any]:
    text = read_text(path)
    if text is None:
        return {}
    if tomllib is None:
        raise ProjectFileError(
            "Reading pyproject.toml needs Python >= 3.11 or the tomli package: "
            "run copier with Python 3.11+, or `pip install tomli` beside copier."
        )
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ProjectFileError(
            f"{path.name}: nested too deeply to read (thousands of levels). Fix it, commit, and run copier again."
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ProjectFileError(
            f'{path.name}: not valid TOML ({error}). Fix it (`python -c "import tomllib; '
            f"tomllib.load(open('{path.name}', 'rb'))\"` shows where), commit, and run copier again."
        ) from None


def _setup_cfg(root: Path) -> dict[str, str]:
    text = read_text(root / "setup.cfg")
    if text is None:
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    values = dict(parser["metadata"]) if parser.has_section("metadata") else {}
    if parser.has_option("options", "python_requires"):
        values["python_requires"] = parser.get("options", "python_requires")
    return {k: v.strip() for k, v in values.items()}


def _setup_py(root: Path) -> dict[str, str]:
    """String literals passed to setup(...) by keyword; nothing is executed."""
    text = read_text(root / "setup.py")
    if text is None:
        return {}
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "setup":
            return {
                kw.arg: kw.value.value
                for kw in node.keywords
                if kw.arg and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
            }
    return {}


def _python_min(spec: str) -> str:
    """``>=3.9`` (or poetry's ``^3.9``) -> ``3.9``; "" when there is no lower bound."""
    spec = spec.strip()
    if spec.startswith(("^", "~")):
        spec = ">=" + spec.lstrip("^~=")
    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return ""
    bounds = [s.version for s in specifiers if s.operator in (">=", ">", "~=", "==")]
    if not bounds:
        return ""
    major_minor = re.match(
        r"^(\d+)\.(\d+)", min(bounds, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v)))
    )
    return f"{major_minor.group(1)}.{major_minor.group(2)}" if major_minor else ""


def git_remote(root: Path) -> str:
    return git_output(root, "remote", "get-url", "origin")


def first_commit_author(root: Path) -> tuple[str, str]:
    """(name, email) of the author of the project's first commit, or ("", "")."""
    commits = git_output(root, "rev-list", "--max-parents=0", "HEAD").split()
    if not commits:
        return "", ""
    name, _, email = git_output(root, "log", "-1", "--format=%an%x00%ae", commits[-1], "--").partition("\0")
    return name, email


def metadata(root: Path) -> dict[str, str]:
    """The answers an existing project implies; a key is missing when nothing says it."""
    pyproject = _toml(root / "pyproject.toml")
    project = _table(pyproject, "project")
    poetry = _table(_table(pyproject, "tool"), "poetry")
    # flit before PEP 621: [tool.flit.metadata], the name its dist-name or its module's.
    flit = _table(_table(_table(pyproject, "tool"), "flit"), "metadata")
    module = flit.get("module")
    flit_name = flit.get("dist-name") or (module.replace("_", "-") if isinstance(module, str) else "")
    cfg, setup = _setup_cfg(root), _setup_py(root)
    found: dict[str, str] = {}

    def first(key: str, *values: Any) -> None:
        for value in values:
            if isinstance(value, str) and value.strip():
                found[key] = value.strip()
                return

    first(
        "project_name", project.get("name"), poetry.get("name"), flit_name, cfg.get("name"), setup.get("name")
    )
    first("build_backend", _backend(pyproject))
    first(
        "description",
        project.get("description"),
        poetry.get("description"),
        flit.get("description"),
        cfg.get("description"),
        setup.get("description"),
    )
    author = _first_item(project.get("authors"))
    author = author if isinstance(author, dict) else {}
    named = _first_item(poetry.get("authors"))
    poetry_author = _POETRY_AUTHOR.match(named if isinstance(named, str) else "")
    first(
        "author_name",
        author.get("name"),
        poetry_author and poetry_author.group("name"),
        flit.get("author"),
        cfg.get("author"),
        setup.get("author"),
    )
    first(
        "author_email",
        author.get("email"),
        poetry_author and poetry_author.group("email"),
        flit.get("author-email"),
        cfg.get("author_email"),
        setup.get("author_email"),
    )
    if "author_name" not in found:
        # The project names no author: its own history does (who made its first commit),
        # not the person who happens to run copier on it today.
        name, email = first_commit_author(root)
        first("author_name", name)
        if "author_email" not in found:
            first("author_email", email)
    requires = (
        project.get("requires-python")
        or _table(poetry, "dependencies").get("python")
        or flit.get("requires-python")
        or cfg.get("python_requires")
        or setup.get("python_requires")
        or ""
    )
    first("python_min", _python_min(requires) if isinstance(requires, str) else "")
    first(
        "license",
        poetry.get("license") if isinstance(poetry.get("license"), str) else "",
        _license(root, project, cfg, setup),
    )
    first("versioning", "git" if _version_from_git(root, pyproject) else "")
    # The repository that runs the workflow is the one PyPI must trust: `origin` first; the
    # metadata's URLs (which may name a parent organisation's repository) only without one.
    urls = [
        git_remote(root),
        *_table(project, "urls").values(),
        poetry.get("repository"),
        poetry.get("homepage"),
        flit.get("home-page"),
        cfg.get("url"),
        setup.get("url"),
    ]
    for url in urls:
        repository = github_repository(url) if isinstance(url, str) else None
        if repository:
            found.setdefault("github_owner", repository[0])
            found.setdefault("github_repo", repository[1])
            break
    return found


def _table(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """The TOML table ``parent[key]``, or {} where it is missing or something else (a string,
    a list): a file the reader does not understand reads as one that says nothing."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _first_item(value: Any) -> Any:
    """A list's first item, or None (an empty list, or not a list)."""
    return value[0] if isinstance(value, list) and value else None


def _backend(pyproject: dict[str, Any]) -> str:
    """The answer build_backend for what [build-system] names: setuptools (also for a project
    with no [build-system], which pip builds with setuptools), hatchling, or other."""
    system = pyproject.get("build-system") or {}
    name = system.get("build-backend") if isinstance(system, dict) else None
    if not isinstance(name, str) or name.startswith("setuptools."):
        return "setuptools"
    return "hatchling" if name.startswith("hatchling.") else "other"


_SCM_REQUIRES = re.compile(r"setuptools[-_]scm\b", re.IGNORECASE)
# Where a version source is named, the sources that read it from the git tags: hatch's
# (pyproject.toml [tool.hatch.version], or hatch.toml [version]) and PDM's.
_HATCH_GIT_SOURCES = ("vcs", "uv-dynamic-versioning", "versioningit")
# Tools that read the version from the tags wherever their table is in pyproject.toml.
_GIT_TABLES = ("setuptools_scm", "versioningit", "versioneer")


def _version_from_git(root: Path, pyproject: dict[str, Any]) -> bool:
    """Whether the project's version comes from its git tags, so that a build needs the
    repository's history: setuptools-scm (its table, or its build requirement with a dynamic
    version, or ``use_scm_version`` in setup.py), hatch-vcs, uv-dynamic-versioning,
    versioningit, setuptools-git-versioning, PDM's scm source, poetry-dynamic-versioning,
    versioneer, pbr. A version written in pyproject.toml, or read from a file or an
    attribute, is not."""
    tool = _table(pyproject, "tool")
    project = _table(pyproject, "project")
    dynamic = project.get("dynamic")
    if isinstance(project.get("version"), str) or (
        isinstance(_table(_table(tool, "setuptools"), "dynamic").get("version"), dict)
    ):
        return False  # [project] version = "X.Y.Z", or setuptools' attr/file: a version by hand
    requires = _table(pyproject, "build-system").get("requires")
    hatch_toml = _toml(root / "hatch.toml") if (root / "hatch.toml").is_file() else {}
    if (
        any(name in tool for name in _GIT_TABLES)
        or (
            isinstance(dynamic, list)
            and "version" in dynamic
            and isinstance(requires, list)
            and any(isinstance(r, str) and _SCM_REQUIRES.match(r) for r in requires)
        )
        or _table(_table(tool, "hatch"), "version").get("source") in _HATCH_GIT_SOURCES
        or _table(hatch_toml, "version").get("source") in _HATCH_GIT_SOURCES
        or _table(_table(tool, "pdm"), "version").get("source") == "scm"
        or _table(tool, "poetry-dynamic-versioning").get("enable") is True
        or _table(tool, "setuptools-git-versioning").get("enabled") is True
    ):
        return True
    cfg = read_text(root / "setup.cfg") or ""
    if re.search(r"^\[versioneer\]", cfg, re.MULTILINE):
        return True
    setup = read_text(root / "setup.py")
    try:
        tree = ast.parse(setup or "")
    except (SyntaxError, ValueError):
        return False
    keywords = {node.arg: node.value for node in ast.walk(tree) if isinstance(node, ast.keyword)}
    if "use_scm_version" in keywords or "setuptools_git_versioning" in keywords:
        return True
    # pbr=True: pbr reads the version from the tags unless setup.cfg's [metadata] sets one.
    pbr = keywords.get("pbr")
    return isinstance(pbr, ast.Constant) and pbr.value is True and "version" not in _setup_cfg(root)


def _license(root: Path, project: dict[str, Any], cfg: dict[str, str], setup: dict[str, str]) -> str:
    declared = project.get("license")
    if isinstance(declared, str):
        return declared
    classifiers = project.get("classifiers")
    for classifier in classifiers if isinstance(classifiers, list) else []:
        if isinstance(classifier, str) and classifier in _LICENSE_CLASSIFIERS:
            return _LICENSE_CLASSIFIERS[classifier]
    for path in sorted(root.glob("LICEN[CS]E*")):
        try:
            text = read_text(path)
        except ProjectFileError:
            continue  # a license in another encoding: the declared license decides
        for marker, spdx in _LICENSE_TEXTS if text else ():
            if text and marker in text:
                return spdx
    return cfg.get("license", setup.get("license", ""))


def import_name(root: Path, project_name: str) -> str:
    """The package directory of a flat or src layout that matches the project's name."""
    wanted = re.sub(r"[-_.]+", "_", project_name).lower()
    for base in (root / "src", root):
        if (base / wanted / "__init__.py").is_file():
            return wanted
    for base in (root / "src", root):
        packages = sorted(
            p.parent.name for p in base.glob("*/__init__.py") if p.parent.name not in {"tests", "test"}
        )
        if len(packages) == 1:
            return packages[0]
    return wanted
