"""Each template text compiled once per copier process, whichever Jinja environment asks.

Copier compiles every templated string again at each use (a question's default, ``when`` and
validator are rendered many times while it asks, each path part once per file): a render of
this template compiled 327 strings, 144 of them distinct, and compiling was nearly half its
time. An update renders the template three times (the old release, then the new one in
place and in an empty folder), each with a Jinja environment of its own (and a clone of the
template, so a copy of this package of its own), and nearly every string and file is the
same text in all three. Compiled code depends only on the text and on how the environment
compiles (its delimiters, whitespace options, extensions and filter names), so one store per
process, keyed by both, serves every environment: an in-memory one, nothing is written to
disk.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable, MutableMapping
from typing import Any

from jinja2 import Environment, Template, TemplateError, nodes
from jinja2 import lexer as tokens
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.parser import Parser

# Shared by every copy of this package in the process (one per template folder): kept as a
# module of its own in sys.modules, the one name that is the same for all of them.
_STORE = "copier_python_lib_compiled"


def _codes() -> dict[tuple[Any, ...], types.CodeType]:
    codes: dict[tuple[Any, ...], types.CodeType] = _store("codes")
    return codes


def _shapes() -> dict[tuple[Any, ...], tuple[Shape, dict[str, str]] | None]:
    """Each text's shape, by how it compiles and its text: an update asks for each three times."""
    shapes: dict[tuple[Any, ...], tuple[Shape, dict[str, str]] | None] = _store("shapes")
    return shapes


def _store(name: str) -> Any:
    store = sys.modules.get(_STORE)
    if store is None:
        store = types.ModuleType(_STORE, "Compiled Jinja code of copier-python-lib, by text.")
        sys.modules[_STORE] = store
    if not hasattr(store, name):
        setattr(store, name, {})
    return getattr(store, name)


def how_it_compiles(environment: Environment) -> tuple[Any, ...]:
    """What, besides the text, decides the code Jinja compiles in ``environment``."""
    return (
        type(environment).__name__,
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        environment.optimized,
        environment.is_async,
        environment.finalize is None,
        environment.autoescape if isinstance(environment.autoescape, bool) else repr(environment.autoescape),
        tuple(sorted(type(extension).__name__ for extension in environment.extensions.values())),
        tuple(sorted(environment.filters)),
        tuple(sorted(environment.tests)),
    )


# A text with none of the environment's delimiters renders to itself, its line ends made the
# environment's (and one trailing line end dropped where the environment drops it). Copier asks
# for many such texts (help texts, choice names, path parts): a third of the strings of a render.
# They share one compiled template that prints the text given as its global.
_PLAIN = "__copier_python_lib_plain_text__"
_LINE_ENDS = re.compile(r"\r\n|\r|\n")  # the line ends Jinja's lexer knows


def plain_text(environment: Environment, source: str) -> str | None:
    """What ``source`` renders to in ``environment`` when it holds no Jinja syntax; None when it
    may (or the environment changes what it prints: autoescape, finalize)."""
    markers = (
        environment.block_start_string,
        environment.variable_start_string,
        environment.comment_start_string,
    )
    if (
        environment.line_statement_prefix is not None
        or environment.line_comment_prefix is not None
        or environment.finalize is not None
        or environment.autoescape is not False
        or any(marker in source for marker in markers)
    ):
        return None
    lines = _LINE_ENDS.split(source)
    if not environment.keep_trailing_newline and lines[-1] == "":
        del lines[-1]
    return environment.newline_sequence.join(lines)


# Many texts differ only in their literals: `{{ given_ok('docs') }}` and `{{ given_ok('cli') }}`,
# or `{% if x %}/README.md{% endif %}` and `{% if x %}/LICENSE{% endif %}`. Such texts share one
# compiled template in which each literal is a global of its own, numbered in order. Text outside
# tags prints the same as a global holding it (no finalize, no autoescape); a string literal
# parses as a name does where the tag holds an expression (`{{ }}`, `if`, `elif`, `print`),
# except after `.`, `|`, `is` or `is not` and before `=` (a keyword argument), which stay
# literals. A text with any other tag (an extension's, `autoescape`) keeps its own compile.
_LITERAL = "__copier_python_lib_literal_{}__"
_TAGS = frozenset(
    {"for", "if", "elif", "else", "block", "extends", "print", "macro", "include", "from", "import"}
    | {"set", "with", "call", "filter"}
    | {f"end{tag}" for tag in ("for", "if", "block", "macro", "set", "with", "call", "filter")}
)
_EXPRESSION_TAGS = frozenset({"if", "elif", "print"})
Shape = tuple[tokens.Token, ...]


