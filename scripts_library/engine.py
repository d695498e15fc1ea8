"""The one Jinja environment phrases are parsed and rendered in, with bounded work.

A phrase library is input an admin (or anyone who can write to its folder) controls, so a
template must not be able to make deskbook run for minutes or allocate gigabytes. Jinja's
sandbox already refuses attribute tricks (`''.__class__`) and caps `range()`; it does not bound
what a template *computes*: `'x' * 10**9`, `10**10**10`, a doubling chain of `{% set %}`, nested
loops, `lipsum(10**9)`, `center(10**9)`. Here, layered:

* **What a phrase may use** (checked on the parsed template, so `validate` and `scripts approve`
  name file:line): text, `{{ expressions }}`, `{% if %}`, `{% for %}`, `{% set x = ... %}`, and
  the filters in `FILTERS`. Not available: `{% include/import/from/extends/block/macro/call %}`
  (a phrase is one self-contained text; there is no template loader), `{% set %}…{% endset %}`
  and `{% filter %}` blocks, and filters that pad or repeat (`center`, `indent`, `format`, ...).
* **Bounded values**: `*`, `**`, `+`, `%` and `~` refuse a value heavier than `VALUE_LIMIT`
  (a string's length; a list's items, counting what they hold, so `[s] * n` weighs n times s)
  and an integer wider than `INT_BITS` *before* computing it; `str.replace` and `join` estimate
  their result first; every value handed to a filter, a method or the output is weighed first
  (turning a list into text costs what it holds); string methods are limited to `STR_METHODS`.
* **Bounded time**: every `{% for %}` iteration and every call counts against `LOOP_LIMIT`
  (over the whole render), and a render stops after `SECONDS`.
* **Bounded output**: the text is produced as a stream and cut off at `OUTPUT_LIMIT`.

Anything a template raises while it renders (a bound, `1/0`, a sandbox refusal, deep recursion)
becomes one `DeskbookError` naming the template file: the template is the user's input.
"""

from __future__ import annotations

import contextvars
import functools
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from deskbook.errors import DeskbookError

#: Longest string or list (characters / items) a template may build.
VALUE_LIMIT = 100_000
#: Longest text one render may produce.
OUTPUT_LIMIT = 100_000
#: Widest integer (bits) a template may compute (about 1,200 decimal digits).
INT_BITS = 4_096
#: `{% for %}` iterations per render, over all loops.
LOOP_LIMIT = 10_000
#: Largest `range()`.
RANGE_LIMIT = 10_000
#: Wall-clock budget of one render.
SECONDS = 2.0

#: Filters a phrase may use: none of them pads, repeats or reaches outside the template.
FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
    "forceescape", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
    "reject", "rejectattr", "replace", "reverse", "round", "select", "selectattr", "sort",
    "string", "striptags", "title", "trim", "truncate", "unique", "upper", "urlencode",
    "wordcount",
})
#: String methods a phrase may call (none of them grows a string beyond its inputs, except
#: `replace` and `join`, whose result is estimated first).
STR_METHODS = frozenset({
    "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
    "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "join",
    "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex",
    "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
    "title", "upper",
})
#: Statements a phrase has no use for, and what to write instead.
STATEMENTS_REFUSED: dict[type, str] = {
    nodes.Include: "`{% include %}` is not available in a phrase (there is no template loader); "
                   "copy the text into this template",
    nodes.Import: "`{% import %}` is not available in a phrase (there is no template loader); "
                  "write the text into this template",
    nodes.FromImport: "`{% from ... import %}` is not available in a phrase (there is no template loader); "
                      "write the text into this template",
    nodes.Extends: "`{% extends %}` is not available in a phrase (there is no template loader); "
                   "make the template self-contained",
    nodes.Block: "`{% block %}` is not available in a phrase; write the text directly",
    nodes.Macro: "`{% macro %}` is not available in a phrase; write the text directly",
    nodes.CallBlock: "`{% call %}` is not available in a phrase; write the text directly",
    nodes.AssignBlock: "`{% set %}...{% endset %}` blocks are not available in a phrase; use `{% set name = ... %}`",
    nodes.FilterBlock: "`{% filter %}` blocks are not available in a phrase; apply the filter to an expression",
}
_GLOBALS_REMOVED = ("lipsum", "cycler", "joiner", "namespace", "dict")


class BoundExceeded(SecurityError):
    """A template tried to compute more than a phrase may (size, loop count or time)."""


@dataclass
class _Budget:
    """The counters of one render."""

    deadline: float
    loops: int = 0

    def tick(self) -> None:
        self.loops += 1
        if self.loops > LOOP_LIMIT:
            raise BoundExceeded(f"loops ran more than {LOOP_LIMIT:,} times")
        if self.loops % 64 == 0:
            self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BoundExceeded(f"rendering took longer than {SECONDS:g} s")


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("deskbook_phrase_budget", default=None)


def _check_time() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.check_time()


