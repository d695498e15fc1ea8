"""Sync jobs on the JSM sandbox: expected requests once, then none, also with a lost ledger and faults."""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from datetime import date

import pytest

from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, JsmClient, JsmConnection
from deskbook.connectors.jsm.connector import JsmConnector
from deskbook.connectors.jsm.sandbox import running_sandbox
from deskbook.connectors.jsm.sync_desk import SYNC_LABEL, SYNC_PROPERTY, JsmSyncDesk
from deskbook.http import DeskSession
from deskbook.playbooks import model as m
from deskbook.scripts_library import load_library
from deskbook.sync.jobs import JobSettings, SyncSettings
from deskbook.sync.ledger import Ledger
from deskbook.sync.runner import run_jobs
from deskbook.sync.schedule import Organization, due_for

from conftest import shared_dir
from test_jsm_connector import playbook

SPEC = (shared_dir() / "jsm") if shared_dir() else None
AS_OF = date(2026, 6, 5)
#: (name, contract end, tier, locale, contact email, first resolved request day)
ORGS = [
    ("Northwind", "2026-06-30", "key", "en", None, None),
    ("Contoso", "2027-01-01", "regular", "zh-CN", "li@contoso.example", None),
    ("Fabrikam", "2026-07-01", "new", None, None, "2026-06-03"),
    ("Tailspin", None, "new", "en", None, "2026-05-20"),
]
SETTINGS = SyncSettings(
    playbook_name="jsm-sample",
    default_locale="en",
    jobs={
        "renewals": JobSettings("renewals", "sales", {"en": "Sales"}, "renewal_reminder", ("renewal",), "high"),
        "callbacks": JobSettings("callbacks", "service", {"en": "Service"}, "periodic_callback", ("callback",)),
        "followups": JobSettings("followups", "service", {"en": "Service"}, "new_customer_followup", ("followup",)),
    },
)


def client_for(sandbox) -> JsmClient:
    connection = JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token, cloud_id=sandbox.cloud_id)
    return JsmClient(connection, session=DeskSession(sandbox.url, auth=(sandbox.email, sandbox.token),
                                                     sleep=lambda s: None))


def install(sandbox) -> list[Organization]:
    """Apply the sample playbook (all three sync jobs) and create the organizations."""
    jobs = tuple(m.SyncJob(name, "support", phrase) for name, phrase in (
        ("renewals", "renewal_reminder"), ("callbacks", "periodic_callback"), ("followups", "new_customer_followup")))
    pb = playbook()
    pb = dataclasses.replace(pb, sync=dataclasses.replace(pb.sync, jobs=jobs, tier_field="customer_tier"))
    client = client_for(sandbox)
    connector = JsmConnector(client)
    plan, snapshot = connector.plan_playbook(pb, load_library())
    connector.apply(plan, snapshot)
    types = {t["name"]: t["id"] for t in client.request_types()}
    orgs = []
    for name, end, tier, locale, contact, first in ORGS:
        org = client.create_organization(name)
        client.attach_organization(org["id"])
        if contact:
            customer = client.create_customer(contact, name + " contact")
            client.add_organization_users(org["id"], [customer["accountId"]])
        contract = {"contract_end_date": end, "customer_tier": tier, "locale": locale, "contact_email": contact}
        enter_contract(client, org["id"], contract)
        if first:
            made = first_service(client, types["技术"], org["id"])
            issue = sandbox.store.get("request", made["issueKey"])
            sandbox.store.put("request", made["issueKey"], {**issue, "status": "Resolved",
                                                            "resolutiondate": first + "T09:00:00.000+0000"})
        orgs.append(Organization(int(org["id"]), name, end, tier, first, locale, contact))
    return orgs


def enter_contract(client: JsmClient, org_id, contract: dict) -> None:
    """The contract data where the site keeps it: CSM detail fields (made by apply), else the property."""
    if client.csm_detail_fields() is None:
        client.set_organization_property(org_id, CONTRACT_PROPERTY, contract)
        return
    for name, value in contract.items():
        if value is not None:
            client.set_csm_detail(org_id, name, [value])