def shape(environment: Environment, source: str) -> tuple[Shape, dict[str, str]] | None:
    """``source``'s tokens with its literals made globals, and those globals; None when the
    text must compile as it is (see above), or does not lex."""
    if (
        environment.finalize is not None
        or environment.autoescape is not False
        or environment.line_statement_prefix is not None
    ):
        return None
    try:
        lexed = list(environment._tokenize(source, None, None))  # after extensions' filters
    except TemplateError:
        return None
    shaped: list[tokens.Token] = []
    literals: dict[str, str] = {}
    inside: str | None = None  # "{{", or the tag's name
    for at, token in enumerate(lexed):
        previous = lexed[at - 1] if at else None
        if token.type == tokens.TOKEN_VARIABLE_BEGIN:
            inside = "{{"
        elif token.type in (tokens.TOKEN_VARIABLE_END, tokens.TOKEN_BLOCK_END):
            inside = None
        elif previous is not None and previous.type == tokens.TOKEN_BLOCK_BEGIN:
            if token.type != tokens.TOKEN_NAME or token.value not in _TAGS:
                return None
            inside = token.value
        name = _LITERAL.format(len(literals))
        if token.type == tokens.TOKEN_DATA:
            literals[name] = token.value
            shaped += (
                tokens.Token(token.lineno, tokens.TOKEN_VARIABLE_BEGIN, ""),
                tokens.Token(token.lineno, tokens.TOKEN_NAME, name),
                tokens.Token(token.lineno, tokens.TOKEN_VARIABLE_END, ""),
            )
        elif (
            token.type == tokens.TOKEN_STRING
            and (inside == "{{" or inside in _EXPRESSION_TAGS)
            and not (previous is not None and previous.type in (tokens.TOKEN_DOT, tokens.TOKEN_PIPE))
            and not (previous is not None and previous.test("name:is"))
            and not (
                at > 1
                and previous is not None
                and previous.test("name:not")
                and lexed[at - 2].test("name:is")
            )
            and not (at + 1 < len(lexed) and lexed[at + 1].type == tokens.TOKEN_ASSIGN)
        ):
            literals[name] = token.value
            shaped.append(tokens.Token(token.lineno, tokens.TOKEN_NAME, name))
        else:
            shaped.append(token)
    return tuple(shaped), literals


def _compile_shape(environment: Environment, shaped: Shape) -> types.CodeType:
    parser = Parser(environment, "")
    parser.stream = tokens.TokenStream(shaped, None, None)
    code: types.CodeType = environment.compile(parser.parse())
    return code


class _SharedFiles(BytecodeCache):
    """The template files' code, from the process's store: a file is the same when its name
    and its text (Jinja's checksum of it) are."""

    def __init__(self, how: Callable[[], tuple[Any, ...]]) -> None:
        self._how = how

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return name  # the clone's folder differs from one environment to the next

    def load_bytecode(self, bucket: Bucket) -> None:
        key = ("file", self._how(), bucket.key, bucket.checksum)
        bucket.code = _codes().get(key)

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            _codes()[("file", self._how(), bucket.key, bucket.checksum)] = bucket.code


def compile_once(environment: Environment) -> None:
    """Compile each string and file of ``environment`` once per process (see above), and keep
    each string's template for the environment's life. Strings with copier's ``{% yield %}``
    (its compile step resets state) and calls with their own globals or template class go to
    Jinja as before."""
    from_string = environment.from_string
    templates: dict[str, Template] = {}
    settings: list[tuple[Any, ...]] = []

    def how() -> tuple[Any, ...]:
        # Read at the first compile: Jinja's environments are not to change once they load.
        if not settings:
            settings.append(how_it_compiles(environment))
        return settings[0]

    if environment.bytecode_cache is None:
        environment.bytecode_cache = _SharedFiles(how)

    def once(
        source: str | nodes.Template,
        globals: MutableMapping[str, Any] | None = None,
        template_class: type[Template] | None = None,
    ) -> Template:
        if (
            not isinstance(source, str)
            or globals is not None
            or template_class is not None
            or "yield" in source
        ):
            return from_string(source, globals, template_class)
        if source not in templates:
            templates[source] = _template(environment, how(), source)
        return templates[source]

    environment.from_string = once  # type: ignore[method-assign]


def _template(environment: Environment, how: tuple[Any, ...], source: str) -> Template:
    """``source``'s template, its code from the store: a plain text's, its shape's or its own."""
    codes = _codes()
    text = plain_text(environment, source)
    if text is not None:
        key: tuple[Any, ...] = ("string", how, None)
        if key not in codes:
            codes[key] = environment.compile(
                f"{environment.variable_start_string} {_PLAIN} {environment.variable_end_string}"
            )
        return environment.template_class.from_code(
            environment, codes[key], environment.make_globals({_PLAIN: text}), None
        )
    shapes = _shapes()
    if (how, source) not in shapes:
        shapes[how, source] = shape(environment, source)
    shaped = shapes[how, source]
    if shaped is not None:
        key = ("shape", how, shaped[0])
        if key not in codes:
            try:
                codes[key] = _compile_shape(environment, shaped[0])
            except TemplateError:  # a mistake in the text: Jinja's own compile says what
                shaped = None
    if shaped is None:
        key = ("string", how, source)
        if key not in codes:
            codes[key] = environment.compile(source)
        return environment.template_class.from_code(
            environment, codes[key], environment.make_globals(None), None
        )
    return environment.template_class.from_code(
        environment, codes[key], environment.make_globals(dict(shaped[1])), None
    )
