"""Keep a retrofitted project's own files of the template's names as they were before the update.

A retrofit keeps the project's own `.github/dependabot.yml`, `.github/zizmor.yml`,
RELEASING.md and `.github/CODEOWNERS` (an organisation fork's place for its own; see
`_skip_if_exists` in copier.yml, for an existing project only). Copier 9.12 and
newer skip them on `copier update` too. Copier before 9.12 passes those patterns to its merge
unrendered, so they match nothing: a template release that changes the template's file merges
it into the owner's with conflict markers. Run after each update of a retrofitted project on
that copier (copier.yml's task asks `copier_before('9.12')`), this script does what newer
copier does: each of these files that the last commit holds is restored from it.

Usage: keep_own.py (in the project's folder, after copier has written the update).
"""

from __future__ import annotations

import sys

from ._migration import git, restore_from_last_commit, run

# The retrofit-only `_skip_if_exists` patterns of copier.yml (a test holds the two together).
KEPT = (".github/dependabot.yml", ".github/zizmor.yml", "RELEASING.md", ".github/CODEOWNERS")


def changed_since_commit() -> list[str]:
    """The kept files that the last commit holds and that the update changed (or left in a
    conflict). Paths are this folder's, which may be a subfolder of the repository."""
    changed = []
    for name in KEPT:
        if git("cat-file", "-e", f"HEAD:./{name}").returncode != 0:
            continue  # not in the last commit: the template's to write
        if git("diff", "--quiet", "HEAD", "--", name).returncode != 0:
            changed.append(name)
    return changed


def keep_own() -> list[str]:
    return [
        f"kept {name} as the last commit holds it: it is the project's own, and this copier merged the "
        "template's into it (copier 9.12 and newer leave it alone)"
        for name in restore_from_last_commit(changed_since_commit())
    ]


if __name__ == "__main__":
    if len(sys.argv) != 1:
        sys.exit("usage: keep_own.py")
    sys.exit(run("keep-own", keep_own))