def first_service(client: JsmClient, type_id: str, org_id) -> dict:
    """A request of `type_id` for the organization (set through the platform edit: an API-made request
    type's form has no Organizations field)."""
    made = client.create_request(type_id, "first service")
    client.edit_issue(made["issueKey"], fields={client.organizations_field_id(): [int(org_id)]})
    return made


def desk_keys(sandbox) -> Counter:
    return Counter(label for issue in sandbox.store.all("request") for label in issue["labels"]
                   if label.startswith("deskbook:"))


def assert_finished_once(sandbox, expected: set[str]) -> None:
    """Each expected key on exactly one request, which has exactly one internal note and the finished mark."""
    assert desk_keys(sandbox) == Counter({key: 1 for key in expected}), set(desk_keys(sandbox)) ^ expected
    for issue in sandbox.store.all("request"):
        if SYNC_LABEL not in issue["labels"]:
            continue
        key = next(label for label in issue["labels"] if label.startswith("deskbook:"))
        assert [c["public"] for c in issue["comments"]] == [False], (key, issue["comments"])
        assert issue["properties"].get(SYNC_PROPERTY, {}).get("key") == key


@pytest.fixture(params=["csm", "property"])
def sandbox(request):
    """A site with Customer Service Management (contract data in detail fields) and one without (the
    organization property)."""
    with running_sandbox(spec=SPEC, seed=5, csm=request.param == "csm") as handle:
        handle.orgs = install(handle)
        handle.index_caught_up()  # the install is the past: JQL search (FACTS.md 8.2: it lags) has seen it
        yield handle
        assert handle.violations() == []


def run_once(sandbox, ledger_path):
    ledger = Ledger(ledger_path)
    try:
        return run_jobs(JsmSyncDesk(client_for(sandbox)), ledger, SETTINGS, as_of=AS_OF)
    finally:
        ledger.close()


def test_expected_requests_then_none_then_none_with_a_lost_ledger(sandbox, tmp_path):
    expected = {item.key for org in sandbox.orgs for item in due_for(org, AS_OF, SETTINGS.schedule)[0]}
    assert expected
    first = run_once(sandbox, tmp_path / "a.sqlite")
    assert sum(job.created for job in first.jobs.values()) == len(expected)
    assert desk_keys(sandbox) == Counter({key: 1 for key in expected})
    second = run_once(sandbox, tmp_path / "a.sqlite")
    assert sum(job.created for job in second.jobs.values()) == 0
    lost = run_once(sandbox, tmp_path / "b.sqlite")
    assert sum(job.created for job in lost.jobs.values()) == 0
    assert desk_keys(sandbox) == Counter({key: 1 for key in expected})
    issues = [i for i in sandbox.store.all("request") if SYNC_LABEL in i["labels"]]
    assert all(i["properties"][SYNC_PROPERTY]["key"] in expected for i in issues)
    assert all(not c["public"] for i in issues for c in i["comments"]) and all(i["comments"] for i in issues)
    contoso = next(o for o in sandbox.orgs if o.name == "Contoso")
    on_behalf = [i for i in issues if f":{contoso.id}:" in " ".join(i["labels"])]
    assert on_behalf and all(i["reporter"].startswith("qm:") for i in on_behalf)


@pytest.mark.parametrize("knob", ["rate", "write_rate"])
def test_faults_and_lost_answers_do_not_duplicate(sandbox, tmp_path, knob):
    expected = {item.key for org in sandbox.orgs for item in due_for(org, AS_OF, SETTINGS.schedule)[0]}
    setattr(sandbox.app.faults, knob, 0.3)
    for n in range(3):
        run_once(sandbox, tmp_path / f"run{n}.sqlite")
    setattr(sandbox.app.faults, knob, 0.0)
    writes = [r for r in sandbox.requests() if r["method"] == "POST" and r["path"].startswith("/rest/servicedeskapi/request")]
    assert any(r["status"] == 500 for r in writes), "the faults must hit creates or notes for this test to mean much"
    run_once(sandbox, tmp_path / "final.sqlite")
    assert_finished_once(sandbox, expected)


