"""The playbook loader, its schema, and the `validate` / `schema` commands."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from deskbook.errors import DeskbookError, ValidationError
from deskbook.playbooks import model
from deskbook.playbooks.automation_check import nullifies
from deskbook.playbooks.loader import load_playbook, parse_playbook, shipped_playbooks
from deskbook.playbooks.schema import playbook_schema
from deskbook.scripts_library import STANDARD_PHRASES, load_library

DATA = Path(__file__).parent / "data" / "playbooks"
MINIMAL = DATA / "minimal.yaml"
PHRASES = set(STANDARD_PHRASES)


def marker_line(path: Path) -> int:
    """1-based line of the `# <- error` marker in a test file."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if "# <- error" in line:
            return number
    raise AssertionError(f"no marker in {path}")


def variant(tmp_path: Path, old: str, new: str, name: str = "variant.yaml") -> Path:
    """minimal.yaml with `old` replaced by `new` (which must occur), written to tmp_path."""
    text = MINIMAL.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load_playbook(path, phrase_ids=PHRASES)
    return caught.value.problems


# ---------------------------------------------------------------- the shipped playbook


@pytest.fixture(scope="module")
def shipped():
    return load_playbook()


def test_shipped_playbook_loads_with_the_process_settings(shipped):
    assert shipped.name == "standard-service"
    assert shipped.metadata.time_zone == "Asia/Shanghai"
    assert set(shipped.metadata.locales) == {"zh-CN", "en"}
    assert shipped.sync.renewal_lead_days == 30
    assert shipped.sync.followup_after_days == 7
    assert {t.key: t.callback for t in shipped.tiers} == {"key": "monthly", "regular": "quarterly", "new": "after_first_service"}
    contract = shipped.field_(shipped.sync.contract_end_field)
    assert (contract.key, contract.scope, contract.type) == ("contract_end_date", "organization", "date")
    tier = shipped.field_(shipped.sync.tier_field)
    assert (tier.key, tier.scope, tier.type) == ("customer_tier", "organization", "dropdown")
    assert [o.value for o in tier.options] == ["key", "regular", "new"]
    assert {j.name: j.tags for j in shipped.sync.jobs} == {
        "renewals": ("deskbook_renewal",), "callbacks": ("deskbook_callback",), "followups": ("deskbook_followup",)
    }


def test_shipped_playbook_uses_every_standard_phrase_and_they_exist(shipped):
    assert shipped.phrases_used() == PHRASES
    assert PHRASES <= set(load_library().ids())


def test_shipped_playbook_stages_and_macros(shipped):
    stage_ids = [s for s, _ in shipped.stages]
    assert [f"S-{n}" for n in range(1, 14)] == [s for s in stage_ids if s.startswith("S-")]
    assert {m.stage for m in shipped.macros} <= set(stage_ids)
    greeting = next(m for m in shipped.macros if m.key == "greeting")
    assert greeting.stage == "S-2" and greeting.comment.phrase == "greeting"
    assert greeting.source is not None and greeting.source.line > 1


def test_shipped_playbook_has_the_sop_timings(shipped):
    targets = {(p.key, t.metric, t.priority): t for p in shipped.sla_policies for t in p.targets}
    assert targets[("online_first_reply", "first_reply_time", "normal")].minutes == 1  # S-2 online 30 s
    assert targets[("standard", "periodic_update_time", "normal")].minutes == 24 * 60  # S-9
    assert targets[("escalated", "next_reply_time", "urgent")].minutes == 30  # S-8
    assert targets[("resolution_confirmation", "next_reply_time", "normal")].minutes == 60  # S-10
    for policy in shipped.sla_policies:
        assert {t.priority for t in policy.targets} == set(model.PRIORITIES), policy.key


def test_shipped_automations_can_stop_themselves(shipped):
    for automation in shipped.automations:
        assert any(c.field.startswith("hours_") for c in automation.conditions.all), automation.key
        assert any(nullifies(c, a) for c in automation.conditions.all for a in automation.actions), automation.key


def test_shipped_forbidden_phrases_include_the_seeds_blame_shifting(shipped):
    assert "这不是我们的责任" in shipped.forbidden_phrases["zh-CN"]
    assert "您可能误会了" in shipped.forbidden_phrases["zh-CN"]
    assert any("not our responsibility" in p for p in shipped.forbidden_phrases["en"])
    assert any("misunderstood" in p for p in shipped.forbidden_phrases["en"])


