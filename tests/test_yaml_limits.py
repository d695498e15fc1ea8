"""Hostile YAML costs little: alias bombs, deep nesting, loops, huge and undecodable files give one
located problem, for playbooks and for the phrase library (both read through deskbook.yaml_reading)."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from deskbook import yaml_reading
from deskbook.errors import DeskbookError, ValidationError
from deskbook.playbooks.loader import load_playbook, parse_yaml
from deskbook.scripts_library import load_library

#: Address-space limit of the CLI runs below: a bounded reader never gets near it.
ADDRESS_SPACE = 500 * 1024 * 1024


def alias_bomb() -> str:
    """Nine lines, each list holding nine aliases of the one before: 9**9 values once expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for letter in "bcdefghi":
        before = chr(ord(letter) - 1)
        lines.append(f"{letter}: &{letter} [" + ", ".join([f"*{before}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep(levels: int = 600) -> str:
    return "metadata: " + "[" * levels + "]" * levels + "\n"


def run_bounded(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    """The CLI in a process limited to ADDRESS_SPACE bytes of memory; (result, seconds)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "deskbook", *args], capture_output=True, text=True,
                            timeout=60, preexec_fn=limit)
    return result, time.monotonic() - started


@pytest.mark.parametrize("name, text, line, words", [
    ("bomb.yaml", alias_bomb(), 6, "aliases expand it to more than"),
    ("deep.yaml", deep(), 1, "nest more than"),
])
def test_hostile_playbook_is_refused_quickly_in_bounded_memory(tmp_path, name, text, line, words):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result, seconds = run_bounded("validate", str(path))
    assert result.returncode == 1, result.stderr
    assert seconds < 5
    assert "Traceback" not in result.stderr and "Error" not in result.stderr.split(": ", 1)[0]
    problems = [p for p in result.stderr.splitlines() if p.startswith(f"{path}:")]
    assert len(problems) == 1, result.stderr
    assert problems[0].startswith(f"{path}:{line}:") and words in problems[0]
    assert result.stderr.splitlines()[-1] == f"deskbook: 1 problem(s) in 1 file(s): {path} (1)"


@pytest.mark.parametrize("use_libyaml", [True, False])
@pytest.mark.parametrize("text, where, words", [
    (alias_bomb(), "t.yaml:6:", "aliases expand it to more than"),
    (deep(), "t.yaml:1:", "nest more than 50 levels"),
    ("a: &x [1, *x]\n", "t.yaml:1:11:", "alias *x stands inside the value it names"),
])
def test_limits_are_located_problems_with_and_without_libyaml(text, where, words, use_libyaml):
    with pytest.raises(ValidationError) as caught:
        parse_yaml(text, "t.yaml", use_libyaml=use_libyaml)
    (problem,) = caught.value.problems
    assert problem.startswith(where) and words in problem, problem


def test_anchors_within_the_limits_still_read():
    data, _ = parse_yaml("a: &x {b: [1, 2]}\nc: *x\nd: *x\n", "t.yaml")
    assert data == {"a": {"b": [1, 2]}, "c": {"b": [1, 2]}, "d": {"b": [1, 2]}}
    nested = "x: " + "[" * yaml_reading.MAX_DEPTH + "]" * yaml_reading.MAX_DEPTH + "\n"
    with pytest.raises(ValidationError):
        parse_yaml("x: " + "[" * (yaml_reading.MAX_DEPTH + 1) + "]" * (yaml_reading.MAX_DEPTH + 1) + "\n", "t.yaml")
    parse_yaml(nested.replace("x: [", "[", 1), "t.yaml")  # exactly MAX_DEPTH deep reads


def test_text_beyond_the_size_limit_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(yaml_reading, "MAX_CHARS", 100)
    with pytest.raises(ValidationError) as caught:
        parse_yaml("a: " + "x" * 200 + "\n", "t.yaml")
    assert caught.value.problems[0].startswith("t.yaml:1:1:") and "at most 100 are read" in caught.value.problems[0]


def test_huge_playbook_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"a: 1\n" * 1000)
    for reading in ("open", "read_bytes", "read_text"):  # every way Path reads a file's content
        monkeypatch.setattr(Path, reading, lambda self, *a, **k: pytest.fail("read a file that is too big"))
    with pytest.raises(DeskbookError) as caught:
        yaml_reading.read_text(path, max_bytes=1000)
    assert str(path) in str(caught.value) and "too big" in str(caught.value)


def test_non_utf8_playbook_names_line_and_column(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("metadata:\n  name: caf\u00e9\n".encode("utf-8") + b"  title: {en: na\xefve}\n")
    with pytest.raises(DeskbookError) as caught:
        load_playbook(path, phrase_ids=set())
    message = str(caught.value)
    assert message.startswith(f"{path}:3:17:") and "0xef" in message and "UTF-8" in message, message


def library_copy(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "lib"
    shutil.copytree(load_library().root, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root, root / "templates" / "en" / "greeting.j2"


def test_phrase_front_matter_bomb_is_one_located_problem(tmp_path):
    root, greeting = library_copy(tmp_path)
    text = greeting.read_text(encoding="utf-8")
    greeting.write_text(text.replace("---\n", "---\n" + alias_bomb(), 1), encoding="utf-8")
    started = time.monotonic()
    problems = [p for p in load_library(root).load_problems if p.startswith(str(greeting))]
    assert time.monotonic() - started < 5
    assert len(problems) == 1 and problems[0].startswith(f"{greeting}:7:") and "aliases expand" in problems[0]


def test_phrase_template_that_is_not_utf8_names_line_and_column(tmp_path):
    root, greeting = library_copy(tmp_path)
    data = greeting.read_bytes()
    lines = data.split(b"\n")
    lines[2] = b"id: gr\xe9eting"
    greeting.write_bytes(b"\n".join(lines))
    problems = [p for p in load_library(root).load_problems if p.startswith(str(greeting))]
    assert problems and problems[0].startswith(f"{greeting}:3:7:") and "UTF-8" in problems[0], problems