def _raise_unfinished(sandbox, key: str, org_id: int, *, with_note: str | None) -> str:
    """A request as a run killed after the create (and, with `with_note`, after the note) leaves it."""
    client = client_for(sandbox)
    desk = JsmSyncDesk(client)
    made = client.create_request(desk.request_type_id(key.split(":")[1]), "interrupted")
    client.edit_issue(made["issueKey"], fields={client.organizations_field_id(): [org_id]},
                      update={"labels": [{"add": SYNC_LABEL}, {"add": key}]})
    if with_note is not None:
        client.add_comment(made["issueKey"], with_note, public=False)
    return made["issueKey"]


@pytest.mark.parametrize("note_landed", [False, True])
def test_an_unfinished_request_is_finished_not_raised_again(sandbox, tmp_path, note_landed):
    """Killed between the create and the finished mark: the next run (even with a lost ledger)
    adds the note only if it is missing, sets the mark, and raises nothing new."""
    from deskbook.sync.jobs import draft_task

    northwind = next(o for o in sandbox.orgs if o.name == "Northwind")
    item = next(i for i in due_for(northwind, AS_OF, SETTINGS.schedule)[0] if i.job == "callbacks")
    note = draft_task(item, northwind, SETTINGS, load_library()).note
    issue_key = _raise_unfinished(sandbox, item.key, northwind.id, with_note=note if note_landed else None)
    report = run_once(sandbox, tmp_path / "fresh.sqlite")
    assert report.failed == 0
    expected = {i.key for org in sandbox.orgs for i in due_for(org, AS_OF, SETTINGS.schedule)[0]}
    assert_finished_once(sandbox, expected)
    assert sandbox.store.get("request", issue_key)["properties"][SYNC_PROPERTY]["key"] == item.key
    assert report.jobs["callbacks"].already_done >= 1


def test_daily_runs_read_tickets_incrementally_and_see_new_first_service(sandbox, tmp_path):
    """After the first run, the JQL searches ask only for what changed since (relative minutes)."""
    ledger = tmp_path / "a.sqlite"
    run_once(sandbox, ledger)
    sandbox.clear_requests()
    # A first resolved request for Northwind lands after the first run.
    client = client_for(sandbox)
    types = {t["name"]: t["id"] for t in client.request_types()}
    northwind = next(o for o in sandbox.orgs if o.name == "Northwind")
    made = first_service(client, types["技术"], northwind.id)
    issue = sandbox.store.get("request", made["issueKey"])
    sandbox.store.put("request", made["issueKey"], {**issue, "status": "Resolved", "resolutiondate": issue["created"]})
    sandbox.index_caught_up()  # the next day's run: JQL search (FACTS.md 8.2: it lags) has seen it by then
    second = Ledger(ledger)
    try:
        run_jobs(JsmSyncDesk(client_for(sandbox)), second, SETTINGS, as_of=AS_OF)
        assert second.organization(northwind.id).first_service_date == issue["created"][:10]
    finally:
        second.close()
    scans = [r["json"]["jql"] for r in sandbox.requests() if r["path"] == "/rest/api/3/search/jql"]
    scans = [jql for jql in scans if "labels = \"deskbook:" not in jql]  # find_task lookups are by key
    scans = [jql for jql in scans if not jql.endswith("ORDER BY key DESC")]  # the newest key (`_fresh`)
    assert len(scans) == 2 and all(" >= -" in jql for jql in scans), scans


