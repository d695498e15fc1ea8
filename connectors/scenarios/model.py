"""Scenario files: reading and checking them (one clear error naming file, step and key).

    name: robot-vacuum                    # defaults to the file name
    title: The robot vacuum that will not charge
    implements: [S-2, S-3]                # SOP ids this scenario proves (when it passes)
    desks: [zendesk, jsm]                 # default: both
    zendesk: {csat: true}                 # sandbox options for the embedded Zendesk desk
    steps:
      - customer_writes: {channel: phone, category: after_sales_issue, priority: normal,
                          subject: "...", body: "..."}
        expect: {group: after_sales, status: new, views: {in: [phone_queue]}}
      - agent_applies: greeting
      - agent_replies: "text"             # a public reply typed by hand (agent_notes: private)
      - agent_sets: {priority: high, field.eta: "2026-03-20", category: complaint}
      - customer_replies: "text"
      - time_passes: {hours: 25}
        expect: {tags: {has: [deskbook_update_due]}}
      - customer_replies: "text"
        expect: {status: open}
        jsm: {expect: {status: new}, why: "JSM sends a request the customer answers back to Waiting for support"}

Expectations (`expect`): `status`, `priority`, `group` (key or null), `category`, `tags: {has,
lacks}`, `fields: {key: value}`, `sla: {policy: key|null, targets: {metric: minutes}}`, `views:
{in: [...], out: [...]}`, `customer_received: [phrase ids]` (the new messages to the customer since
the previous step include each phrase with every placeholder filled), `customer_received_count: n`
(how many new messages the customer got since the previous step), `customer_total: {phrase:
count}` (over the whole story), `metrics: {replies: n, reopens: n}`; what the desk's rules told
agents since the previous step (never the customer: Zendesk trigger emails to agents or groups,
JSM internal comments by the rule actor): `notes: [{phrase: "text it names", alternative: phrase
id whose approved text it carries}]`, `notes_count: n`, `notified: [group keys]`; the customer's
organization record: `organization: {field key: value}` and `organization_writes: n` (how many
times `deskbook sync` wrote the survey record over the whole story). `customer_writes` takes
`organization: <name>` (the customer belongs to it); `sync_runs: {}` runs `deskbook sync`'s S-11
survey job once against the desk, with one ledger for the whole story.

A step's `zendesk:` or `jsm:` entry changes its expectations on that desk only: `expect` keys
given there replace the common ones (a key set to null is not checked on that desk), and `why`
says what the desk does differently (required).

`coverage.yaml` in the same folder lists, per desk, the SOP ids no scenario can prove there:
`not_expressible: {zendesk: [{id: S-1, reason: ...}], jsm: [...]}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from deskbook.errors import DeskbookError
from deskbook.yaml_reading import read_yaml

DESKS = ("zendesk", "jsm")
ACTIONS = ("customer_writes", "agent_applies", "agent_replies", "agent_notes", "agent_sets", "customer_replies",
           "time_passes", "sync_runs")
EXPECT_KEYS = ("status", "priority", "group", "category", "tags", "fields", "sla", "views", "customer_received",
               "customer_received_count", "customer_total", "metrics", "notes", "notes_count", "notified",
               "organization", "organization_writes")
#: Every SOP id a scenario set must account for (../shared/sop/standard-process.md).
SOP_IDS = tuple([f"S-{n}" for n in range(1, 14)] + [f"C-{n}" for n in range(1, 6)]
                + [f"R-{n}" for n in range(1, 6)] + [f"T-{n}" for n in range(1, 5)])


@dataclass(frozen=True)
class Step:
    """One thing that happens, and what the desk should look like afterwards."""

    action: str
    argument: Any
    expect: dict[str, Any]
    say: str = ""
    index: int = 0
    #: desk -> {"expect": {...}, "why": "..."}: what differs on that desk
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def expect_on(self, desk: str | None) -> dict[str, Any]:
        """The expectations on `desk`: the common ones with that desk's override applied."""
        override = (self.overrides.get(desk) or {}).get("expect") if desk else None
        if not override:
            return self.expect
        merged = {**self.expect, **override}
        return {k: v for k, v in merged.items() if v is not None}


@dataclass(frozen=True)
class Scenario:
    """A story that proves SOP ids."""

    name: str
    title: str
    implements: tuple[str, ...]
    steps: tuple[Step, ...]
    desks: tuple[str, ...] = DESKS
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: str = ""


@dataclass(frozen=True)
class ScenarioSet:
    """The scenarios of one playbook plus what each desk cannot express."""

    scenarios: tuple[Scenario, ...]
    not_expressible: dict[str, tuple[tuple[str, str], ...]]
    folder: str


def _fail(where: str, message: str, hint: str | None = None) -> DeskbookError:
    return DeskbookError(message, where=where, hint=hint or "see `deskbook test --help` and connectors/scenarios/model.py")


