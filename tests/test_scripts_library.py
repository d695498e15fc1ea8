"""The approved-phrasing library: shipped phrases, approval lock, lint."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from deskbook.errors import DeskbookError
from deskbook.scripts_library import LOCALES, STANDARD_PHRASES, approve, load_library
from deskbook.scripts_library.library import APPROVALS_FILE, content_hash, shipped_library_root

FORBIDDEN = {
    "zh-CN": ["这不是我们的责任", "您可能误会了"],
    "en": ["this is not our responsibility", "you may have misunderstood"],
}


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped library (templates + approvals.yaml)."""
    root = shipped_library_root()
    target = tmp_path / "scripts"
    shutil.copytree(root / "templates", target / "templates")
    shutil.copy2(root / APPROVALS_FILE, target / APPROVALS_FILE)
    return target


def edit_body(path: Path, old: str, new: str) -> None:
    """Replace text in a template file (front matter untouched)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_standard_phrase_exists_in_both_locales_and_validates():
    library = load_library()
    assert set(library.ids()) == set(STANDARD_PHRASES)
    for phrase_id in STANDARD_PHRASES:
        for locale in LOCALES:
            phrase = library.phrase(phrase_id, locale)
            assert phrase.id == phrase_id and phrase.locale == locale
            assert phrase.variables, f"{phrase_id} {locale} declares no variables"
            assert library.is_approved(phrase)
    assert library.validate(FORBIDDEN, set(STANDARD_PHRASES)) == []


def test_front_matter_approval_matches_lock_and_content_hash():
    library = load_library()
    approvals = yaml.safe_load((library.root / APPROVALS_FILE).read_text(encoding="utf-8"))
    for (phrase_id, locale), phrase in library.phrases.items():
        entry = approvals[phrase_id][locale]
        assert entry["sha256"] == phrase.approval["sha256"] == content_hash(phrase.body, phrase.variable_names)
        assert entry["text"] == phrase.body


def test_variables_are_the_same_across_locales_and_snake_case():
    library = load_library()
    for phrase_id in library.ids():
        names = {loc: set(library.phrase(phrase_id, loc).variable_names) for loc in LOCALES}
        assert names["zh-CN"] == names["en"], phrase_id
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names["en"])


def test_content_hash_ignores_approval_but_not_body_or_variables():
    base = content_hash("Hello {{ a }}", ["a"])
    assert base == content_hash("Hello {{ a }}", ["a"])
    assert base != content_hash("Hello  {{ a }}", ["a"])
    assert base != content_hash("Hello {{ a }}", ["a", "b"])


def test_edited_template_without_reapproval_is_reported_with_diff(library_copy: Path):
    path = library_copy / "templates" / "en" / "greeting.j2"
    edit_body(path, "I will do my best to help.", "I will try to help.")
    library = load_library(library_copy)
    problems = library.validate(FORBIDDEN, set(STANDARD_PHRASES))
    assert len(problems) == 1
    problem = problems[0]
    assert str(path) in problem
    assert "differs from the version approved" in problem
    assert "-" in problem and "+" in problem
    assert re.search(r"^\s+-.*I will do my best to help\.", problem, re.M)
    assert re.search(r"^\s+\+.*I will try to help\.", problem, re.M)
    assert "deskbook scripts approve greeting --locale en" in problem


def test_reapproval_fixes_it_and_records_who_and_when(library_copy: Path):
    path = library_copy / "templates" / "zh-CN" / "closing.j2"
    edit_body(path, "再见！", "再会！")
    library = load_library(library_copy)
    assert library.validate(FORBIDDEN, set(STANDARD_PHRASES))
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    approved = approve(library, "closing", "zh-CN", by="Li Na", now=when)
    assert [p.locale for p in approved] == ["zh-CN"]
    reloaded = load_library(library_copy)
    assert reloaded.validate(FORBIDDEN, set(STANDARD_PHRASES)) == []
    entry = yaml.safe_load((library_copy / APPROVALS_FILE).read_text(encoding="utf-8"))["closing"]["zh-CN"]
    assert entry["approved_by"] == "Li Na"
    assert entry["approved_at"] == "2026-01-02T03:04:05Z"
    assert "再会！" in entry["text"]
    phrase = reloaded.phrase("closing", "zh-CN")
    assert phrase.approval == {"approved_by": "Li Na", "approved_at": "2026-01-02T03:04:05Z", "sha256": entry["sha256"]}
    assert "再会！" in phrase.body and phrase.body.count("---") == 0
    # the other locale kept its original approval
    assert reloaded.phrase("closing", "en").approval["approved_by"] != "Li Na"


def test_never_approved_template_is_reported(library_copy: Path):
    approvals_path = library_copy / APPROVALS_FILE
    data = yaml.safe_load(approvals_path.read_text(encoding="utf-8"))
    del data["greeting"]["en"]
    approvals_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = load_library(library_copy).validate(FORBIDDEN, set(STANDARD_PHRASES))
    assert len(problems) == 1
    assert "greeting.j2" in problems[0] and "never approved" in problems[0]


def test_hand_edited_front_matter_hash_does_not_bypass_the_lock(library_copy: Path):
    path = library_copy / "templates" / "en" / "closing.j2"
    edit_body(path, "All the best", "Cheers")
    library = load_library(library_copy)
    phrase = library.phrase("closing", "en")
    text = path.read_text(encoding="utf-8").replace(phrase.approval["sha256"], phrase.content_hash)
    path.write_text(text, encoding="utf-8")
    problems = load_library(library_copy).validate({}, set())
    assert any("closing.j2" in p and "differs from the version approved" in p for p in problems)


def test_forbidden_phrase_names_phrase_and_template(library_copy: Path):
    path = library_copy / "templates" / "zh-CN" / "complaint_acknowledgement.j2"
    edit_body(path, "我们真的很抱歉", "您可能误会了")
    en_path = library_copy / "templates" / "en" / "confirm_need.j2"
    edit_body(en_path, "Have I got that right?", "You May Have Misunderstood the form.")
    problems = load_library(library_copy).validate(FORBIDDEN, set(STANDARD_PHRASES))
    zh = [p for p in problems if "forbidden phrase" in p and "complaint_acknowledgement" in p]
    assert len(zh) == 1 and "'您可能误会了'" in zh[0] and str(path) in zh[0]
    en = [p for p in problems if "forbidden phrase" in p and "confirm_need" in p]
    assert len(en) == 1 and "'you may have misunderstood'" in en[0] and str(en_path) in en[0]
    # forbidden lists are per locale: the zh phrase is not looked for in en templates
    assert load_library(library_copy).validate({"en": ["您可能误会了"]}, set()) == [
        p for p in problems if "forbidden phrase" not in p
    ]


def test_variable_mismatch_is_reported(library_copy: Path):
    path = library_copy / "templates" / "en" / "progress_update.j2"
    edit_body(path, "{{ next_step }}", "{{ current_step }}")
    problems = load_library(library_copy).validate({}, set(STANDARD_PHRASES))
    mismatch = [p for p in problems if "undeclared" in p or "never used" in p]
    assert any(str(path) in p and "current_step" in p and "undeclared" in p for p in mismatch)
    assert any(str(path) in p and "next_step" in p and "never used" in p for p in mismatch)


def test_variables_must_agree_across_locales(library_copy: Path):
    path = library_copy / "templates" / "zh-CN" / "closing.j2"
    edit_body(path, "{{ agent_name }}祝您", "祝您")
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"- name: agent_name\n(  .*\n)+?(?=- name|approval)", "", text)
    path.write_text(text, encoding="utf-8")
    problems = load_library(library_copy).validate({}, set())
    assert any("every locale of 'closing' must use the same variables" in p for p in problems)


def test_jinja_syntax_error_reports_file_and_line(library_copy: Path):
    path = library_copy / "templates" / "en" / "greeting.j2"
    edit_body(path, "{{ agent_name }}", "{{ agent_name ")
    library = load_library(library_copy)
    problems = library.validate({}, set())
    lines = path.read_text(encoding="utf-8").split("\n")
    body_line = next(i for i, line in enumerate(lines, 1) if "agent_name " in line and "Hello" in line)
    syntax = [p for p in problems if "Jinja syntax error" in p]
    assert syntax and syntax[0].startswith(f"{path}:")
    assert int(syntax[0].split(":")[1]) == body_line


def test_missing_required_phrase_is_reported(library_copy: Path):
    (library_copy / "templates" / "en" / "renewal_reminder.j2").unlink()
    problems = load_library(library_copy).validate({}, set(STANDARD_PHRASES))
    assert len(problems) == 1
    assert "renewal_reminder" in problems[0] and "en" in problems[0] and "required" in problems[0]


def test_broken_front_matter_is_a_problem_not_a_crash(library_copy: Path):
    path = library_copy / "templates" / "en" / "closing.j2"
    edit_body(path, "version: 1", "version: one")
    bad_yaml = library_copy / "templates" / "en" / "greeting.j2"
    edit_body(bad_yaml, "locale: en", "locale: [en")
    library = load_library(library_copy)
    problems = library.validate({}, set())
    assert any(str(path) in p and "version" in p for p in problems)
    assert any(str(bad_yaml) in p and "YAML" in p for p in problems)
    assert ("closing", "en") not in library.phrases


def test_unknown_phrase_or_locale_is_a_user_error():
    library = load_library()
    with pytest.raises(DeskbookError, match="unknown phrase 'greting'"):
        library.phrase("greting", "en")
    with pytest.raises(DeskbookError, match="no 'fr' template"):
        library.phrase("greeting", "fr")


def test_load_library_rejects_a_folder_without_templates(tmp_path: Path):
    with pytest.raises(DeskbookError, match="no templates/ folder"):
        load_library(tmp_path)


def test_approve_refuses_a_broken_template(library_copy: Path):
    path = library_copy / "templates" / "en" / "greeting.j2"
    edit_body(path, "{{ agent_name }}", "{{ agent }}")
    with pytest.raises(DeskbookError, match="cannot approve"):
        approve(load_library(library_copy), "greeting", "en", by="Li Na")
    with pytest.raises(DeskbookError, match="approver"):
        approve(load_library(library_copy), "closing", "en", by=" ")


def _seed_quotes(seed_text: str) -> list[str]:
    """Phrases quoted with “…” on the seeds' line about blame-shifting language (C-1)."""
    line = next(line for line in seed_text.splitlines() if "推诿" in line)
    return re.findall(r"“([^”]+)”", line)


def test_shipped_templates_avoid_the_seeds_blame_shifting_phrases(shared: Path):
    seeds = "\n".join(p.read_text(encoding="utf-8") for p in sorted((shared / "seeds").glob("*.txt")))
    quoted = _seed_quotes(seeds)
    assert "这不是我们的责任" in quoted and "您可能误会了" in quoted
    library = load_library()
    assert library.validate({"zh-CN": quoted, "en": FORBIDDEN["en"]}, set(STANDARD_PHRASES)) == []


def test_shipped_wording_is_our_own_not_copied_from_the_seeds(shared: Path):
    seeds = "".join(p.read_text(encoding="utf-8") for p in sorted((shared / "seeds").glob("*.txt")))
    window = 8
    library = load_library()
    for locale in LOCALES:
        for phrase_id in library.ids():
            body = library.phrase(phrase_id, locale).body
            for literal in re.split(r"\{\{.*?\}\}", body):
                for start in range(max(0, len(literal) - window + 1)):
                    chunk = literal[start : start + window]
                    assert chunk not in seeds, f"{phrase_id} ({locale}) copies seed text: {chunk!r}"