def _weight(value: Any, limit: int = VALUE_LIMIT) -> int:
    """What `value` costs as text: a string's length, a container's items with what they hold
    (each at least 1), anything else 1. Counting stops just past `limit`, so weighing is cheap."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, dict):
        value = [item for pair in value.items() for item in pair] if len(value) <= limit else range(limit + 1)
    if isinstance(value, (list, tuple, set, frozenset)):
        total = 0
        for item in value:
            total += max(1, _weight(item, limit - total))
            if total > limit:
                break
        return total
    return 1


def _check_weight(value: Any, what: str, limit: int = VALUE_LIMIT) -> None:
    weight = _weight(value, limit)
    if weight > limit:
        raise BoundExceeded(f"{what} is heavier than {limit:,} (characters, or items with what they hold)")


def _too_long(size: int, what: str) -> BoundExceeded:
    return BoundExceeded(f"{what} would be {size:,} long; a phrase may build at most {VALUE_LIMIT:,}")


def _check_int(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > INT_BITS:
        raise BoundExceeded(f"a number wider than {INT_BITS} bits")


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(text: str) -> None:
    """Refuse `%`-formatting whose width or precision could pad the result beyond the limits."""
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*" or (part is not None and int(part) > 1_000):
                raise BoundExceeded(f"a %-format width or precision of {part!r}")


def _replace_size(text: str, old: str, new: str, count: int = -1) -> int:
    hits = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(0, len(new) - len(old))


def _bounded_join(separator: str, parts: Iterable[Any]) -> str:
    """`separator.join(str(p) for p in parts)`, refusing before it grows beyond VALUE_LIMIT."""
    pieces: list[str] = []
    size = 0
    for part in parts:
        if not isinstance(part, str):
            _check_weight(part, "a joined value", VALUE_LIMIT - size)
        text = part if isinstance(part, str) else str(part)
        size += len(text) + (len(separator) if pieces else 0)
        if size > VALUE_LIMIT:
            raise _too_long(size, "a joined string")
        pieces.append(text)
    return separator.join(pieces)


class _BoundedCodeGenerator(CodeGenerator):
    """Emits `{% for %}` over a counted iterator and `~` through a size check."""

    def visit_Template(self, node: nodes.Template, frame: Any = None) -> None:
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_iter"), [loop.iter], [], None, None,
                                   lineno=loop.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class PhraseEnvironment(ImmutableSandboxedEnvironment):
    """Sandboxed, strict, plain-text Jinja with the bounds of this module."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False,
                         finalize=_finalize)
        chosen = {name: f for name, f in self.filters.items() if name in FILTERS}
        chosen["join"] = _join_filter
        chosen["replace"] = _replace_filter
        self.filters = {name: _weighed_filter(name, f) for name, f in chosen.items()}
        for name in _GLOBALS_REMOVED:
            self.globals.pop(name, None)
        self.globals["range"] = _bounded_range

    # ---- hooks called by the generated code

    def bounded_iter(self, iterable: Any) -> Iterator[Any]:
        """The iterable of a `{% for %}`, counted against the render's loop budget."""
        budget = _budget.get()
        for item in iterable:
            if budget is not None:
                budget.tick()
            yield item

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        """`a ~ b ~ ...`, refused when the result would exceed VALUE_LIMIT."""
        _check_time()
        return _bounded_join("", parts)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int) and times > 0:
                    if max(1, _weight(seq)) * times > VALUE_LIMIT:
                        raise BoundExceeded(f"a string or list repeated {times:,} times is heavier than {VALUE_LIMIT:,}")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > INT_BITS:
                raise BoundExceeded(f"a product wider than {INT_BITS} bits")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
                if left.bit_length() * right > INT_BITS:
                    raise BoundExceeded(f"a power wider than {INT_BITS} bits")
        elif operator == "+":
            _check_weight((left, right), "a concatenation")
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left)
            _check_weight(right, "the values of a %-format")
        result = super().call_binop(context, operator, left, right)
        _check_int(result)
        return result

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr not in STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = _budget.get()
        if budget is not None:
            budget.tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name == "join" and args:
                return _bounded_join(owner, args[0])
            if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
                count = args[2] if len(args) > 2 else kwargs.get("count", -1)
                size = _replace_size(owner, args[0], args[1], count if isinstance(count, int) else -1)
                if size > VALUE_LIMIT:
                    raise _too_long(size, "a replaced string")
        for value in (*args, *kwargs.values()):
            _check_int(value)
            _check_weight(value, "a value passed to a call")
        return super().call(__context, __obj, *args, **kwargs)


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` before it becomes text: refused when the text would be too long."""
    _check_weight(value, "an output value", OUTPUT_LIMIT)
    return value


def _weighed_filter(name: str, function: Any) -> Any:
    """`function` (a filter) with its arguments weighed first (most filters turn them into text)."""
    import functools

    @functools.wraps(function)
    def weighed(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if not isinstance(value, (jinja2.runtime.Context, jinja2.nodes.EvalContext, jinja2.Environment)):
                _check_int(value)
                _check_weight(value, f"the input of filter {name!r}")
        return function(*args, **kwargs)

    return weighed


def _bounded_range(*args: int) -> range:
    """`range()` with at most RANGE_LIMIT items."""
    numbers = range(*args)
    if len(numbers) > RANGE_LIMIT:
        raise BoundExceeded(f"range() of {len(numbers):,} items; a phrase may use at most {RANGE_LIMIT:,}")
    return numbers


@jinja2.pass_eval_context
def _join_filter(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    """The `join` filter, refusing results beyond VALUE_LIMIT before building them."""
    if attribute is not None:
        from jinja2.filters import make_attrgetter

        value = map(make_attrgetter(eval_ctx.environment, attribute), value)
    return _bounded_join(str(d), value)


@jinja2.pass_eval_context
def _replace_filter(eval_ctx: Any, s: Any, old: str, new: str, count: int | None = None) -> str:
    """The `replace` filter, refusing results beyond VALUE_LIMIT before building them."""
    text, old, new = str(s), str(old), str(new)
    size = _replace_size(text, old, new, -1 if count is None else count)
    if size > VALUE_LIMIT:
        raise _too_long(size, "a replaced string")
    return text.replace(old, new, -1 if count is None else count)


# ---------------------------------------------------------------- the public face


def environment() -> PhraseEnvironment:
    """A fresh phrase environment (cheap; one per compiled template)."""
    return PhraseEnvironment()


def parse(body: str, path: str, body_line: int, *, check_constructs: bool = True) -> nodes.Template:
    """The template's syntax tree; DeskbookError naming file:line when it is not Jinja, or (with
    `check_constructs`) uses what a phrase may not (`construct_problems`)."""
    try:
        tree = environment().parse(body)
    except jinja2.TemplateSyntaxError as exc:
        raise DeskbookError(f"Jinja syntax error: {exc.message}", where=f"{path}:{body_line + (exc.lineno or 1) - 1}",
                            hint="fix the template, then re-approve it") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:  # e.g. a 5,000-digit literal
        raise DeskbookError(f"the template cannot be read: {_describe(exc)}", where=path,
                            hint="fix the template, then re-approve it") from None
    problems = construct_problems(tree, path, body_line) if check_constructs else []
    if problems:
        raise DeskbookError(problems[0])
    return tree


def construct_problems(tree: nodes.Template, path: str, body_line: int) -> list[str]:
    """Statements and filters a phrase may not use, each as `file:line: what to do`."""
    problems = []
    for node in tree.find_all(nodes.Node):
        line = f"{path}:{body_line + (node.lineno or 1) - 1}"
        refused = STATEMENTS_REFUSED.get(type(node))
        if refused:
            problems.append(f"{line}: {refused}")
        elif isinstance(node, nodes.Filter) and node.name not in FILTERS:
            problems.append(f"{line}: filter {node.name!r} is not available in a phrase; "
                            f"use one of: {', '.join(sorted(FILTERS))}")
        elif isinstance(node, nodes.Test) and node.name not in jinja2.defaults.DEFAULT_TESTS:
            problems.append(f"{line}: unknown test {node.name!r}")
    return problems


@functools.lru_cache(maxsize=256)
def compile_template(body: str, path: str, body_line: int) -> jinja2.Template:
    """The compiled template (DeskbookError naming file:line when it is not an acceptable phrase).

    Kept per (body, file, line): a sync run renders one phrase for thousands of tasks, and compiling
    it each time was most of a first run's own work. A compiled template holds no render state (the
    budgets live in a context variable), so threads share it; a refused body is not kept (it raised)."""
    tree = parse(body, path, body_line)
    try:
        return environment().from_string(tree)
    except jinja2.TemplateSyntaxError as exc:
        raise DeskbookError(f"Jinja error: {exc.message}", where=f"{path}:{body_line + (exc.lineno or 1) - 1}",
                            hint="fix the template, then re-approve it") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise DeskbookError(f"the template cannot be compiled: {_describe(exc)}", where=path,
                            hint="fix the template, then re-approve it") from None


def render(template: jinja2.Template, variables: Mapping[str, Any], path: str) -> str:
    """Render within the budgets; DeskbookError naming `path` for anything the template raises."""
    token = _budget.set(_Budget(deadline=time.monotonic() + SECONDS))
    try:
        pieces: list[str] = []
        size = 0
        for piece in template.generate(**variables):
            size += len(piece)
            if size > OUTPUT_LIMIT:
                raise BoundExceeded(f"the text is longer than {OUTPUT_LIMIT:,} characters")
            pieces.append(piece)
        return "".join(pieces)
    except jinja2.UndefinedError as exc:
        raise DeskbookError(f"template uses a variable it does not declare ({exc.message})", where=path,
                            hint="run `deskbook validate` and declare the variable") from None
    except BoundExceeded as exc:
        raise DeskbookError(f"template does too much work: {exc}", where=path,
                            hint="a phrase is a short text: simplify the template, then re-approve it") from None
    except Exception as exc:  # the template is user input: whatever it raises is its own problem  # noqa: BLE001
        raise DeskbookError(f"template cannot be rendered: {_describe(exc)}", where=path,
                            hint="fix the template, then re-approve it") from None
    finally:
        _budget.reset(token)


def _describe(exc: BaseException) -> str:
    text = str(exc).split("\n", 1)[0][:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
