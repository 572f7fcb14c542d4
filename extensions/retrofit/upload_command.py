"""An upload command, read as the shell reads it: the files it uploads, the folders they are
in, what an artifact keeps of them, where one shell line's upload starts, and the build a
publishing command also does. Plain text in, plain values out: owner_jobs.py, in_place.py and
verify_jobs.py edit and check the owner's jobs with these answers.
"""

from __future__ import annotations

import re
import shlex

from .workflows import UPLOAD, UPLOAD_ANYWHERE

# twine upload's options that take a value: never a file to upload.
_TWINE_VALUE_OPTIONS = {
    "-r",
    "--repository",
    "--repository-url",
    "-u",
    "--username",
    "-p",
    "--password",
    "-c",
    "--comment",
    "-i",
    "--identity",
    "--sign-with",
    "--config-file",
    "--cert",
    "--client-cert",
}


def upload_files(command: str) -> list[str] | None:
    """The files an upload command reads, as written (patterns), parsed as the shell does:
    twine's file arguments (an option's value is never one), else `dist/*` (what the other
    tools upload). A GitHub expression stays as written (the artifact step evaluates it the
    same way: `dist-${{ matrix.os }}/*`). None when the line cannot be parsed or a file is
    named by a shell variable, which only the shell knows."""
    if not re.search(r"\btwine\s+upload\b", command):
        return ["dist/*"]
    expressions: list[str] = []

    def hold(match: re.Match[str]) -> str:
        expressions.append(match.group(0))
        return f"\x00{len(expressions) - 1}\x00"

    held = re.sub(r"\$\{\{.*?\}\}", hold, command.split("upload", 1)[1])
    try:
        words = shlex.split(held)
    except ValueError:
        return None
    files, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in _TWINE_VALUE_OPTIONS:
            skip = True
        elif not word.startswith("-"):
            files.append(re.sub(r"\x00(\d+)\x00", lambda m: expressions[int(m.group(1))], word))
    if any("$" in re.sub(r"\$\{\{.*?\}\}", "", f) for f in files):
        return None
    return files or ["dist/*"]


def dist_folders(command: str) -> list[str]:
    """The folders an upload command reads its files from (empty when it cannot be told)."""
    files = upload_files(command)
    if files is None:
        return []
    folders = [f.rsplit("/", 1)[0] + "/" if "/" in f else "./" for f in files]
    return list(dict.fromkeys(folders))


def artifact_path(files: list[str]) -> str:
    """What the artifact keeps: exactly the files the upload named (`dist/*.whl` keeps the
    wheels alone), or the folder where it named all of one (`dist/*` keeps `dist/`)."""
    if len(files) == 1 and files[0].endswith("/*"):
        return files[0][:-1]
    return "\n".join(files)


def split_upload(command: str) -> tuple[str, str | None]:
    """(what runs before the upload, the upload) of one shell line, cut at the last `&&` or
    `;`; (line, None) when the upload is not the line's last command or a pipe is involved."""
    command = command.rstrip().removesuffix(";").rstrip()
    if "||" in command or re.search(r"(?<!\|)\|(?!\|)", command):
        return command, None
    separators = list(re.finditer(r"\s*(?:&&|;)\s*", command))
    cut = separators[-1] if separators else None
    before, upload = (command[: cut.start()], command[cut.end() :]) if cut else ("", command)
    if UPLOAD_ANYWHERE.search(before) or not UPLOAD.match(upload):
        return command, None
    return before, upload


def with_build(before: str, build: str) -> str:
    """What stays of a shell line whose upload went: what ran before it, joined to the build the
    upload also did by the same separator (`export V=1; flit build`), or alone."""
    found = re.search(r"\s*(&&|;)\s*$", before)
    if not build:
        return (before[: found.start()] if found else before).strip()
    return f"{before.strip()} {build}".strip()


def builds_too(command: str) -> str:
    """The build a publishing command also did, to keep when its upload is replaced."""
    if re.search(r"poetry\s+publish\b.*--build\b", command):
        return "poetry build"
    if re.search(r"flit\s+publish\b", command):
        return "flit build"
    if re.search(r"pdm\s+publish\b", command) and "--no-build" not in command:
        return "pdm build"
    return ""
