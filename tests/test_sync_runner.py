"""The runner's exactly-once logic against an in-memory desk (fast, no HTTP)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from deskbook.errors import DeskbookError
from deskbook.sync.desk import OrganizationPage, TaskDraft, TicketPage
from deskbook.sync.jobs import JobSettings, SyncSettings
from deskbook.sync.ledger import Ledger, ledger_path_for
from deskbook.sync.lock import LedgerLock
from deskbook.sync.runner import run_jobs
from deskbook.sync.schedule import Organization, parse_key


class Crash(BaseException):
    """Stands for kill -9 (not caught by the runner)."""


class MemoryDesk:
    """A desk in memory: versioned organizations, tickets, idempotency keys."""

    name = "memory"
    url = "memory://desk"

    def __init__(self, page_size=3):
        self.orgs: dict[int, tuple[int, Organization | None]] = {}  # id -> (version, org or None=deleted)
        self.version = 0
        self.tickets: list[dict] = []
        self.idempotency: dict[str, int] = {}
        self.calls = Counter()
        self.page_size = page_size
        self.crash_after_create = False
        self.fail_keys: set[str] = set()

    def put_org(self, org: Organization):
        self.version += 1
        self.orgs[org.id] = (self.version, org)

    def delete_org(self, org_id: int):
        self.version += 1
        self.orgs[org_id] = (self.version, None)

    def solved_ticket(self, org_id: int, day: str):
        self.version += 1
        self.tickets.append({"id": len(self.tickets) + 1, "org": org_id, "status": "solved", "day": day,
                             "external_id": None, "v": self.version})

    def organization_pages(self, cursor):
        since = int(cursor or 0)
        changed = sorted((v, i, o) for i, (v, o) in self.orgs.items() if v > since)
        for start in range(0, max(len(changed), 1), self.page_size):
            self.calls["GET orgs"] += 1
            chunk = changed[start:start + self.page_size]
            yield OrganizationPage([o for _, _, o in chunk if o], [i for _, i, o in chunk if o is None],
                                   str(chunk[-1][0] if chunk else since))

    def ticket_pages(self, cursor):
        since = int(cursor or 0)
        changed = [t for t in self.tickets if t["v"] > since]
        self.calls["GET tickets"] += 1
        yield TicketPage([(t["org"], t["day"]) for t in changed if t["status"] == "solved" and not t["external_id"]],
                         [(t["external_id"], t["id"]) for t in changed if t["external_id"]],
                         str(max([t["v"] for t in changed], default=since)))

    def find_task(self, key, ticket_id=None):
        self.calls["GET find"] += 1
        ids = [t["id"] for t in self.tickets if t["external_id"] == key]
        return min(ids) if ids else None

    def create_task(self, draft: TaskDraft, on_created=None):
        self.calls["POST ticket"] += 1
        if draft.key in self.fail_keys:
            raise DeskbookError(f"simulated failure for {draft.key}")
        if draft.key in self.idempotency:
            return self.idempotency[draft.key], True
        self.version += 1
        ticket = {"id": len(self.tickets) + 1, "org": draft.organization_id, "status": "new", "day": None,
                  "external_id": draft.key, "v": self.version, "draft": draft}
        self.tickets.append(ticket)
        self.idempotency[draft.key] = ticket["id"]
        if self.crash_after_create:
            raise Crash()
        return ticket["id"], False

    def keys(self) -> Counter:
        return Counter(t["external_id"] for t in self.tickets if t["external_id"])


SETTINGS = SyncSettings(
    default_locale="en",
    jobs={
        "renewals": JobSettings("renewals", "sales", {"en": "Sales", "zh-CN": "销售部"}, "renewal_reminder", ("renewal",)),
        "callbacks": JobSettings("callbacks", "service", {"en": "Service"}, "periodic_callback"),
        "followups": JobSettings("followups", "service", {"en": "Service"}, "new_customer_followup"),
    },
    callback_record_fields=(("callback_time", {"en": "Callback date", "zh-CN": "回访时间"}),
                            ("callback_feedback", {"en": "Callback feedback", "zh-CN": "回访反馈"})),
)
AS_OF = date(2026, 6, 5)
EXPECTED = {
    "deskbook:renewals:1:2026-06-30",
    "deskbook:callbacks:1:2026-06",
    "deskbook:callbacks:2:2026-Q2",
    "deskbook:renewals:3:2026-07-01",
    "deskbook:followups:4:once",
}


@pytest.fixture
def desk():
    d = MemoryDesk()
    d.put_org(Organization(1, "Northwind", "2026-06-30", "key", locale="en"))
    d.put_org(Organization(2, "Contoso", "2027-01-01", "regular", locale="zh-CN", contact_email="li@contoso.example"))
    d.put_org(Organization(3, "Fabrikam", "2026-07-01", "new"))  # renewal due; new tier: no callback
    d.put_org(Organization(4, "Tailspin", None, "new"))
    d.put_org(Organization(5, "Broken", "31.12.2026", "gold"))
    d.solved_ticket(4, "2026-05-20")
    d.solved_ticket(3, "2026-06-03")  # only 2 days ago: follow-up not due yet
    return d


@pytest.fixture
def library():
    from deskbook.scripts_library import load_library

    return load_library()


def run(desk, path, library, **kw):
    ledger = Ledger(path)
    try:
        return run_jobs(desk, ledger, SETTINGS, library, as_of=kw.pop("as_of", AS_OF), **kw)
    finally:
        ledger.close()


def test_first_run_creates_exactly_the_due_items_and_second_run_none(desk, tmp_path, library):
    report = run(desk, tmp_path / "l.sqlite", library)
    assert set(desk.keys()) == EXPECTED and max(desk.keys().values()) == 1
    assert sum(j.created for j in report.jobs.values()) == len(EXPECTED)
    assert report.jobs["renewals"].skipped == 1 and "organization 5 (Broken)" in report.jobs["renewals"].skip_reasons[0]
    assert report.jobs["callbacks"].skipped == 1 and report.failed == 0
    posts = desk.calls["POST ticket"]
    again = run(desk, tmp_path / "l.sqlite", library)
    assert desk.calls["POST ticket"] == posts and sum(j.created for j in again.jobs.values()) == 0
    assert sum(j.already_done for j in again.jobs.values()) == len(EXPECTED)


def test_task_content(desk, tmp_path, library):
    run(desk, tmp_path / "l.sqlite", library)
    drafts = {t["external_id"]: t["draft"] for t in desk.tickets if t["external_id"]}
    renewal = drafts["deskbook:renewals:1:2026-06-30"]
    assert "Northwind" in renewal.note and "2026-06-30" in renewal.note and renewal.group_name == "Sales"
    assert "renewal" in renewal.tags and "deskbook_renewals" in renewal.tags and renewal.requester_email is None
    callback = drafts["deskbook:callbacks:2:2026-Q2"]
    assert callback.requester_email == "li@contoso.example"
    assert "T-4" in callback.note and set(callback.fields) == {"callback_time", "callback_feedback"}
    assert "回访时间" in callback.note and "回访反馈" in callback.note  # zh-CN organization: zh-CN phrase and titles


def test_lost_ledger_creates_nothing_twice(desk, tmp_path, library):
    run(desk, tmp_path / "a.sqlite", library)
    posts = desk.calls["POST ticket"]
    report = run(desk, tmp_path / "fresh.sqlite", library)  # the ticket export tells the new ledger
    assert desk.calls["POST ticket"] == posts
    assert sum(j.already_done for j in report.jobs.values()) == len(EXPECTED)


def test_crash_between_create_and_ledger_write_is_settled_by_lookup(desk, tmp_path, library):
    desk.crash_after_create = True
    with pytest.raises(Crash):
        run(desk, tmp_path / "l.sqlite", library)
    desk.crash_after_create = False
    report = run(desk, tmp_path / "l.sqlite", library)
    assert set(desk.keys()) == EXPECTED and max(desk.keys().values()) == 1
    assert report.failed == 0


def test_contract_moved_and_org_deleted(desk, tmp_path, library):
    run(desk, tmp_path / "l.sqlite", library)
    desk.put_org(Organization(1, "Northwind", "2027-06-30", "key"))  # renewed
    desk.delete_org(3)
    report = run(desk, tmp_path / "l.sqlite", library, as_of=date(2027, 6, 1))
    keys = set(desk.keys())
    assert "deskbook:renewals:1:2027-06-30" in keys and "deskbook:callbacks:1:2027-06" in keys
    assert not any(k.startswith("deskbook:") and ":3:" in k and "2027" in k for k in keys)
    assert max(desk.keys().values()) == 1 and report.organizations == 4


def test_failures_are_counted_and_retried_next_run(desk, tmp_path, library):
    desk.fail_keys = {"deskbook:renewals:1:2026-06-30"}
    report = run(desk, tmp_path / "l.sqlite", library)
    assert report.jobs["renewals"].failed == 1 and "simulated failure" in report.jobs["renewals"].errors[0]
    desk.fail_keys = set()
    report = run(desk, tmp_path / "l.sqlite", library)
    assert report.jobs["renewals"].created == 1 and set(desk.keys()) == EXPECTED


def test_dry_run_creates_nothing(desk, tmp_path, library):
    report = run(desk, tmp_path / "l.sqlite", library, dry_run=True)
    assert desk.keys() == Counter() and sum(j.would_create for j in report.jobs.values()) == len(EXPECTED)


def test_one_job_only(desk, tmp_path, library):
    run(desk, tmp_path / "l.sqlite", library, jobs=("followups",))
    assert set(desk.keys()) == {"deskbook:followups:4:once"}


def test_incremental_daily_run_reads_only_changes(desk, tmp_path, library):
    run(desk, tmp_path / "l.sqlite", library)
    desk.calls.clear()
    run(desk, tmp_path / "l.sqlite", library)
    assert desk.calls["GET orgs"] == 1 and desk.calls["GET tickets"] == 1 and desk.calls["POST ticket"] == 0


def test_lock_refuses_a_second_runner(tmp_path):
    path = tmp_path / "l.sqlite"
    with LedgerLock(path):
        with pytest.raises(DeskbookError, match="already running"):
            LedgerLock(path).acquire()
    LedgerLock(path).acquire().release()  # free again


def test_ledger_location_follows_env(tmp_path, monkeypatch):
    monkeypatch.delenv("DESKBOOK_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert ledger_path_for("zendesk", "http://127.0.0.1:9/").parent == tmp_path / "xdg" / "deskbook"
    monkeypatch.setenv("DESKBOOK_HOME", str(tmp_path / "home"))
    path = ledger_path_for("zendesk", "https://acme.zendesk.com")
    assert path.parent == tmp_path / "home" and "acme.zendesk.com" in path.name
    assert path != ledger_path_for("zendesk", "https://other.zendesk.com")
    assert parse_key("deskbook:followups:4:once") == ("followups", 4, "once")


def test_serve_schedules_daily_at_the_playbook_time_in_its_zone():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from deskbook.sync.serve import SyncService

    service = SyncService(lambda: None, SyncSettings(run_at="09:30", time_zone="Asia/Shanghai"))
    service.schedule_runs()
    (job,) = service.scheduler.get_jobs()
    local = job.next_run.astimezone() if job.next_run.tzinfo else job.next_run.replace(
        tzinfo=datetime.now(timezone.utc).astimezone().tzinfo)
    shanghai = local.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (shanghai.hour, shanghai.minute) == (9, 30)
