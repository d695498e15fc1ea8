"""The approval lock holds at every exit: no command hands out unapproved or changed phrase text.

Issue #13: with `templates/en/greeting.j2` edited and never approved, `validate` failed, yet
`apply --doit --force` installed the edited text and `render` rendered it. Every exit that turns
phrases into text (`render`, `plan`, `apply`, `demo`, `sync run|serve`, and the `test` guard)
must refuse, naming the phrase, the locale and the diff, whatever `--force` says.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deskbook.cli import main
from deskbook.errors import DeskbookError
from deskbook.scripts_library import approve, load_library, render_for_desk, render_values
from deskbook.scripts_library import library as library_module
from deskbook.scripts_library.library import UnapprovedPhrase, shipped_library_root

FORBIDDEN = "calm down, it is not our fault"


@pytest.fixture()
def edited_library(tmp_path: Path) -> Path:
    """A copy of the shipped library whose `en/greeting` was edited (with a forbidden phrase) and not re-approved."""
    root = tmp_path / "lib"
    shutil.copytree(shipped_library_root() / "templates", root / "templates")
    shutil.copy(shipped_library_root() / "approvals.yaml", root / "approvals.yaml")
    greeting = root / "templates" / "en" / "greeting.j2"
    greeting.write_text(greeting.read_text(encoding="utf-8").replace(
        "Tell me what is going on", f"{FORBIDDEN.capitalize()}. Tell me what is going on"), encoding="utf-8")
    return root


def assert_refused(code: int, out: str, err: str) -> None:
    assert code == 1
    assert "Traceback" not in err
    assert "refusing unapproved phrase text" in err
    assert "'greeting' (en)" in err  # the phrase and the locale
    assert "+Hello {{ customer_name }}" in err and FORBIDDEN.capitalize() in err  # the diff
    assert "--force does not change this" in err
    assert FORBIDDEN not in out.lower()


def test_render_refuses_an_edited_phrase(capsys, edited_library):
    code = main(["render", "greeting", "--locale", "en", "--desk", "zendesk", "--scripts", str(edited_library)])
    assert_refused(code, *capsys.readouterr())
    code = main(["render", "greeting", "--locale", "en", "--desk", "values", "--examples", "--scripts", str(edited_library)])
    assert_refused(code, *capsys.readouterr())
    # The other locale and the other phrases are approved and still render.
    assert main(["render", "greeting", "--locale", "zh-CN", "--desk", "zendesk", "--scripts", str(edited_library)]) == 0


def test_the_library_itself_refuses_to_hand_out_unapproved_text(edited_library):
    library = load_library(edited_library)
    for attempt in (lambda: render_for_desk(library, "greeting", "en", "jsm"),
                    lambda: render_values(library, "greeting", "en", library.phrase("greeting", "en").examples()),
                    lambda: library.template(library.phrase("greeting", "en"))):
        with pytest.raises(UnapprovedPhrase, match="'greeting' \\(en\\)"):
            attempt()


def test_never_approved_phrase_is_refused_too(edited_library):
    (edited_library / "approvals.yaml").write_text("{}\n", encoding="utf-8")
    library = load_library(edited_library)
    with pytest.raises(UnapprovedPhrase, match="was never approved"):
        render_for_desk(library, "closing", "zh-CN", "zendesk")


def test_require_approved_is_the_one_call_guard(edited_library):
    """What a command about to hand out phrases (the coming `deskbook test`) calls once."""
    library = load_library(edited_library)
    library.require_approved(["closing", "renewal_reminder"])
    library.require_approved(["greeting"], ["zh-CN"])
    with pytest.raises(UnapprovedPhrase) as caught:
        library.require_approved()
    assert caught.value.problems == [library.approval_problem(library.phrase("greeting", "en"))]
    approve(library, "greeting", "en", by="Li Na")
    library.require_approved()


@pytest.fixture()
def zendesk_desk(monkeypatch):
    from deskbook.connectors.zendesk.sandbox import running_sandbox

    for name in ("ZENDESK_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with running_sandbox(token="lock-secret-token") as handle:
        yield handle


def desk_args(desk) -> list[str]:
    return ["--desk", "zendesk", "--url", desk.url, "--email", desk.email, "--token", desk.token]


def test_plan_and_apply_force_refuse_and_write_nothing(capsys, zendesk_desk, edited_library):
    code = main(["plan", "--scripts", str(edited_library), *desk_args(zendesk_desk)])
    assert_refused(code, *capsys.readouterr())
    code = main(["apply", "--doit", "--force", "--scripts", str(edited_library), *desk_args(zendesk_desk)])
    assert_refused(code, *capsys.readouterr())
    writes = [r for r in zendesk_desk.requests() if r["method"] not in ("GET", "HEAD")]
    assert writes == []


def test_demo_refuses_an_edited_library(capsys, edited_library):
    code = main(["demo", "--desk", "zendesk", "--seed-orgs", "1", "--scripts", str(edited_library)])
    assert_refused(code, *capsys.readouterr())


def test_deskbook_test_refuses_an_edited_library(capsys, edited_library):
    code = main(["test", "--scripts", str(edited_library)])
    assert_refused(code, *capsys.readouterr())


def test_sync_run_and_serve_refuse_before_touching_the_desk(capsys, monkeypatch, zendesk_desk, edited_library, tmp_path):
    # `sync` renders the shipped library: edit that one (in a copy the package is pointed at), and
    # a phrase a sync job writes.
    monkeypatch.setattr(library_module, "shipped_library_root", lambda: edited_library)
    renewal = edited_library / "templates" / "en" / "renewal_reminder.j2"
    renewal.write_text(renewal.read_text(encoding="utf-8") + "\nSign now or lose everything.", encoding="utf-8")
    common = ["--url", zendesk_desk.url, "--email", zendesk_desk.email, "--token", zendesk_desk.token,
              "--ledger", str(tmp_path / "ledger.sqlite")]
    for command in (["sync", "run"], ["sync", "serve", "--interval-seconds", "60"]):
        code = main([*command, *common])
        _, err = capsys.readouterr()
        assert code == 1 and "Traceback" not in err
        assert "refusing unapproved phrase text" in err and "'renewal_reminder' (en)" in err
        assert "+Sign now or lose everything." in err
    assert zendesk_desk.requests() == []


def test_approve_renders_first_and_refuses_a_template_that_cannot_render(capsys, edited_library):
    closing = edited_library / "templates" / "en" / "closing.j2"
    text = closing.read_text(encoding="utf-8")
    for hostile, expected in (
        ("{{ range(10**9)|list }}", "range() of 1,000,000,000 items"),
        ("{{ 'x' * 10**9 }}", "repeated 1,000,000,000 times"),
        ("{{ 7 ** 100000 }}", "a power wider than"),
    ):
        closing.write_text(text.replace("{{ agent_name }}", "{{ agent_name }}" + hostile), encoding="utf-8")
        code = main(["scripts", "approve", "closing", "--locale", "en", "--by", "Li Na", "--scripts", str(edited_library)])
        _, err = capsys.readouterr()
        assert code == 1 and "Traceback" not in err
        assert "cannot approve a template that does not render" in err and expected in err, err
        assert str(closing) in err
        assert len(err.strip().splitlines()) == 1
    # Nothing was recorded: the phrase is still not approved as it stands.
    library = load_library(edited_library)
    assert not library.is_approved(library.phrase("closing", "en"))


def test_a_hand_forged_approval_of_a_hostile_template_still_fails_cleanly(edited_library):
    """The lock can be forged (the hash is computable); the bounds still hold when rendering."""
    closing = edited_library / "templates" / "en" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8").replace("{{ agent_name }}", "{{ agent_name }}{{ range(10**9)|list }}"),
                       encoding="utf-8")
    library = load_library(edited_library)
    phrase = library.phrase("closing", "en")
    entry = library.approvals["closing"]["en"]
    entry.update(sha256=phrase.content_hash, text=phrase.body)
    library.phrases[("closing", "en")] = library_module.replace(phrase, approval={**phrase.approval, "sha256": phrase.content_hash})
    with pytest.raises(DeskbookError, match="range\\(\\) of 1,000,000,000 items"):
        render_for_desk(library, "closing", "en", "zendesk")


@pytest.mark.parametrize("command", [["plan"], ["apply", "--doit"], ["demo"]])
def test_plan_apply_demo_list_every_unapproved_phrase_at_once(capsys, edited_library, command, tmp_path, monkeypatch):
    """The review found plan/apply stopping at the first unapproved phrase they happened to render:
    an admin fixing a library with several edits had to run them once per phrase. The one approval
    lock is asked for every phrase the playbook uses, before the desk is touched."""
    monkeypatch.chdir(tmp_path)
    closing = edited_library / "templates" / "zh-CN" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8") + "\n再见。\n", encoding="utf-8")
    desk = [] if command == ["demo"] else ["--url", "http://127.0.0.1:9", "--email", "a@b.c", "--token", "t"]
    code = main([*command, "--desk", "zendesk", "--scripts", str(edited_library), *desk])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert "'greeting' (en)" in err and "'closing' (zh-CN)" in err
    assert "127.0.0.1:9" not in err  # refused before any connection was tried


def test_approve_killed_while_writing_leaves_a_library_that_loads_and_refuses(edited_library, monkeypatch):
    """Review: approve wrote the template, then approvals.yaml, each with a plain write. A crash
    (disk full, kill) half-way through approvals.yaml left a lock that no longer parses, so every
    command failed on the library. Each file is now replaced whole, the lock first."""
    real_write_text = Path.write_text

    def dies_half_way(self, data, *args, **kwargs):
        real_write_text(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    def no_space(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", dies_half_way)  # a plain write dies half-way
    monkeypatch.setattr("deskbook.output.os.replace", no_space)  # a whole-file replace fails whole
    library = load_library(edited_library)
    with pytest.raises(DeskbookError):
        approve(library, "greeting", "en", by="Lee")
    monkeypatch.undo()
    reloaded = load_library(edited_library)  # the lock and the templates still parse
    with pytest.raises(UnapprovedPhrase, match="'greeting' \\(en\\)"):
        reloaded.require_approved(["greeting"], ["en"])
    reloaded.require_approved(["closing"])  # the other phrases are untouched


def test_an_approved_phrase_is_compiled_once_and_its_approval_checked_on_every_use(edited_library, monkeypatch):
    """A sync run renders one phrase for thousands of tasks: the template is compiled once (the
    compile was most of a first run's own work), while the approval check still runs on every use."""
    library = load_library(edited_library)
    closing = library.phrase("closing", "en")
    compiled = []
    from deskbook.scripts_library import engine

    original_parse = engine.parse
    monkeypatch.setattr(engine, "parse", lambda *a, **k: compiled.append(a[1]) or original_parse(*a, **k))
    first = library.template(closing)
    assert library.template(closing) is first
    assert render_values(library, "closing", "en", closing.examples())
    assert len(compiled) <= 1
    # the same text compiled before stays refused once its approval no longer matches
    with pytest.raises(UnapprovedPhrase, match="'greeting' \\(en\\)"):
        library.template(library.phrase("greeting", "en"))
    with pytest.raises(UnapprovedPhrase, match="'greeting' \\(en\\)"):
        library.template(library.phrase("greeting", "en"))
