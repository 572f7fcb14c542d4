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
    # versioning=git: the plugin that reads the version from the release tag, and its TOML.
    vcs_requires: tuple[str, ...] = ()
    vcs_config: str = ""


# Both plugins: no "+g<commit>" between tags (PyPI and TestPyPI refuse local versions), and a
# version for a copy without git history (a downloaded archive), so that it still builds.
_VCS_OPTIONS = """\
# No "+g<commit>" on builds between tags: PyPI and TestPyPI refuse local versions.
local_scheme = "no-local-version"
# A copy without git history (a downloaded archive) still builds.
fallback_version = "0.0.0"
"""


BACKENDS: dict[str, Backend] = {
    "setuptools": Backend(
        label="setuptools (the long-standing default)",
        requires=("setuptools>=77",),
        build_backend="setuptools.build_meta",
        vcs_requires=("setuptools-scm>=8",),
        vcs_config="[tool.setuptools_scm]\n" + _VCS_OPTIONS,
    ),
    # A C++ extension (nanobind) built by CMake: new projects only; wheels for every system come
    # from cibuildwheel in publish.yml. The oldest scikit-build-core with PEP 639 license
    # expressions is 0.11; nanobind 2.2 is the first with free-threaded (3.13t) support.
    "scikit-build-core": Backend(
        label="scikit-build-core (a C++ extension with nanobind and CMake)",
        requires=("scikit-build-core>=0.11", "nanobind>=2.2"),
        build_backend="scikit_build_core.build",
        tool_config="[tool.scikit-build]\n"
        "# The oldest scikit-build-core in build-system.requires decides every default below.\n"
        'minimum-version = "build-system.requires"\n'
        "# One build folder per wheel tag, kept between builds: a rebuild compiles only what changed.\n"
        'build-dir = "build/{{wheel_tag}}"\n'
        'wheel.packages = ["src/{import_name}"]\n',
        vcs_requires=("setuptools-scm>=8",),
        vcs_config='[tool.scikit-build.metadata.version]\nprovider = "scikit_build_core.metadata.setuptools_scm"\n\n'
        "[tool.setuptools_scm]\n" + _VCS_OPTIONS,
    ),
    "hatchling": Backend(
        label="hatchling (Hatch's backend)",
        requires=("hatchling>=1.27",),
        build_backend="hatchling.build",
        tool_config='[tool.hatch.build.targets.wheel]\npackages = ["src/{import_name}"]\n',
        vcs_requires=("hatch-vcs>=0.4",),
        vcs_config='[tool.hatch.version]\nsource = "vcs"\n\n[tool.hatch.version.raw-options]\n'
        + _VCS_OPTIONS,
    ),
}


def backend(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown build backend {name!r}; known: {', '.join(BACKENDS)}") from None


# stable_abi=yes (scikit-build-core only): added to its [tool.scikit-build] table.
STABLE_ABI_CONFIG = (
    "# One wheel per system for CPython 3.12 and newer (the stable ABI, abi3); older\n"
    "# CPythons, PyPy and free-threaded builds get ordinary wheels (CMakeLists.txt).\n"
    'wheel.py-api = "cp312"\n'
)
