"""`validate` refuses at the playbook line what the desks would refuse or garble: SLA targets beyond the
desks' range, over-long titles, two macros with one title in one menu folder, locales the phrase
library cannot speak, and one wrong default locale as one problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskbook.errors import ValidationError
from deskbook.playbooks import model
from deskbook.playbooks.loader import MAX_TITLE, load_playbook
from deskbook.playbooks.schema import playbook_schema
from deskbook.scripts_library import STANDARD_PHRASES
from test_playbook_loader import line_of

DATA = Path(__file__).parent / "data" / "playbooks"
MINIMAL = DATA / "minimal.yaml"
PHRASES = set(STANDARD_PHRASES)


def variant(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = MINIMAL.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "variant.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, **options) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load_playbook(path, phrase_ids=PHRASES, **options)
    return caught.value.problems


def run_validate(capsys, path: Path) -> tuple[int, list[str]]:
    from deskbook.cli import main

    code = main(["validate", str(path)])
    err = capsys.readouterr().err.splitlines()
    return code, [line for line in err if not line.startswith("deskbook: ")]


def test_sla_target_beyond_the_desks_range_is_one_problem_at_its_line(tmp_path):
    path = variant(tmp_path, ("minutes: 60}", "minutes: 99999999999999999999}"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(path, '99999999999999999999')}:"), problem
    assert f"must be at most {model.MAX_SLA_MINUTES}" in problem and "target_in_seconds" in problem
    assert playbook_schema()["properties"]["sla_policies"]["items"]["properties"]["targets"]["items"][
        "properties"]["minutes"]["maximum"] == model.MAX_SLA_MINUTES


def test_sla_target_at_the_limit_loads(tmp_path):
    path = variant(tmp_path, ("minutes: 60}", f"minutes: {model.MAX_SLA_MINUTES}}}"))
    assert load_playbook(path, phrase_ids=PHRASES).sla_policies[0].targets[0].minutes == model.MAX_SLA_MINUTES


def test_over_long_title_is_named_at_its_line(tmp_path):
    long = "Greet " * 200
    path = variant(tmp_path, ('    title: {en: "Greet"}', f'    title: {{en: "{long}"}}'))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(path, long[:30])}:")
    assert f"macros[0].title (en) is {len(long):,} characters long" in problem and str(MAX_TITLE) in problem


def test_two_macros_with_one_title_in_one_menu_folder(tmp_path):
    second = ("  - key: greeting_again\n    stage: S-2\n    title: {en: \"Greet\"}\n"
              "    description: {en: \"Say hello again.\"}\n    comment: {phrase: greeting}\n")
    path = variant(tmp_path, ("triggers:\n", second + "triggers:\n"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(path, 'key: greeting_again') + 2}:")
    assert "macro 'greeting_again' has the same title 'Greet' as macro 'greeting'" in problem and "S-2" in problem


def test_same_title_in_another_folder_is_fine(tmp_path):
    second = ("  - key: greeting_again\n    stage: S-3\n    title: {en: \"Greet\"}\n"
              "    description: {en: \"Say hello again.\"}\n")
    path = variant(tmp_path, ("  - {id: S-2, title: {en: \"Greeting\"}}\n",
                              "  - {id: S-2, title: {en: \"Greeting\"}}\n  - {id: S-3, title: {en: \"More\"}}\n"),
                   ("triggers:\n", second + "triggers:\n"))
    assert len(load_playbook(path, phrase_ids=PHRASES).macros) == 2


def test_a_locale_the_phrase_library_lacks_is_one_problem_at_the_playbook_line(tmp_path, capsys):
    path = variant(tmp_path, ("locales: [en, zh-CN]", "locales: [en, zh-CN, fr]"))
    code, problems = run_validate(capsys, path)
    assert code == 1
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line_of(path, 'locales:')}:")
    assert "locale 'fr' has no phrases in the phrase library" in problems[0] and "en, zh-CN" in problems[0]


def test_a_wrong_default_locale_is_one_problem(tmp_path, capsys):
    path = variant(tmp_path, ("default_locale: en", "default_locale: fr"))
    code, problems = run_validate(capsys, path)
    assert code == 1
    assert problems == [f"{path}:{line_of(path, 'default_locale')}:19: default_locale 'fr' is not one of locales (en, zh-CN)"]


def test_shipped_playbook_is_within_every_limit():
    shipped = load_playbook(phrase_ids=None)
    assert all(t.minutes <= model.MAX_SLA_MINUTES for p in shipped.sla_policies for t in p.targets)
