"""Fuzzing the phrase reader and renderer (issue #13 item 8): whatever a template file holds, reading,
linting, approving and rendering it ends in text or one `DeskbookError` — never another exception,
never more than a few seconds.

Sources are built from Jinja fragments chosen to reach every path: syntax errors, refused
statements and filters, sandbox refusals, huge numbers, repetition, loops, undeclared variables,
hostile values. A fixed seed replays the same examples in CI; a second, small run explores new ones.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from deskbook.errors import DeskbookError
from deskbook.scripts_library import approve, engine, load_library, render_values
from deskbook.scripts_library.library import parse_template, shipped_library_root

VARIABLES = ("customer_name", "agent_name")

NUMBERS = st.sampled_from(["0", "1", "3", "-1", "10**9", "99999", "10**4", "2**4096", "7**300", "1.5", "1e308"])
STRINGS = st.sampled_from(["''", "'x'", "'%s'", "'%0999999999d'", "'{0:>999999999}'", "'\\t'", "'ab'", "'x' * 99999"])
NAMES = st.sampled_from([*VARIABLES, "undeclared", "loop", "range", "lipsum", "namespace", "self", "dict", "cycler"])


def _atoms() -> st.SearchStrategy[str]:
    return st.one_of(NUMBERS, STRINGS, NAMES, st.just("[1, 2, 3]"), st.just("{'a': 1}"), st.just("range(5)"),
                     st.just("range(10**9)"), st.just("(customer_name, agent_name)"))


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binop = st.tuples(inner, st.sampled_from(["*", "**", "+", "-", "~", "%", "/", "//", "==", "in", "and", "or"]), inner)
    filters = st.tuples(inner, st.sampled_from(["upper", "list", "string", "join", "join(customer_name)", "replace('x', 'yy')",
                                                "length", "center(10**9)", "indent(99999)", "format(1)", "sum", "wordwrap(1)",
                                                "tojson", "batch(3)", "slice(10**9)", "truncate(3)", "default('d')",
                                                "map('upper')", "unique", "sort", "first", "int", "nosuchfilter"]))
    methods = st.tuples(inner, st.sampled_from([".upper()", ".center(10**9)", ".replace('x', customer_name)", ".join(range(3))",
                                                ".format(1)", ".__class__", ".split()", "[0]", "[10**9]", "()", ".mro()",
                                                ".zfill(99999)", "|e"]))
    return st.one_of(
        binop.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        filters.map(lambda t: f"{t[0]}|{t[1]}"),
        methods.map(lambda t: f"{t[0]}{t[1]}"),
        inner.map(lambda e: f"not {e}"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


EXPRESSIONS = st.recursive(_atoms(), _extend, max_leaves=6)


def _blocks(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(EXPRESSIONS, inner).map(lambda t: f"{{% if {t[0]} %}}{t[1]}{{% endif %}}"),
        st.tuples(EXPRESSIONS, inner).map(lambda t: f"{{% for item in {t[0]} %}}{t[1]}{{{{ item }}}}{{% endfor %}}"),
        st.tuples(EXPRESSIONS, inner).map(lambda t: f"{{% for c in {t[0]} recursive %}}{t[1]}{{{{ loop(c) }}}}{{% endfor %}}"),
        st.tuples(EXPRESSIONS, inner).map(lambda t: f"{{% set s = {t[0]} %}}{t[1]}{{{{ s ~ s }}}}"),
        st.tuples(EXPRESSIONS, inner).map(lambda t: f"{{% with w = {t[0]} %}}{t[1]}{{% endwith %}}"),
        inner.map(lambda b: f"{{% macro m() %}}{b}{{% endmacro %}}{{{{ m() }}}}"),
        inner.map(lambda b: f"{{% filter upper %}}{b}{{% endfilter %}}"),
        inner.map(lambda b: f"{{% set blk %}}{b}{{% endset %}}{{{{ blk }}}}"),
        st.tuples(inner, inner).map(lambda t: t[0] + t[1]),
    )


FRAGMENTS = st.one_of(
    EXPRESSIONS.map(lambda e: "{{ " + e + " }}"),
    st.sampled_from(["{% include 'x.j2' %}", "{% import 'm.j2' as m %}", "{% extends 'b.j2' %}", "{% raw %}{{ x }}{% endraw %}",
                     "{% block b %}x{% endblock %}", "{{", "}}", "{%", "{% endif %}", "{# note #}", "{% break %}", "{% do x %}"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)
SOURCES = st.recursive(FRAGMENTS, _blocks, max_leaves=8)
VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def _check(source: str, values: tuple[str, str]) -> None:
    """Lint, compile and render `source`: text or DeskbookError, within the time budget."""
    started = time.monotonic()
    path = "lib/templates/en/fuzz.j2"
    try:
        tree = engine.parse(source, path, 10, check_constructs=False)
        problems = engine.construct_problems(tree, path, 10)
        assert all(isinstance(p, str) and p.startswith(path) for p in problems)
    except DeskbookError:
        pass
    try:
        template = engine.compile_template(source, path, 10)
        text = engine.render(template, dict(zip(VARIABLES, values, strict=True)), path)
        assert isinstance(text, str) and len(text) <= engine.OUTPUT_LIMIT
    except DeskbookError as exc:
        assert str(exc).startswith(path) and "Traceback" not in str(exc)
    assert time.monotonic() - started < engine.SECONDS + 2


#: The strategies nest deeply; Hypothesis warns that their repr is large. Harmless here.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                   HealthCheck.filter_too_much])


@seed(20261206)
@settings(max_examples=200, **COMMON)
@given(SOURCES, st.tuples(VALUES, VALUES))
def test_fuzz_templates_fixed_seed(source, values):
    _check(source, values)


@settings(max_examples=40, **COMMON)
@given(SOURCES, st.tuples(VALUES, VALUES))
def test_fuzz_templates_random(source, values):
    _check(source, values)


FRONT_MATTER = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["id: closing", "locale: en", "version: 1", "version: -1", "version: x", "description: d",
                              "variables: []", "variables: [{name: customer_name, description: d, example: e}]",
                              "variables: [{name: 1}]", "approval: null", "approval: {sha256: 0}", "id: [1", "&a [*a]",
                              "variables: &v [*v]", "- just a list", "id: Closing", ": :", "\t", "locale: fr"]),
             max_size=8).map("\n".join),
)


@seed(20261206)
@settings(max_examples=200, **COMMON)
@given(FRONT_MATTER, SOURCES, st.sampled_from(["---\n{fm}\n---\n{body}", "{fm}\n---\n{body}", "---\n{fm}\n{body}",
                                               "---\r\n{fm}\r\n---\r\n{body}"]))
def test_fuzz_template_files(front, body, layout):
    """Reading a template file: a Phrase, or DeskbookError naming the file."""
    try:
        phrase = parse_template(layout.format(fm=front, body=body), "lib/templates/en/closing.j2",
                                expect_id="closing", expect_locale="en")
    except DeskbookError as exc:
        assert "lib/templates/en/closing.j2" in str(exc)
        return
    assert phrase.id == "closing"


@pytest.fixture(scope="module")
def library_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzzlib") / "lib"
    shutil.copytree(shipped_library_root() / "templates", root / "templates")
    shutil.copy(shipped_library_root() / "approvals.yaml", root / "approvals.yaml")
    return root


@seed(20261206)
@settings(max_examples=40, **COMMON)
@given(SOURCES)
def test_fuzz_approve_then_render(library_copy, source):
    """`approve` either refuses (DeskbookError) or approves a template that then renders with its examples."""
    closing = library_copy / "templates" / "en" / "closing.j2"
    original = closing.read_text(encoding="utf-8")
    head, _, _ = original.partition("\n---\n")
    closing.write_text(head + "\n---\n" + source + "{{ customer_name }}{{ agent_name }}", encoding="utf-8")
    try:
        library = load_library(library_copy)
        try:
            approve(library, "closing", "en", by="Fuzz")
        except DeskbookError:
            return
        phrase = library.phrase("closing", "en")
        assert isinstance(render_values(library, "closing", "en", phrase.examples()), str)
    finally:
        closing.write_text(original, encoding="utf-8")


@seed(20261206)
@settings(max_examples=50, **COMMON)
@given(VALUES)
def test_fuzz_values_are_inserted_literally(value):
    library = load_library()
    phrase = library.phrase("greeting", "en")
    text = render_values(library, "greeting", "en", {**phrase.examples(), "customer_name": value})
    assert value.strip() in text
