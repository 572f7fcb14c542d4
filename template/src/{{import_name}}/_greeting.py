"""A small working example: replace it with your library's code."""

from __future__ import annotations


def greet(name: str = "world") -> str:
    """Return a friendly greeting for ``name``.

    >>> greet("PyPI")
    'Hello, PyPI!'
    """
    name = name.strip()
    if not name:
        raise ValueError("name must not be empty")
    return f"Hello, {name}!"