def test_an_organization_deleted_in_jsm_leaves_the_index(sandbox, tmp_path):
    ledger_path = tmp_path / "a.sqlite"
    run_once(sandbox, ledger_path)
    tailspin = next(o for o in sandbox.orgs if o.name == "Tailspin")
    client_for(sandbox).delete_organization(str(tailspin.id))
    run_once(sandbox, ledger_path)
    ledger = Ledger(ledger_path)
    try:
        assert ledger.organization(tailspin.id) is None
        assert ledger.organization_count() == len(sandbox.orgs) - 1
    finally:
        ledger.close()


def test_a_restart_right_after_a_crash_finds_its_request_without_the_search_index(sandbox, tmp_path, monkeypatch):
    """Killed after JSM answered the create but before the note: the ledger kept the issue id, so the
    next run reads that request directly — even while JQL (a lagging index) cannot see it yet."""
    ledger_path = tmp_path / "l.sqlite"
    expected = {i.key for org in sandbox.orgs for i in due_for(org, AS_OF, SETTINGS.schedule)[0]}

    class Killed(BaseException):
        """Stands for SIGKILL: nothing after it runs, no except clause catches it."""

    def killed_after_the_create(self, issue_key, draft, *, check_comments):
        raise Killed

    monkeypatch.setattr(JsmSyncDesk, "_finish", killed_after_the_create)
    ledger = Ledger(ledger_path)
    with pytest.raises(Killed):
        run_jobs(JsmSyncDesk(client_for(sandbox)), ledger, SETTINGS, as_of=AS_OF)
    ledger.close()
    monkeypatch.undo()
    pending = [i for i in sandbox.store.all("request") if SYNC_LABEL in i["labels"]]
    assert len(pending) == 1 and SYNC_PROPERTY not in pending[0]["properties"]

    desk = JsmSyncDesk(client_for(sandbox))
    real_search = desk.client.search
    desk.client.search = lambda jql, **kw: iter(()) if 'labels = "deskbook:' in jql else real_search(jql, **kw)
    ledger = Ledger(ledger_path)
    try:
        report = run_jobs(desk, ledger, SETTINGS, as_of=AS_OF)
    finally:
        ledger.close()
    assert report.failed == 0
    assert_finished_once(sandbox, expected)
    assert sandbox.store.get("request", pending[0]["key"])["properties"][SYNC_PROPERTY]


def test_a_request_left_unfinished_is_finished_after_its_period_has_passed(sandbox, tmp_path, monkeypatch):
    """Killed after the create in June, next run in August: June's callback is no longer due, but its
    request exists, so it still gets its (one) note and the finished mark."""
    from datetime import timedelta

    class Killed(BaseException):
        """Stands for SIGKILL."""

    calls = {"n": 0}
    real_finish = JsmSyncDesk._finish

    def killed_on_the_third_create(self, issue_key, draft, *, check_comments):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed
        return real_finish(self, issue_key, draft, check_comments=check_comments)

    monkeypatch.setattr(JsmSyncDesk, "_finish", killed_on_the_third_create)
    ledger_path = tmp_path / "l.sqlite"
    ledger = Ledger(ledger_path)
    with pytest.raises(Killed):
        run_jobs(JsmSyncDesk(client_for(sandbox)), ledger, SETTINGS, as_of=AS_OF)
    ledger.close()
    monkeypatch.undo()
    left = [i for i in sandbox.store.all("request") if SYNC_LABEL in i["labels"] and SYNC_PROPERTY not in i["properties"]]
    assert len(left) == 1
    key = next(label for label in left[0]["labels"] if label.startswith("deskbook:"))
    later = AS_OF + timedelta(days=70)
    assert key not in {i.key for org in sandbox.orgs for i in due_for(org, later, SETTINGS.schedule)[0]}
    ledger = Ledger(ledger_path)
    try:
        report = run_jobs(JsmSyncDesk(client_for(sandbox)), ledger, SETTINGS, as_of=later)
        assert ledger.item_state(key)[0] == "done"
    finally:
        ledger.close()
    assert report.failed == 0
    finished = sandbox.store.get("request", left[0]["key"])
    assert finished["properties"][SYNC_PROPERTY]["key"] == key
    assert [c["public"] for c in finished["comments"]] == [False]


