"""Bounded template work: a hostile phrase costs at most a few seconds and little memory.

Issue #13: `{% include %}`/`{% import %}` died with `TypeError: no loader`, a huge `range()` with
`OverflowError`, `'x' * 10**9` built a 700 MB string. Each must now be one line naming the
template file and what to do, exit 1 — also under a 500 MB address-space limit, within 5 s.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from deskbook.cli import main
from deskbook.errors import DeskbookError
from deskbook.scripts_library import engine, load_library
from deskbook.scripts_library import library as library_module
from deskbook.scripts_library.library import TEMPLATE_BYTES, dump_yaml, shipped_library_root

REPO = Path(__file__).resolve().parents[1]

#: (template body, what the one-line error says) — every way found to make a phrase expensive.
HOSTILE = [
    ("{% include 'other.j2' %}", "`{% include %}` is not available in a phrase"),
    ("{% import 'macros.j2' as m %}{{ m.x() }}", "`{% import %}` is not available in a phrase"),
    ("{% from 'macros.j2' import x %}{{ x() }}", "`{% from ... import %}` is not available"),
    ("{% extends 'base.j2' %}", "`{% extends %}` is not available"),
    ("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}", "`{% macro %}` is not available"),
    ("{% set a %}xx{% endset %}{{ a }}", "`{% set %}...{% endset %}` blocks are not available"),
    ("{{ 'x'|center(1000000000) }}", "filter 'center' is not available in a phrase"),
    ("{{ range(10**9)|list }}", "range() of 1,000,000,000 items"),
    ("{{ 'x' * 10**9 }}", "repeated 1,000,000,000 times"),
    ("{{ ['x'] * 10**9 }}", "repeated 1,000,000,000 times"),
    ("{{ 7 ** 1000000 }}", "a power wider than 4096 bits"),
    ("{% set s = 'x' * 90000 %}{{ s ~ s }}", "a phrase may build at most 100,000"),
    ("{% set s = 'x' * 90000 %}{{ s + s }}", "heavier than 100,000"),
    ("{% set a = 'x' * 50000 %}{{ [a, a, a] }}", "heavier than 100,000"),
    ("{% set a = 'x' * 50000 %}{{ ([a] * 3)|join }}", "heavier than 100,000"),
    ("{% set a = 'x' * 1000 %}{{ ([a] * 99)|join(a) }}", "a phrase may build at most 100,000"),
    ("{% set a = 'x' * 1000 %}{{ a.replace('x', a) }}", "would be 1,000,000 long"),
    ("{% set a = 'x' * 1000 %}{{ a|replace('x', a) }}", "would be 1,000,000 long"),
    ("{{ 'x'.center(10**9) }}", "unsafe"),
    ("{{ '%0999999999d' % 1 }}", "a %-format width or precision"),
    ("{{ lipsum(10**9) }}", "lipsum"),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", "loops ran more than 10,000 times"),
    ("{% for c in 'ab' recursive %}{{ loop(c) }}{% endfor %}", "template cannot be rendered: RecursionError"),
    ("{% for i in range(9000) %}{{ 'y' * 50 }}{% endfor %}", "the text is longer than 100,000 characters"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
]


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render(body: str) -> str:
    return engine.render(engine.compile_template(body, "lib/templates/en/x.j2", 20), {}, "lib/templates/en/x.j2")


@pytest.mark.parametrize("body, expected", HOSTILE, ids=[b[:40] for b, _ in HOSTILE])
def test_hostile_template_is_one_clear_error(body, expected):
    started = time.monotonic()
    with pytest.raises(DeskbookError) as caught:
        render(body)
    message = str(caught.value)
    assert expected in message
    assert message.startswith("lib/templates/en/x.j2") and "\n" not in message
    assert time.monotonic() - started < engine.SECONDS + 1


def test_set_doubling_chain_is_stopped_before_it_grows():
    body = "{% set a = 'xxxxxxxxxx' %}" + "".join(
        f"{{% set {n} = {p} ~ {p} %}}" for p, n in zip("abcdefghijklmnopqrstuvwxy", "bcdefghijklmnopqrstuvwxyz", strict=True)) + "{{ z }}"
    with pytest.raises(DeskbookError, match="a phrase may build at most 100,000"):
        render(body)


def test_ordinary_phrases_still_render():
    assert render("{% if 1 %}Dear {{ 'Ms Chen'|upper }}{% endif %}, {{ ['a', 'b']|join(', ') }}"
                  "{% for i in range(3) %}{{ loop.index }}{% endfor %} {{ 'x' * 3 }}") == "Dear MS CHEN, a, b123 xxx"


def test_lint_names_the_line_of_a_refused_construct(tmp_path):
    library = load_library(_copy_library(tmp_path))
    phrase = library.phrase("closing", "en")
    body = phrase.body + "\n{% include 'x.j2' %}"
    broken = engine.parse(body, phrase.path, phrase.body_line, check_constructs=False)
    problems = engine.construct_problems(broken, phrase.path, phrase.body_line)
    line = phrase.body_line + body.count("\n")
    assert problems == [f"{phrase.path}:{line}: " + engine.STATEMENTS_REFUSED[type(broken.body[-1])]]


def test_lint_of_a_refused_construct_that_jinja_cannot_compile_is_a_problem(tmp_path):
    """Found by the fuzz test: the variable analysis compiles the template and raised
    TemplateAssertionError ("cannot use extend from a non top-level scope")."""
    library = load_library(_copy_library(tmp_path))
    phrase = library.phrase("closing", "en")
    odd = library_module.replace(phrase, body="{% macro m() %}{% extends 'b.j2' %}{% endmacro %}{{ m() }}")
    problems = library.template_problems(odd)
    assert problems and all(p.startswith(phrase.path) for p in problems)
    assert any("`{% extends %}` is not available" in p for p in problems)


def test_huge_template_file_is_a_load_problem_not_a_read(tmp_path):
    root = _copy_library(tmp_path)
    closing = root / "templates" / "en" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8") + "x" * (TEMPLATE_BYTES + 1), encoding="utf-8")
    library = load_library(root)
    assert ("closing", "en") not in library.phrases
    assert any(str(closing) in p and "larger than 64 KiB" in p for p in library.load_problems)


def test_validate_reports_include_as_a_problem_with_file_and_line(tmp_path, capsys):
    root = _copy_library(tmp_path)
    closing = root / "templates" / "en" / "closing.j2"
    text = closing.read_text(encoding="utf-8") + "\n{% include 'footer.j2' %}"
    closing.write_text(text, encoding="utf-8")
    code = main(["validate", "--scripts", str(root)])
    _, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert f"{closing}:{text.count(chr(10)) + 1}: `{{% include %}}` is not available in a phrase" in err


def _copy_library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    shutil.copytree(shipped_library_root() / "templates", root / "templates")
    shutil.copy(shipped_library_root() / "approvals.yaml", root / "approvals.yaml")
    return root


def _forge_approval(root: Path, phrase_id: str, locale: str) -> None:
    """Record the current text as approved the way a hand edit of the lock would (the hash is computable)."""
    import yaml

    library = load_library(root)
    phrase = library.phrase(phrase_id, locale)
    approvals = yaml.safe_load((root / "approvals.yaml").read_text(encoding="utf-8"))
    approvals[phrase_id][locale].update(sha256=phrase.content_hash, text=phrase.body)
    (root / "approvals.yaml").write_text(dump_yaml(approvals), encoding="utf-8")
    path = Path(phrase.path)
    path.write_text(path.read_text(encoding="utf-8").replace(phrase.approval["sha256"], phrase.content_hash), encoding="utf-8")
    assert load_library(root).is_approved(load_library(root).phrase(phrase_id, locale))


LIMITED = textwrap.dedent("""
    import resource, sys
    limit = 500 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from deskbook.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_AS"), reason="needs RLIMIT_AS")
