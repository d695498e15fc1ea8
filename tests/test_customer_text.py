"""No customer-visible text leaves deskbook with an unfilled placeholder (issue 12, item 7).

Text a desk sends to the customer without an agent's edit (JSM rules' public comments, manual ones
included; Zendesk triggers' and automations' notifications to the requester) is filled from the desk's
placeholders, the playbook's `constants` or the rule's own group; `plan` fails naming the rule and the
slot when one is left, and the demos install nothing that shows a customer `[公司名称]`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from pathlib import Path

import pytest

from deskbook.cli import main
from deskbook.connectors.jsm import demo as jsm_demo
from deskbook.connectors.jsm import translate as jsm_tr
from deskbook.connectors.jsm.sandbox import running_sandbox as running_jsm_sandbox
from deskbook.connectors.jsm.sandbox.automation import walk
from deskbook.connectors.zendesk import sandbox as zendesk_sandbox
from deskbook.connectors.zendesk import translate as zendesk_tr
from deskbook.connectors.zendesk.sandbox import running_sandbox as running_zendesk_sandbox
from deskbook.errors import DeskbookError
from deskbook.playbooks import model as m
from deskbook.playbooks.loader import load_playbook
from deskbook.scripts_library import load_library, render_for_desk
from deskbook.scripts_library.placeholders import unfilled_slots

MINIMAL = Path(__file__).parent / "data" / "playbooks" / "minimal.yaml"
JSM_ENV = ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JSM_PROJECT", "JIRA_CLOUD_ID")
ZENDESK_ENV = ("ZENDESK_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN")
ARI = "ari:cloud:jira:c:project/10000"


@pytest.fixture(scope="module")
def library():
    return load_library()


def without_constants(text: str) -> str:
    """The playbook text with its `constants:` block removed."""
    return re.sub(r"(?m)^constants:\n(?:[ \t]+.*\n)*", "", text)


def minimal_copy(tmp_path: Path, *, constants: bool, extra: str = "") -> Path:
    path = tmp_path / "playbook.yaml"
    text = MINIMAL.read_text(encoding="utf-8")
    path.write_text((text if constants else without_constants(text)) + extra, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the one check and its slots


def test_unfilled_slots_finds_markers_in_every_locale_and_bare_variable_names():
    text = "您好，这里是[公司名称][部门]。ETA: [ETA]; ref [order_number]; subject [{{ticket.id}}] [x y]"
    assert unfilled_slots(text) == [("[公司名称]", "company_name"), ("[部门]", "department"), ("[ETA]", "eta"),
                                    ("[order_number]", "order_number")]
    assert unfilled_slots("Hello {{reporter.displayName}}, this is Anke Service.") == []


def test_constants_fill_what_the_desk_has_no_placeholder_for_and_desk_placeholders_stay(library):
    constants = {"company_name": "安科服务", "department": "客户服务中心"}
    jsm = render_for_desk(library, "greeting", "zh-CN", "jsm", constants=constants)
    assert "这里是安科服务客户服务中心" in jsm and "{{reporter.displayName}}" in jsm and not unfilled_slots(jsm)
    zendesk = render_for_desk(library, "greeting", "zh-CN", "zendesk", constants=constants)
    assert "{{ticket.brand.name}}{{ticket.group.name}}" in zendesk  # the desk's own placeholders come first
    assert unfilled_slots(render_for_desk(library, "greeting", "zh-CN", "jsm")) == [
        ("[公司名称]", "company_name"), ("[部门]", "department")]


def test_a_constant_is_plain_text(tmp_path):
    bad = minimal_copy(tmp_path, constants=False, extra="constants:\n  company_name: {en: \"{{ticket.brand.name}}\"}\n")
    with pytest.raises(DeskbookError) as caught:
        load_playbook(bad)
    assert "constants.company_name" in str(caught.value) and "desk markup" in str(caught.value)


# ---------------------------------------------------------------- JSM


def test_jsm_public_comment_with_company_slot_fails_naming_the_rule(library, tmp_path):
    playbook = load_playbook(minimal_copy(tmp_path, constants=False))
    with pytest.raises(DeskbookError) as caught:
        jsm_tr.desired_objects(playbook, library, project_ari=ARI)
    error = caught.value
    assert "macro.greeting" in str(error) and "[Company name] (company_name)" in str(error)
    assert "constants.company_name" in error.hint


def test_jsm_constants_and_the_rules_group_fill_the_public_comment(library, tmp_path):
    playbook = load_playbook(minimal_copy(tmp_path, constants=True))
    company = playbook.constants.company_name.get("en")
    rules = {d.key: d.payload for d in jsm_tr.desired_objects(playbook, library, project_ari=ARI)
             if d.kind == "automation_rule"}
    (comment,) = [c["value"]["comment"] for c in rules["macro.greeting"]["components"]
                  if c["type"] == "jira.issue.comment"]
    assert company in comment and not unfilled_slots(comment)
    assert "Front line" in comment  # department: the group the macro hands the request to


def test_jsm_value_only_an_agent_knows_is_refused_unless_the_limit_is_accepted(library, tmp_path):
    playbook = load_playbook(minimal_copy(tmp_path, constants=True))
    macro = dataclasses.replace(playbook.macros[0], comment=m.Comment("progress_update"))
    eta = dataclasses.replace(playbook, macros=(macro,))
    with pytest.raises(DeskbookError) as caught:
        jsm_tr.desired_objects(eta, library, project_ari=ARI)
    assert "macro.greeting" in str(caught.value) and "[ETA] (eta)" in str(caught.value)
    assert "extra.desk_limits.jsm" in caught.value.hint or "desk_limits" in caught.value.hint

    limit = {"desk_limits": {"jsm": {"macro.greeting": {"effect": "without", "note": "agents send the update"}}}}
    accepted = dataclasses.replace(eta, extra=limit)
    rule = next(d.payload for d in jsm_tr.desired_objects(accepted, library, project_ari=ARI)
                if d.key == "macro.greeting")
    (comment,) = [c["value"] for c in rule["components"] if c["type"] == "jira.issue.comment"]
    assert comment["publicComment"] is False and "[ETA]" in comment["comment"]  # a draft for the agent
    notes = jsm_tr.comment_limit_notes(accepted, jsm_tr.desired_objects(accepted, library, project_ari=ARI))
    assert any("macro.greeting" in n and "[ETA]" in n and "agents send the update" in n for n in notes)


def jsm_env(monkeypatch):
    for name in JSM_ENV:
        monkeypatch.delenv(name, raising=False)


def test_jsm_plan_fails_in_one_line_and_writes_nothing(capsys, monkeypatch, tmp_path):
    jsm_env(monkeypatch)
    path = minimal_copy(tmp_path, constants=False)
    with running_jsm_sandbox() as sandbox:
        for name, value in (("JIRA_URL", sandbox.url), ("JIRA_EMAIL", sandbox.email),
                            ("JIRA_API_TOKEN", sandbox.token), ("JSM_PROJECT", sandbox.project_key),
                            ("JIRA_CLOUD_ID", sandbox.cloud_id)):
            monkeypatch.setenv(name, value)
        for command in (["plan"], ["apply", "--doit"]):
            code = main([*command, "--desk", "jsm", "--playbook", str(path)])
            out, err = capsys.readouterr()
            assert code == 1, (out, err)
            lines = [line for line in err.splitlines() if line.strip()]
            assert any("macro.greeting" in line and "[Company name]" in line and "constants.company_name" in line
                       for line in lines), err
            assert "Traceback" not in err
        writes = [r for r in sandbox.requests() if r["method"] in ("POST", "PUT", "DELETE")
                  and not r["path"].startswith("/sandbox/") and "search" not in r["path"]
                  and "/fetch" not in r["path"] and "/rule/summary" not in r["path"]]
        assert writes == []


def texts_left_behind(monkeypatch, module, running, texts) -> list:
    """A list that receives `texts(store)` of the sandbox a demo runs: `module.running_sandbox` is
    replaced by `running` wrapped to read its store once the demo is done with it."""
    seen: list = []

    @contextlib.contextmanager
    def keeping(**options):
        with running(**options) as sandbox:
            yield sandbox
            seen.extend(texts(sandbox.store))

    monkeypatch.setattr(module, "running_sandbox", keeping)
    return seen


def jsm_public_comments(store) -> list[tuple[str, str]]:
    """(rule name, text) of every public comment the JSM sandbox's rules would post."""
    found = []
    for rule in store.all("rule"):
        for node in walk(rule):
            value = node.get("value")
            if node.get("type") == "jira.issue.comment" and isinstance(value, dict) and value.get("publicComment"):
                found.append((rule["name"], value["comment"]))
    return found


