"""Build backends a rendered project can use.

To offer another backend, add one entry here and its name to the ``build_backend``
choices in copier.yml; the tests render every entry.
"""

from __future__ import annotations

from typing import NamedTuple


class Backend(NamedTuple):
    label: str
    # The [build-system] table: the backend with the oldest release that reads a
    # PEP 639 ``license`` expression and ``license-files``.
    requires: tuple[str, ...]
    build_backend: str
    # Extra TOML for pyproject.toml, formatted with ``import_name``; "" when the
    # backend finds ``src/<import_name>`` by itself.
    tool_config: str = ""


BACKENDS: dict[str, Backend] = {
    "setuptools": Backend(
        label="setuptools (the long-standing default)",
        requires=("setuptools>=77",),
        build_backend="setuptools.build_meta",
    ),
    "hatchling": Backend(
        label="hatchling (Hatch's backend)",
        requires=("hatchling>=1.27",),
        build_backend="hatchling.build",
        tool_config='[tool.hatch.build.targets.wheel]\npackages = ["src/{import_name}"]\n',
    ),
}


def backend(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown build backend {name!r}; known: {', '.join(BACKENDS)}") from None
