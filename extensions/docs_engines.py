"""The documentation engines a project can choose (`docs`): what each installs, and the commands
that build and preview the site. Each builds into `site/` and fails on a warning (a broken
link, a page left out, an API reference to nothing), in CI (docs.yml) as on a contributor's
machine (CONTRIBUTING.md).

Facts, checked 2026-12-04 by installing each from the package index and building a rendered
project: MkDocs 1.6 with Material and mkdocstrings; Zensical (Material's authors' successor to
MkDocs) reads the same `mkdocs.yml`, renders mkdocstrings' API pages and stops on a warning
with `--strict` (0.0.73 and 0.0.74 here: 0.1.x needs `zensical-ui`, which this machine's index
lacks), and needs Python 3.11; Sphinx 9 with Furo and MyST-Parser 5, whose autodoc output
must go through `{eval-rst}` (a MyST `{automodule}` fence parses it as Markdown).
"""

from __future__ import annotations

from dataclasses import dataclass

from .pythons import version_key


@dataclass(frozen=True)
class Engine:
    requires: tuple[str, ...]
    build: str  # run from the project's top folder; the site lands in site/
    preview: str  # how to look at it while writing
    python_min: str = ""  # the oldest Python the engine itself runs on, where it has one


ENGINES: dict[str, Engine] = {
    "mkdocs": Engine(
        requires=("mkdocs>=1.6", "mkdocs-material>=9.6", "mkdocstrings[python]>=0.29"),
        build="mkdocs build --strict",
        preview="mkdocs serve",
    ),
    "zensical": Engine(
        requires=("zensical>=0.0.73", "mkdocstrings[python]>=1.0"),
        build="zensical build --strict",
        preview="zensical serve",
        python_min="3.11",
    ),
    "sphinx": Engine(
        requires=("sphinx>=8.1", "furo>=2024.8.6", "myst-parser>=4.0"),
        build="sphinx-build -W --keep-going -n -b html docs site",
        preview="python -m http.server --directory site",
    ),
}


def requirements(engine: Engine, python_min: str) -> list[str]:
    """The `docs` dependency group: an engine that needs a newer Python than the project's
    oldest gets a marker, so that a lock for every supported Python still resolves."""
    if engine.python_min and python_min and version_key(python_min) < version_key(engine.python_min):
        first, *rest = engine.requires
        return [f'{first}; python_version >= "{engine.python_min}"', *rest]
    return list(engine.requires)