def test_jsm_demo_installs_no_rule_with_an_unfilled_placeholder(capsys, monkeypatch):
    jsm_env(monkeypatch)
    seen = texts_left_behind(monkeypatch, jsm_demo, running_jsm_sandbox, jsm_public_comments)
    monkeypatch.setattr(jsm_demo, "demo_week", lambda *a, **k: [])  # the rules are read, not the week (test_report.py)
    assert main(["-q", "demo", "--desk", "jsm", "--seed-orgs", "4"]) == 0
    capsys.readouterr()
    assert len(seen) >= 5
    company = load_playbook().constants.company_name.get()
    assert any(company in text for _, text in seen)
    assert [(name, unfilled_slots(text)) for name, text in seen if unfilled_slots(text)] == []


# ---------------------------------------------------------------- Zendesk


def test_zendesk_trigger_notifying_the_requester_fails_on_a_value_only_an_agent_knows(library, tmp_path):
    playbook = load_playbook(minimal_copy(tmp_path, constants=True))
    trigger = dataclasses.replace(playbook.triggers[0], comment=m.Comment("progress_update"))
    with pytest.raises(DeskbookError) as caught:
        zendesk_tr.desired_objects(dataclasses.replace(playbook, triggers=(trigger,)), library)
    assert "trigger.route_questions" in str(caught.value) and "(eta)" in str(caught.value)
    # the same phrase in an internal note, or in a macro (the agent edits it before sending), is fine
    internal = dataclasses.replace(trigger, comment=m.Comment("progress_update", public=False))
    zendesk_tr.desired_objects(dataclasses.replace(playbook, triggers=(internal,)), library)
    macro = dataclasses.replace(playbook.macros[0], comment=m.Comment("progress_update"))
    zendesk_tr.desired_objects(dataclasses.replace(playbook, macros=(macro,)), library)


