"""Serialisers: an answer lands in a file exactly as typed, whatever the file's syntax (TOML,
YAML, Markdown, Python). Each is a copier filter (context.py) and is tested by reading the
result back with that syntax's own parser."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

# PyYAML's C parser where it is built in (the wheels copier installs have it), else its Python
# one: the same documents, a twentieth of the time (actions.yml and org.yml, at each render).
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_str(value: Any) -> str:
    """A TOML basic string (with quotes) that reads back as exactly ``value``."""
    out = []
    for char in str(value):
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _yaml_printable(char: str) -> bool:
    """YAML 1.1/1.2 printable characters that are not also line breaks."""
    code = ord(char)
    return (
        char == "\t"
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ) and char not in "\u2028\u2029"


def yaml_str(value: Any) -> str:
    """A YAML double-quoted scalar that reads back as exactly ``value``."""
    # A JSON string is a YAML double-quoted scalar; what YAML cannot hold raw (C1
    # controls, DEL, line separators) is escaped, with \U for non-BMP characters.
    quoted = json.dumps(str(value), ensure_ascii=False)
    return "".join(
        c
        if _yaml_printable(c) or c in "\n\r"
        else (f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08X}")
        for c in quoted
    )


def yaml_scalar(value: Any) -> str:
    """``value`` as YAML's own serialiser writes it: plain when that reads back as the same
    string (``release``), quoted when it would not (``'true'``, ``'1.0'``)."""
    text = yaml.safe_dump(str(value), default_flow_style=True, allow_unicode=False, width=1_000_000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


# Characters that can start Markdown syntax (CommonMark lets any ASCII punctuation be
# escaped with a backslash; only these need it for text to stay text).
_MARKDOWN_SPECIAL = set("\\`*_[]<>#!|~&{}")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")


def md_text(value: Any) -> str:
    """One line of text that Markdown (CommonMark, GitHub) shows exactly as typed."""
    escaped = "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in str(value))
    match = _MARKDOWN_LINE_START.match(escaped)
    if match:  # a list item, a heading underline or a quote if left alone
        start = match.end() - 1
        escaped = escaped[:start] + "\\" + escaped[start:]
    return escaped


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(toml_str(v) for v in values) + "]"


def py_str(value: Any) -> str:
    """A Python string literal that reads back as exactly ``value``."""
    return json.dumps(str(value), ensure_ascii=False)