def test_an_organization_a_shifted_scan_missed_is_kept(sandbox, tmp_path):
    """A deletion while the scan pages through shifts the offsets, so a live organization can be
    missing from the listing: it stays in the index because JSM still answers for it."""
    ledger_path = tmp_path / "a.sqlite"
    run_once(sandbox, ledger_path)
    contoso = next(o for o in sandbox.orgs if o.name == "Contoso")
    desk = JsmSyncDesk(client_for(sandbox))
    listed = desk.client.iter_organizations
    desk.client.iter_organizations = lambda: (o for o in listed() if int(o["id"]) != contoso.id)
    ledger = Ledger(ledger_path)
    try:
        run_jobs(desk, ledger, SETTINGS, as_of=AS_OF)
        assert ledger.organization(contoso.id) is not None
        assert ledger.organization_count() == len(sandbox.orgs)
    finally:
        ledger.close()


def test_requests_name_the_customer_by_account_id_and_only_this_desks_organizations_get_tasks(sandbox, tmp_path):
    """raiseOnBehalfOf takes account ids only (a contact who is not a customer yet is created), the
    Organizations field is the site's (found in /field by schema), the key reaches requests whose form
    has no labels, and an organization of another desk (site-wide, not attached) gets nothing."""
    client = client_for(sandbox)
    initech = client.create_organization("Initech")
    client.attach_organization(initech["id"])
    enter_contract(client, initech["id"], {
        "contract_end_date": "2026-06-20", "customer_tier": "key", "locale": "en", "contact_email": "boss@initech.example"})
    other = client.create_organization("Other desk's customer")
    enter_contract(client, other["id"], {
        "contract_end_date": "2026-06-20", "customer_tier": "key", "locale": "en", "contact_email": None})
    sandbox.clear_requests()
    run_once(sandbox, tmp_path / "a.sqlite")
    creates = [r["json"] for r in sandbox.requests() if r["method"] == "POST" and r["path"] == "/rest/servicedeskapi/request"]
    assert creates and all("@" not in str(body.get("raiseOnBehalfOf", "")) for body in creates)
    assert all(set(body["requestFieldValues"]) == {"summary"} for body in creates)  # the form has only summary
    made = [r for r in sandbox.requests() if r["method"] == "POST" and r["path"] == "/rest/servicedeskapi/customer"]
    assert [r["json"]["email"] for r in made] == ["boss@initech.example"]
    ours = [i for i in sandbox.store.all("request") if SYNC_LABEL in i["labels"]]
    initech_tasks = [i for i in ours if i["organizations"] == [initech["id"]]]
    boss = sandbox.store.lookup("customer", "emailAddress", "boss@initech.example")["accountId"]
    assert initech_tasks and {i["reporter"] for i in initech_tasks} == {boss}
    assert not [i for i in ours if other["id"] in i["organizations"]]
    assert all(i["organizations"] for i in ours)


@contextlib.contextmanager
def create_answers_lost(sandbox):
    """While the block runs, every request create is made and its caller answered a 500 (a lost answer)."""
    real_create = sandbox.app.on_request_create

    def answer_lost(request, body):
        real_create(request, body)
        return sandbox.app.json({"errorMessage": "Injected sandbox fault after the write."}, 500)

    sandbox.app.on_request_create = answer_lost
    try:
        yield
    finally:
        del sandbox.app.on_request_create