def _localized_texts(value):
    """Every Localized inside a model value (dataclasses, tuples, dicts), recursively."""
    if isinstance(value, model.Localized):
        yield value
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _localized_texts(getattr(value, f.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _localized_texts(item)


def test_shipped_texts_exist_in_every_locale(shipped):
    texts = list(_localized_texts(shipped))
    assert len(texts) > 100
    incomplete = [t.values for t in texts if set(t.values) != set(shipped.metadata.locales)]
    assert incomplete == []


def test_complaints_route_to_the_complaints_group(shipped):
    route = next(t for t in shipped.triggers if t.key == "route_complaint")
    assert model.Condition("category", "is", "complaint") in route.conditions.all
    assert model.Action("group", "complaints") in route.actions
    assert shipped.group("complaints")


def test_load_by_shipped_name_and_unknown_name():
    assert "standard-service" in shipped_playbooks()
    assert load_playbook("standard-service").name == "standard-service"
    with pytest.raises(DeskbookError) as caught:
        load_playbook("no-such-playbook")
    assert "standard-service" in str(caught.value)  # names what exists


def test_minimal_playbook_loads():
    playbook = load_playbook(MINIMAL, phrase_ids=PHRASES)
    assert playbook.name == "minimal"
    assert playbook.implementers("S-2") == ["groups.frontline", "macros.greeting", "representations.S-2"]


# ---------------------------------------------------------------- errors name file:line


@pytest.mark.parametrize(
    "name, words",
    [
        ("broken_yaml.yaml", "broken YAML"),
        ("unknown_key.yaml", "unknown key 'colour'"),
        ("wrong_type.yaml", "should be a whole number"),
        ("dangling_reference.yaml", "unknown group 'nobody'"),
    ],
)
def test_bad_playbook_names_file_and_line(name, words):
    path = DATA / name
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{marker_line(path)}:"), problems
    assert words in problems[0]


def test_unknown_key_suggests_the_near_one(tmp_path):
    path = variant(tmp_path, "  stage: S-2", "  stgae: S-2")
    problems = problems_of(path)
    assert any("unknown key 'stgae'" in p and "did you mean 'stage'" in p for p in problems), problems


def test_wrong_type_says_what_is_expected(tmp_path):
    path = variant(tmp_path, '    title: {en: "Greet"}', '    title: "Greet"')
    (problem,) = problems_of(path)
    line = line_of(path, 'title: "Greet"')
    assert problem.startswith(f"{path}:{line}:")
    assert "macros[0].title should be a mapping" in problem and "zh-CN" in problem


def test_missing_key_is_named(tmp_path):
    path = variant(tmp_path, '  time_zone: Asia/Shanghai\n', "")
    problems = problems_of(path)
    assert problems == [f"{path}:{line_of(path, 'metadata:')}:1: missing key 'time_zone' in metadata"]


def test_duplicate_yaml_key(tmp_path):
    path = variant(tmp_path, '  version: "0.1"\n', '  version: "0.1"\n  version: "0.2"\n')
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(path, '0.2')}:") and "appears twice" in problem


def test_schema_errors_are_all_collected(tmp_path):
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace("  renewal_lead_days: 30", "  renewal_lead_days: thirty").replace("    stage: S-2", "    stage: S-2\n    colour: red")
    text = text.replace("{metric: first_reply_time, priority: normal", "{metric: first_reply_time, priority: soon")
    path = tmp_path / "many.yaml"
    path.write_text(text, encoding="utf-8")
    problems = problems_of(path)
    assert len(problems) == 3, problems
    assert any(p.startswith(f"{path}:{line_of(path, 'colour')}:") for p in problems)
    assert any(p.startswith(f"{path}:{line_of(path, 'thirty')}:") for p in problems)
    assert any(p.startswith(f"{path}:{line_of(path, 'soon')}:") and "priority" in p and "urgent" in p for p in problems)


def test_reference_errors_are_all_collected(tmp_path):
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace("{phrase: greeting, public: true}", "{phrase: hello_there, public: true}")
    text = text.replace("{field: category, operator: is, value: question}", "{field: field.mood, operator: is, value: x}")
    text = text.replace("represented_by: [views.open_work]", "represented_by: [views.closed_work]")
    text = text.replace("default_group: frontline", "default_group: backline")
    text = text.replace("    stage: S-2", "    stage: S-9")
    text = text.replace("category: routing", "category: routeing")
    path = tmp_path / "refs.yaml"
    path.write_text(text, encoding="utf-8")
    problems = problems_of(path)
    expected = {
        "hello_there": "unknown phrase 'hello_there'",
        "field.mood": "unknown field 'mood'",
        "closed_work": "'views.closed_work' points at nothing",
        "backline": "unknown group 'backline'",
        "stage: S-9": "unknown stage 'S-9'",
        "routeing": "unknown trigger category 'routeing'",
    }
    assert len(problems) == len(expected), problems
    for needle, words in expected.items():
        line = line_of(path, needle)
        assert any(p.startswith(f"{path}:{line}:") and words in p for p in problems), (needle, problems)


def test_automation_that_would_fire_forever_is_rejected(tmp_path):
    path = variant(tmp_path, "        - {field: tags, operator: not_includes, value: [stale]}\n", "")
    (problem,) = problems_of(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    conditions_line = lines.index("    conditions:", line_of(path, "key: stale")) + 1
    assert problem.startswith(f"{path}:{conditions_line}:"), problem
    assert "would fire every hour" in problem and "'stale'" in problem


def test_views_and_automations_must_be_scoped(tmp_path):
    path = tmp_path / "unscoped.yaml"
    text = MINIMAL.read_text(encoding="utf-8")
    path.write_text(text.replace("{field: status, operator: less_than, value: solved}", "{field: tags, operator: includes, value: [x]}"),
                    encoding="utf-8")
    problems = problems_of(path)
    assert len(problems) == 2, problems
    assert any("automation 'stale' needs a condition on status" in p for p in problems)
    assert any("view 'open_work' needs a condition on status" in p for p in problems)


def test_automation_needs_a_time_condition(tmp_path):
    path = variant(tmp_path, "        - {field: hours_since_updated, operator: greater_than, value: 24}\n", "")
    (problem,) = problems_of(path)
    assert "needs an hours_* condition" in problem


def test_duplicate_keys_and_sla_targets(tmp_path):
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace("      - {metric: first_reply_time, priority: normal, minutes: 60}",
                        "      - {metric: first_reply_time, priority: normal, minutes: 60}\n"
                        "      - {metric: first_reply_time, priority: normal, minutes: 30}")
    text = text.replace("  - {key: regular, name: {en: \"Regular\"}, callback: quarterly}",
                        "  - {key: regular, name: {en: \"Regular\"}, callback: quarterly}\n"
                        "  - {key: regular, name: {en: \"Again\"}, callback: monthly}")
    path = tmp_path / "dupes.yaml"
    path.write_text(text, encoding="utf-8")
    problems = problems_of(path)
    assert any(p.startswith(f"{path}:{line_of(path, 'minutes: 30')}:") and "second first_reply_time target" in p for p in problems)
    assert any(p.startswith(f"{path}:{line_of(path, 'Again')}:") and "duplicate tier 'regular'" in p for p in problems)


def test_dropdown_value_and_status_checked(tmp_path):
    text = MINIMAL.read_text(encoding="utf-8").replace("value: solved}", "value: done}", 1)
    path = tmp_path / "status.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(path, 'done')}:") and "unknown status 'done'" in problem


def test_parse_playbook_rejects_a_non_mapping():
    with pytest.raises(ValidationError) as caught:
        parse_playbook("- just\n- a list\n", "list.yaml")
    assert caught.value.problems[0].startswith("list.yaml:1:1:")


# ---------------------------------------------------------------- schema


def test_schema_is_valid_and_accepts_the_shipped_yaml():
    schema = playbook_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    shipped_text = (Path(__file__).resolve().parents[1] / "playbooks" / "standard-service.yaml").read_text(encoding="utf-8")
    assert list(validator.iter_errors(yaml.safe_load(shipped_text))) == []
    assert not validator.is_valid(yaml.safe_load((DATA / "unknown_key.yaml").read_text(encoding="utf-8")))
    assert set(schema["properties"]["sla_policies"]["items"]["properties"]["targets"]["items"]["properties"]["priority"]["enum"]) \
        == set(model.PRIORITIES)


# ---------------------------------------------------------------- CLI


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The CLI in a real process (what a user sees, including any traceback)."""
    return subprocess.run([sys.executable, "-m", "deskbook", *args], capture_output=True, text=True, timeout=60)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """The CLI in-process: (exit code, stdout, stderr). A non-user error would propagate and fail the test."""
    from deskbook.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_schema_prints_json_schema(capsys):
    code, out, err = run_main(capsys, "schema")
    assert code == 0, err
    printed = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed == json.loads(json.dumps(playbook_schema()))


def test_cli_validate_shipped_is_ok(capsys):
    code, out, err = run_main(capsys, "validate", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True and report["problems"] == []


@pytest.mark.parametrize("name", ["unknown_key.yaml", "wrong_type.yaml", "dangling_reference.yaml"])
def test_cli_validate_bad_playbook_exits_1_with_file_line(capsys, name):
    path = DATA / name
    code, out, err = run_main(capsys, "validate", str(path))
    assert code == 1
    assert f"{path}:{marker_line(path)}:" in err
    assert out == ""


def test_cli_validate_json_lists_problems(capsys):
    path = DATA / "dangling_reference.yaml"
    code, out, _ = run_main(capsys, "validate", str(path), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False and report["problems"][0].startswith(f"{path}:{marker_line(path)}:")


def test_cli_broken_yaml_in_a_real_process_has_no_traceback():
    path = DATA / "broken_yaml.yaml"
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert f"{path}:{marker_line(path)}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_cli_validate_missing_file_is_a_plain_error():
    result = run_cli("validate", "no/such/playbook.yaml")
    assert result.returncode == 1
    assert "no/such/playbook.yaml" in result.stderr and "Traceback" not in result.stderr


def test_cli_validate_checks_phrases_against_the_playbook(capsys, tmp_path):
    library = tmp_path / "lib"
    shutil.copytree(load_library().root, library, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    closing = library / "templates" / "en" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8").rstrip("\n") + " That is not our responsibility.\n", encoding="utf-8")
    (library / "templates" / "zh-CN" / "greeting.j2").unlink()
    code, _, err = run_main(capsys, "validate", "--scripts", str(library))
    assert code == 1
    assert "forbidden phrase" in err and "closing" in err
    assert "greeting" in err and "zh-CN" in err


# ---------------------------------------------------------------- libyaml and pure composers agree

from deskbook import yaml_reading  # noqa: E402
from deskbook.playbooks import loader as playbook_loader  # noqa: E402
from deskbook.playbooks.cli import problem_file, problems_per_file, summary_line  # noqa: E402

needs_libyaml = pytest.mark.skipif(yaml_reading.LIBYAML_LOADER is None, reason="PyYAML built without libyaml")
SHIPPED_YAML = Path(__file__).resolve().parents[1] / "playbooks" / "standard-service.yaml"

#: YAML that exercises what marks could disagree on: CJK text, block and quoted scalars, anchors,
#: empty values, flow collections, comments, a leading BOM and CRLF line ends.
TRICKY_YAML = (
    "\ufeff# comment\r\n"
    "a: 客户 服务\r\n"
    "b: |\r\n  line one\r\n  行二\r\n"
    "c: >-\r\n  folded\r\n  text\r\n"
    "d: 'single ''quoted'''\r\n"
    'e: "double \\u00e9"\r\n'
    "f: &anchor {x: 1, y: [2, 3.5, true, null, 2026-01-01]}\r\n"
    "g: *anchor\r\n"
    "h:\r\n"
    "i:\r\n  - \r\n  - {}\r\n  - []\r\n"
    "? j\r\n: k\r\n"
    "长键: {嵌套: 值, 再: [一, 二]}\r\n"
)


def _positions(marks) -> tuple[dict, dict]:
    """(value marks, key marks) as {path: (line, column)}: comparable across composers."""
    return ({path: (m.line, m.column) for path, m in marks.values.items()},
            {path: (m.line, m.column) for path, m in marks.keys.items()})


def _yaml_texts() -> list[tuple[str, str]]:
    texts = [(str(SHIPPED_YAML), SHIPPED_YAML.read_text(encoding="utf-8")), ("tricky.yaml", TRICKY_YAML)]
    texts += [(str(path), path.read_text(encoding="utf-8")) for path in sorted(DATA.glob("*.yaml"))]
    return texts


@needs_libyaml
@pytest.mark.parametrize("name, text", _yaml_texts(), ids=lambda value: Path(value).name[:30])
def test_libyaml_and_pure_composers_give_the_same_data_and_marks(name, text):
    def parsed(use_libyaml):
        try:
            data, marks = playbook_loader.parse_yaml(text, name, use_libyaml=use_libyaml)
        except ValidationError as exc:
            return "error", exc.problems
        return data, _positions(marks)

    fast, pure = parsed(True), parsed(False)
    assert fast == pure
    if fast[0] != "error":
        assert len(fast[1][0]) > 10  # really compared something


@needs_libyaml
@pytest.mark.parametrize("path", [SHIPPED_YAML, MINIMAL], ids=lambda p: p.name)
def test_libyaml_and_pure_paths_load_identical_playbooks(monkeypatch, path):
    fast = load_playbook(path, phrase_ids=PHRASES)
    monkeypatch.setattr(yaml_reading, "LIBYAML_LOADER", None)
    pure = load_playbook(path, phrase_ids=PHRASES)
    assert fast == pure
    assert fast.macros[0].source == pure.macros[0].source and fast.macros[0].source.line > 1


BROKEN_YAML = [
    "a: [1, 2\nb: 3\n",                      # unclosed flow sequence
    "a: 'unclosed\nb: 2\n",                   # unclosed quote
    "a:\n\t- 1\n",                            # tab indentation
    "a: *nowhere\n",                          # undefined alias
    "a: 1\n---\nb: 2\n",                      # two documents
    "a: 1\n b: 2\n",                          # over-indented key
    "a: x\ufeffy\n",                          # BOM inside the text (libyaml refuses, pure accepts)
    "a: \x07bell\n",                          # control character
    "a: 1\na: 2\n",                           # duplicate key (found while building, from node marks)
    "a: !!int nope\n",                        # scalars that cannot be constructed
    "a: !!bool maybe\n",
    "a: !!binary a\n",
]


@pytest.mark.parametrize("text, words", [("a: !!int nope\n", "'nope' is not a valid int"),
                                         ("a: !!bool maybe\n", "'maybe' is not a valid bool"),
                                         ("a: !!binary a\n", "base64")])
def test_unreadable_tagged_value_is_a_located_problem(text, words):
    with pytest.raises(ValidationError) as caught:
        playbook_loader.parse_yaml(text, "t.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("t.yaml:1:4: cannot read value:") and words in problem, problem


@needs_libyaml
@pytest.mark.parametrize("text", BROKEN_YAML)
def test_libyaml_and_pure_paths_report_identical_yaml_problems(text):
    outcomes = []
    for use_libyaml in (True, False):
        try:
            data, _ = playbook_loader.parse_yaml(text, "t.yaml", use_libyaml=use_libyaml)
            outcomes.append(("ok", data))
        except ValidationError as exc:
            outcomes.append(("error", exc.problems))
    assert outcomes[0] == outcomes[1]


@needs_libyaml
@pytest.mark.parametrize("name", ["broken_yaml.yaml", "unknown_key.yaml", "wrong_type.yaml", "dangling_reference.yaml"])
def test_libyaml_and_pure_paths_locate_errors_in_broken_files_identically(monkeypatch, name):
    path = DATA / name
    fast = problems_of(path)
    monkeypatch.setattr(yaml_reading, "LIBYAML_LOADER", None)
    pure = problems_of(path)
    assert fast == pure
    assert fast[0].startswith(f"{path}:{marker_line(path)}:")


@needs_libyaml
def test_valid_playbook_is_composed_by_libyaml_only(monkeypatch):
    loaders = []
    real_compose = yaml.compose

    def recording_compose(stream, Loader):
        loaders.append(Loader)
        return real_compose(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "compose", recording_compose)
    load_playbook(SHIPPED_YAML, phrase_ids=PHRASES)
    assert loaders == [yaml_reading.LIBYAML_LOADER]
    loaders.clear()
    problems_of(DATA / "broken_yaml.yaml")
    assert loaders == [yaml_reading.LIBYAML_LOADER, yaml.SafeLoader]  # the pure composer words the error


# ---------------------------------------------------------------- the validate summary names the files


def test_problem_file_reads_the_leading_path():
    assert problem_file("/a/b.yaml:3:5: unknown key") == "/a/b.yaml"
    assert problem_file("/t/en/closing.j2:19: forbidden phrase") == "/t/en/closing.j2"
    assert problem_file("/t/en/closing.j2: declares variables ['x'] but /t/zh-CN/closing.j2: declares") == "/t/en/closing.j2"
    assert problem_file(r"C:\lib\en\greeting.j2:4: Jinja syntax error") == r"C:\lib\en\greeting.j2"
    assert problem_file("no location here") is None
    assert problems_per_file(["x.j2:1: a", "y.yaml:2:3: b", "x.j2: c\n    diff: line", "bare"]) == \
        {"x.j2": 2, "y.yaml": 1, "(no file named)": 1}
    assert summary_line(["x.j2:1: a", "y.yaml:2:3: b", "x.j2: c"]) == "deskbook: 3 problem(s) in 2 file(s): x.j2 (2), y.yaml (1)"


def _broken_library(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A copy of the shipped library with a forbidden phrase in en/closing and zh-CN/greeting deleted."""
    library = tmp_path / "lib"
    shutil.copytree(load_library().root, library, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    closing = library / "templates" / "en" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8").rstrip("\n") + " That is not our responsibility.\n", encoding="utf-8")
    greeting = library / "templates" / "zh-CN" / "greeting.j2"
    greeting.unlink()
    return library, closing, greeting


def test_cli_validate_summary_names_the_phrase_files_not_the_playbook(capsys, tmp_path):
    library, closing, greeting = _broken_library(tmp_path)
    code, _, err = run_main(capsys, "validate", "--scripts", str(library))
    assert code == 1
    summary = err.rstrip("\n").splitlines()[-1]
    problem_lines = [line for line in err.splitlines() if line.startswith(str(library))]
    closing_count = sum(1 for line in problem_lines if line.startswith(f"{closing}:"))
    assert closing_count >= 2  # the forbidden phrase and the changed approval
    assert summary.startswith(f"deskbook: {closing_count + 1} problem(s) in 2 file(s): ")
    assert f"{closing} ({closing_count})" in summary and f"{greeting} (1)" in summary
    assert "standard-service" not in summary


def test_cli_validate_json_counts_problems_per_file(capsys, tmp_path):
    library, closing, greeting = _broken_library(tmp_path)
    code, out, _ = run_main(capsys, "validate", "--scripts", str(library), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["files"] == problems_per_file(report["problems"])
    assert set(report["files"]) == {str(closing), str(greeting)}
    assert sum(report["files"].values()) == len(report["problems"])


def test_cli_validate_summary_names_a_broken_playbook(capsys):
    path = DATA / "dangling_reference.yaml"
    code, _, err = run_main(capsys, "validate", str(path))
    assert code == 1
    assert err.splitlines()[-1] == f"deskbook: 1 problem(s) in 1 file(s): {path} (1)"


# ---------------------------------------------------------------- 2026 holidays

#: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04): days off, by holiday.
OFFICIAL_2026_DAYS_OFF = [
    ("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
    ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
    ("2026-10-01", "2026-10-07"),
]
OFFICIAL_2026_MAKE_UP_WORKDAYS = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]


def test_shipped_2026_holidays_match_the_state_council_notice(shipped):
    ranges = [(start, end) for _, start, end in shipped.metadata.holidays if start.startswith("2026")]
    assert ranges == OFFICIAL_2026_DAYS_OFF
    text = SHIPPED_YAML.read_text(encoding="utf-8")
    assert "国务院办公厅关于2026年部分节假日安排的通知" in text
    for day in OFFICIAL_2026_MAKE_UP_WORKDAYS:  # documented next to the dates, since a schedule cannot hold them
        assert day in text


@pytest.mark.parametrize("text", ["a:\t1\n", "a: 1\t# note\n", "- a\t\n", "x: [1,\t2]\n"])
def test_tabs_the_pure_reader_refuses_are_refused_with_libyaml_too(text):
    """libyaml accepts these tabs; the pure reader does not. Both paths must give the same answer."""
    import yaml

    def outcome(use_libyaml):
        try:
            return ("data", yaml_reading.read_yaml(text, yaml.load, use_libyaml=use_libyaml))
        except yaml.YAMLError as exc:
            return ("error", str(exc))

    assert outcome(True) == outcome(False)