def zendesk_customer_texts(store) -> list[tuple[str, str]]:
    """(rule title, text) of every notification a Zendesk sandbox's triggers and automations send the
    requester, with dynamic content placeholders replaced by each variant."""
    items = {item["name"]: item for item in store.all("dynamic_content_item")}
    found = []
    for kind in ("trigger", "automation"):
        for rule in store.all(kind):
            for action in rule.get("actions", []):
                if action.get("field") != "notification_user" or action["value"][0] != "requester_id":
                    continue
                for part in action["value"][1:]:
                    names = re.findall(r"\{\{dc\.([A-Za-z0-9_]+)\}\}", part)
                    texts = [v["content"] for name in names for v in items[name]["variants"]] or [part]
                    found += [(rule["title"], text) for text in texts]
    return found


def test_zendesk_demo_sends_no_customer_an_unfilled_placeholder(capsys, monkeypatch):
    for name in ZENDESK_ENV:
        monkeypatch.delenv(name, raising=False)
    # the demo imports zendesk_sandbox.running_sandbox when it runs
    seen = texts_left_behind(monkeypatch, zendesk_sandbox, running_zendesk_sandbox, zendesk_customer_texts)
    assert main(["-q", "demo", "--seed-orgs", "4"]) == 0
    capsys.readouterr()
    assert seen
    assert [(name, unfilled_slots(text)) for name, text in seen if unfilled_slots(text)] == []


# ---------------------------------------------------------------- init and render use the same constants


def test_init_writes_the_company_and_team_customers_see(tmp_path, capsys):
    target = tmp_path / "mydesk"
    assert main(["init", str(target), "--company", "北极星科技", "--department", "客户成功部"]) == 0
    capsys.readouterr()
    playbook = load_playbook(target / "playbook.yaml")
    for locale in playbook.metadata.locales:
        assert playbook.constants.company_name.get(locale) == "北极星科技"
        assert playbook.constants.department.get(locale) == "客户成功部"
    shipped = (Path(load_playbook().path)).read_text(encoding="utf-8")
    written = (target / "playbook.yaml").read_text(encoding="utf-8")
    changed = [line for line in written.splitlines() if line not in shipped.splitlines()]
    assert len(changed) == 2 and all(line.lstrip().startswith(("company_name:", "department:")) for line in changed)