def _read(path: Path) -> Any:
    try:
        return read_yaml(path.read_text(encoding="utf-8"), yaml.load)
    except OSError as exc:
        raise _fail(str(path), f"cannot read the scenario file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise _fail(where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None


def parse_scenario(data: Any, path: str) -> Scenario:
    """A scenario from its YAML data; DeskbookError naming the file and step when malformed."""
    if not isinstance(data, dict):
        raise _fail(path, "a scenario file holds one mapping (name, implements, steps)")
    unknown = set(data) - {"name", "title", "implements", "desks", "steps", "zendesk", "jsm"}
    if unknown:
        raise _fail(path, f"unknown key(s) {', '.join(sorted(unknown))}")
    implements = tuple(str(i) for i in data.get("implements") or [])
    bad = [i for i in implements if i not in SOP_IDS]
    if bad:
        raise _fail(path, f"implements names unknown SOP id(s) {', '.join(bad)}", f"use ids from {', '.join(SOP_IDS[:3])}...")
    desks = tuple(data.get("desks") or DESKS)
    if set(desks) - set(DESKS):
        raise _fail(path, f"desks must be among {', '.join(DESKS)}")
    steps = []
    for index, raw in enumerate(data.get("steps") or [], start=1):
        where = f"{path} step {index}"
        if not isinstance(raw, dict):
            raise _fail(where, "a step is a mapping with one action and optional expect/say")
        actions = [k for k in raw if k in ACTIONS]
        extra = set(raw) - set(ACTIONS) - {"expect", "say", *DESKS}
        if len(actions) != 1 or extra:
            raise _fail(where, f"a step needs exactly one of {', '.join(ACTIONS)}"
                               + (f" (unknown: {', '.join(sorted(extra))})" if extra else ""))
        expect = raw.get("expect") or {}
        if not isinstance(expect, dict) or set(expect) - set(EXPECT_KEYS):
            raise _fail(where, f"expect takes {', '.join(EXPECT_KEYS)}")
        overrides = {}
        for desk in DESKS:
            if desk not in raw:
                continue
            entry = raw[desk]
            if not isinstance(entry, dict) or set(entry) - {"expect", "why"} or not str(entry.get("why") or "").strip():
                raise _fail(where, f"{desk}: takes expect (what differs on {desk}) and why (the reason, required)")
            changed = entry.get("expect") or {}
            if not isinstance(changed, dict) or set(changed) - set(EXPECT_KEYS):
                raise _fail(where, f"{desk}: expect takes {', '.join(EXPECT_KEYS)}")
            overrides[desk] = {"expect": dict(changed), "why": str(entry["why"])}
        steps.append(Step(actions[0], raw[actions[0]], expect, str(raw.get("say") or ""), index, overrides))
    if not steps:
        raise _fail(path, "a scenario needs steps")
    if steps[0].action != "customer_writes":
        raise _fail(f"{path} step 1", "the first step is customer_writes (the story starts with a request)")
    name = str(data.get("name") or Path(path).stem)
    options = {d: dict(data.get(d) or {}) for d in DESKS if data.get(d)}
    return Scenario(name, str(data.get("title") or name), implements, tuple(steps), desks, options, path)


def scenario_folder(playbook_name: str, playbook_path: str | None = None) -> Path:
    """Where a playbook's scenarios live: beside a playbook file, or in the package for shipped ones."""
    if playbook_path:
        beside = Path(playbook_path).parent / "scenarios" / playbook_name
        if beside.is_dir():
            return beside
    return Path(str(resources.files("deskbook.playbooks") / "scenarios" / playbook_name))


def load_scenarios(folder: Path) -> ScenarioSet:
    """Every `*.yaml` scenario in `folder` (by name) and its `coverage.yaml`."""
    if not folder.is_dir():
        raise _fail(str(folder), "no scenario folder for this playbook",
                    "write scenarios in scenarios/<playbook name>/ beside the playbook file")
    scenarios = [parse_scenario(_read(p), str(p)) for p in sorted(folder.glob("*.yaml")) if p.name != "coverage.yaml"]
    names = [s.name for s in scenarios]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _fail(str(folder), f"two scenarios are named {', '.join(twice)}")
    coverage: dict[str, tuple[tuple[str, str], ...]] = {d: () for d in DESKS}
    cov_path = folder / "coverage.yaml"
    if cov_path.exists():
        data = _read(cov_path) or {}
        for desk, items in (data.get("not_expressible") or {}).items():
            if desk not in DESKS:
                raise _fail(str(cov_path), f"not_expressible names unknown desk {desk!r}")
            entries = []
            for item in items or []:
                if not isinstance(item, dict) or item.get("id") not in SOP_IDS or not item.get("reason"):
                    raise _fail(str(cov_path), f"each not_expressible entry needs an SOP id and a reason: {item!r}")
                entries.append((item["id"], str(item["reason"])))
            coverage[desk] = tuple(entries)
    return ScenarioSet(tuple(scenarios), coverage, str(folder))