def test_a_create_whose_answer_was_lost_is_found_by_summary_and_finished_not_raised_again(sandbox, tmp_path):
    """The form takes no labels, so a request whose create answer was lost has no key yet: the next run
    (even with a lost ledger) finds it among the job's recent requests by summary and requester."""
    expected = {item.key for org in sandbox.orgs for item in due_for(org, AS_OF, SETTINGS.schedule)[0]}
    with create_answers_lost(sandbox):
        run_once(sandbox, tmp_path / "a.sqlite")
    keyless = [i for i in sandbox.store.all("request") if i["summary"] != "first service" and not i["labels"]]
    assert keyless, "the first run must leave requests without their key"
    run_once(sandbox, tmp_path / "b.sqlite")
    assert_finished_once(sandbox, expected)
    assert all(sandbox.store.get("request", i["key"])["labels"] for i in keyless)


def test_a_scan_reads_contract_data_25_organizations_a_call_with_csm_else_each_property(sandbox):
    """2eeccbc's promise, in API calls: with CSM one profile fetch per 25 organizations of a scan page
    (FACTS.md 5.6) and no property read for an organization whose detail fields hold its contract;
    without CSM, the contract property of each organization."""
    client = client_for(sandbox)
    for n in range(26):
        org = client.create_organization(f"Customer {n}")
        client.attach_organization(org["id"])
        enter_contract(client, org["id"], {"contract_end_date": "2026-06-20", "customer_tier": "key", "locale": "en",
                                           "contact_email": None})
    count = len(sandbox.orgs) + 26
    reader = client_for(sandbox)
    pages = list(JsmSyncDesk(reader).organization_pages(None))
    found = [o for page in pages for o in page.organizations]
    assert len(found) == count and all(o.contract_end_date for o in found if o.name.startswith("Customer "))
    fetches = reader.calls["POST /jsm/csm/cloudid/{id}/api/v1/organization/profile/fetch"]
    properties = sum(n for k, n in reader.calls.items() if k.startswith("GET /rest/servicedeskapi/organization/{id}/property/"))
    if client.csm_detail_fields() is None:
        assert (fetches, properties) == (0, count)
    else:
        in_details = sum(1 for o in sandbox.orgs if o.contract_end_date or o.tier or o.locale or o.contact_email)
        assert fetches == sum(-(-len(page.organizations) // 25) for page in pages) == 2
        assert properties == count - 26 - in_details  # only organizations whose details hold nothing


def test_a_ledger_that_settled_a_run_looks_for_keyless_creates_only_where_one_may_have_landed(sandbox, tmp_path):
    """Before raising a request, the desk lists the job's requests of the last days to find one whose
    create answer was lost (it has no key yet). That is needed only where an attempt may have landed
    unrecorded: a pending item, or a new or rebuilt ledger's first run. A healthy ledger's next day does
    not list them (it read every request of the last three days again, each day: 9 pages a day after a
    first run of 896 at 2,000 organizations, hundreds at 100,000)."""
    from datetime import timedelta

    def lookups():
        return [r for r in sandbox.requests() if r["path"] == "/rest/api/3/search/jql"  # the orphan lookup's JQL
                and '"Request Type" =' in str((r.get("json") or {}).get("jql") or r.get("query") or "")]

    sandbox.reset_log()
    first = run_once(sandbox, tmp_path / "a.sqlite")  # a new ledger: it looks
    assert sum(job.created for job in first.jobs.values()) and lookups()
    later = AS_OF + timedelta(days=40)  # new items are due
    sandbox.reset_log()
    ledger = Ledger(tmp_path / "a.sqlite")
    try:
        again = run_jobs(JsmSyncDesk(client_for(sandbox)), ledger, SETTINGS, as_of=later)
    finally:
        ledger.close()
    assert sum(job.created for job in again.jobs.values()) > 0
    assert lookups() == [], [r.get("json") for r in lookups()]
    sandbox.reset_log()
    lost = Ledger(tmp_path / "lost.sqlite")  # a rebuilt ledger looks again
    try:
        run_jobs(JsmSyncDesk(client_for(sandbox)), lost, SETTINGS, as_of=later + timedelta(days=40))
    finally:
        lost.close()
    assert lookups()