def test_init_without_the_company_says_the_sample_name_is_to_replace_and_refuses_markup(tmp_path, capsys):
    assert main(["init", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    sample = load_playbook().constants.company_name.get()
    assert "constants" in out and sample in out
    assert main(["init", str(tmp_path / "b"), "--company", "{{ticket.brand.name}}"]) == 1
    assert "desk markup" in capsys.readouterr().err
    assert not (tmp_path / "b" / "playbook.yaml").exists()


def test_render_fills_the_playbooks_constants_in_desk_and_values_mode(tmp_path, capsys):
    path = minimal_copy(tmp_path, constants=True)
    assert main(["render", "greeting", "--locale", "en", "--desk", "jsm", "--playbook", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Minimal Services Service desk" in out and not unfilled_slots(out)
    assert main(["render", "greeting", "--locale", "en", "--desk", "values", "--playbook", str(path),
                 "--var", "customer_name=Ann", "--var", "agent_name=Bo"]) == 0
    assert "Minimal Services Service desk" in capsys.readouterr().out
    assert main(["render", "greeting", "--locale", "en", "--desk", "values", "--playbook", str(path),
                 "--var", "customer_name=Ann", "--var", "agent_name=Bo", "--var", "company_name=Other Co"]) == 0
    assert "Other Co" in capsys.readouterr().out  # a given value wins


def test_render_reads_the_constants_of_a_playbook_that_uses_the_librarys_own_phrases(tmp_path, capsys):
    """The playbook whose constants `render` reads is checked against the library it renders from
    (`--scripts`), as `validate` and `plan` check it: a project's own phrase is no unknown phrase."""
    target = tmp_path / "mydesk"
    assert main(["init", str(target), "--company", "北极星科技"]) == 0
    for locale in ("en", "zh-CN"):
        closing = target / "scripts" / "templates" / locale / "closing.j2"
        own = closing.with_name("our_closing.j2")
        own.write_text(closing.read_text(encoding="utf-8").replace("id: closing", "id: our_closing", 1), encoding="utf-8")
        assert main(["scripts", "approve", "our_closing", "--locale", locale, "--by", "Li Na",
                     "--scripts", str(target / "scripts")]) == 0
    playbook = target / "playbook.yaml"
    playbook.write_text(playbook.read_text(encoding="utf-8").replace("phrase: closing", "phrase: our_closing", 1),
                        encoding="utf-8")
    capsys.readouterr()
    scripts = ["--scripts", str(target / "scripts"), "--playbook", str(playbook)]
    assert main(["validate", str(playbook), "--scripts", str(target / "scripts")]) == 0
    assert main(["render", "greeting", "--locale", "en", "--desk", "jsm", *scripts]) == 0, capsys.readouterr().err
    assert "北极星科技" in capsys.readouterr().out


# ---------------------------------------------------------------- validate


def test_validate_runs_the_customer_visible_check_for_every_desk_offline(capsys, monkeypatch, tmp_path):
    """`validate` runs the check `plan` runs per desk (`placeholders.customer_text_problem` through each
    desk's translation), offline: one line per rule naming file:line:column, the desk, the rule, the
    phrase and the slot, exit 1; the copy with constants passes."""
    for name in (*JSM_ENV, *ZENDESK_ENV):
        monkeypatch.delenv(name, raising=False)
    import requests

    def no_desk_calls(*args, **kwargs):
        raise AssertionError("validate called a desk")

    monkeypatch.setattr(requests.Session, "request", no_desk_calls)
    bad = minimal_copy(tmp_path, constants=False,
                       extra="")  # the macro's public greeting needs constants.company_name on JSM
    text = bad.read_text(encoding="utf-8")
    # a Zendesk trigger that notifies the requester with a value only an agent knows
    bad.write_text(text.replace("      - {field: group, value: frontline}\nautomations:",
                                "      - {field: group, value: frontline}\n    comment: {phrase: progress_update, "
                                "public: true}\nautomations:", 1), encoding="utf-8")
    lines = bad.read_text(encoding="utf-8").splitlines()
    macro_line = next(n for n, line in enumerate(lines, 1) if line.strip() == "- key: greeting")
    trigger_line = next(n for n, line in enumerate(lines, 1) if line.strip() == "- key: route_questions")

    code = main(["validate", str(bad)])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and "Traceback" not in err
    problems = [line for line in err.splitlines() if "customer-visible" in line]
    jsm = [line for line in problems if "macro.greeting" in line]
    assert len(jsm) == 1 and jsm[0].startswith(f"{bad}:{macro_line}:")
    assert "JSM" in jsm[0] and "'greeting'" in jsm[0] and "[Company name] (company_name)" in jsm[0]
    assert "constants.company_name" in jsm[0]
    zendesk = [line for line in problems if "trigger.route_questions" in line and "Zendesk" in line]
    assert zendesk and all(line.startswith(f"{bad}:{trigger_line}:") for line in zendesk)
    assert any("'progress_update'" in line and "(eta)" in line for line in zendesk)
    assert "problem(s)" in err.splitlines()[-1]

    good = tmp_path / "good"
    good.mkdir()
    assert main(["validate", str(minimal_copy(good, constants=True))]) == 0, capsys.readouterr().err