@pytest.mark.parametrize("hostile", ["{{ 'x' * 10**9 }}", "{{ range(10**9)|list }}", "{{ (('x' * 99999)|list)|join('y' * 99999) }}",
                                     "{% for i in range(10000) %}{% for j in range(10000) %}{{ '' }}{% endfor %}{% endfor %}"])
def test_huge_template_under_a_500_mb_limit(tmp_path, hostile):
    """`scripts approve` (which renders first) and `render` (of a forged approval): exit 1, one line, < 5 s."""
    root = _copy_library(tmp_path)
    closing = root / "templates" / "en" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8").replace("All the best, {{ agent_name }}",
                                                                   "All the best, {{ agent_name }}" + hostile), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    approve = ["scripts", "approve", "closing", "--locale", "en", "--by", "Li Na", "--scripts", str(root)]
    render_it = ["render", "closing", "--locale", "en", "--desk", "values", "--examples", "--scripts", str(root)]
    for argv, prepare in ((approve, None), (render_it, lambda: _forge_approval(root, "closing", "en"))):
        if prepare:
            prepare()
        started, cpu = time.monotonic(), _children_cpu()
        done = subprocess.run([sys.executable, "-c", LIMITED, *argv], capture_output=True, text=True, env=env, timeout=60)
        elapsed, cpu = time.monotonic() - started, _children_cpu() - cpu
        assert done.returncode == 1, done.stderr[-2000:]
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
        assert str(closing) in lines[0] and "template" in lines[0]
        # the bound is the command's own work (CPU seconds: a loaded machine stretches the wall clock,
        # 5 s once under a load of 12), with a generous wall-clock ceiling besides
        assert cpu < 5 and elapsed < 30, (cpu, elapsed)


def test_validate_reports_a_forged_approval_of_a_template_that_cannot_render(tmp_path, capsys):
    root = _copy_library(tmp_path)
    closing = root / "templates" / "en" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8").replace("All the best, {{ agent_name }}",
                                                                   "All the best, {{ agent_name }}{{ 'x' * 10**9 }}"), encoding="utf-8")
    _forge_approval(root, "closing", "en")
    code = main(["validate", "--scripts", str(root)])
    _, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert f"{closing}: template does too much work" in err
