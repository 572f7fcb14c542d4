"""The one place that loads this template's code by path.

Copier runs code from a template folder that is not installed: copier-template-extensions
loads this file by path (copier.yml, ``_jinja_extensions``), and copier runs the tasks and
migrations as scripts. This module turns the folder ``extensions/`` into a package, so that
every other module imports its neighbours with ordinary relative imports:

- in copier's process, under a name of its own per template folder
  (``copier_python_lib_<digest>``): during ``copier update`` the old and the new version of
  the template are two folders, and each renders with its own code;
- as a script (``python extensions/load.py MIGRATION ARGS...``, how copier.yml runs the tasks
  and migrations), the template's folder is the import root of that one process: the
  migration runs as the module ``migrations.MIGRATION`` and imports ``extensions`` by name.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import runpy
import sys
from pathlib import Path
from types import ModuleType

_HERE = Path(__file__).resolve().parent


def package(folder: Path = _HERE) -> ModuleType:
    """The package in ``folder``, loaded once per folder (and state of its files) under a name
    of its own."""
    state = [str(folder)]
    for path in sorted(folder.rglob("*.py")):
        info = path.stat()
        state.append(f"{path.relative_to(folder)}:{info.st_mtime_ns}:{info.st_size}")
    name = "copier_python_lib_" + hashlib.sha256("\n".join(state).encode()).hexdigest()[:16]
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def main(argv: list[str]) -> None:
    """Run the migration ``argv[0]`` (a module of migrations/) with the arguments after it."""
    sys.path.insert(0, str(_HERE.parent))
    sys.argv = [f"migrations/{argv[0]}.py", *argv[1:]]
    runpy.run_module(f"migrations.{argv[0]}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
else:
    _context = importlib.import_module(".context", package(_HERE).__name__)
    Filters = _context.Filters
    Derived = _context.Derived
