"""A simulated week of traffic on an embedded sandbox desk, for `deskbook demo` to report on.

Customers write by phone, chat, web and email over seven days (fewer at the weekend); agents
greet, answer, escalate, update, resolve, confirm and close with the playbook's macros; complaints
get their root cause and remedy recorded; the customers answer the phone survey (the three S-11
scores) and some rate the ticket on the desk; some replies come late enough to breach an SLA
target; some requests stay open; the relationship tasks the sync jobs made are worked through in
part. Every step is an API call of a scenario driver, at its moment on the sandbox's clock
(`time_passes`: Zendesk's automations run hourly, JSM's scheduled rules when their cron fires);
the desk's own rating is the driver's `customer_rates` (Zendesk: the click on the rating link, good
or bad; JSM: request feedback, 1-5). The same stories run on either desk: the driver
(`connectors/scenarios/zendesk_driver.py`, `jsm_driver.py`) says which of its attributes name the
ticket a step acts on (`CURRENT`), and `simulate_week` switches them between stories. What a desk
keeps differently stays the driver's business (JSM records no phone or chat channel, keeps
choice fields as labels). Seeded (`random.Random`), so a week is reproducible.

Stories are generators that yield the minutes to wait before their next step; `simulate_week`
interleaves them in time order. `review_week` is what both demos end with: the week, then its
review read back with the desk's reader and written as deskbook-report.html/.json.
"""

from __future__ import annotations

import functools
import heapq
import random
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

#: requests a day, Monday first
DAILY = (9, 8, 9, 8, 7, 3, 2)
HOUR = 60
DAY = 24 * 60


class Week:
    """Runs stories on one driver (its current ticket switched per step)."""

    def __init__(self, driver: Any, playbook: Any, rng: random.Random):
        self.driver = driver
        self.playbook = playbook
        self.rng = rng
        self.stats: dict[str, int] = {}
        self.locale = playbook.metadata.default_locale

    def count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    # ------------------------------------------------------------ helpers a story uses

    def phrase(self, en: str, zh: str) -> str:
        return zh if self.locale == "zh-CN" else en

    def scores(self, low: bool = False) -> dict[str, str]:
        pick = (lambda: self.rng.choice((1, 2, 2, 3))) if low else (lambda: self.rng.choice((3, 4, 4, 5, 5, 5)))
        values = {f"field.{f}": f"score_{pick()}" for f in ("score_response_speed", "score_resolution", "score_attitude")}
        if self.rng.random() < 0.4:
            values["field.survey_suggestions"] = self.phrase("Faster callbacks, please.", "希望回电再快一些。")
        return values

    def survey(self, low: bool = False) -> Iterator[float]:
        """The phone survey within the day (S-11: its macro, then the scores and suggestions
        entered), and sometimes the desk's own rating."""
        yield self.rng.uniform(2 * HOUR, 20 * HOUR)
        self.driver.agent_applies("phone_survey")
        self.driver.agent_sets(self.scores(low))
        self.count("surveys")
        if self.rng.random() < 0.6:
            yield self.rng.uniform(10, 6 * HOUR)
            chance = 0.6 if low else 0.1
            draw = self.rng.random()
            bad = draw < chance
            # 1-5 as JSM asks (Zendesk keeps good/bad): the lower half of each side is the milder answer
            rating = (1 if draw < chance / 2 else 2) if bad else (4 if draw < (1 + chance) / 2 else 5)
            self.driver.customer_rates({"rating": rating, "comment": self.phrase("Slow" if bad else "Thanks!",
                                                                               "太慢了" if bad else "谢谢！")})
            self.count("ratings")

    # ------------------------------------------------------------ stories

    def online_question(self) -> Iterator[float]:
        """Chat or web: a question answered at once (or a little late), resolved at first contact."""
        self.driver.customer_writes({"channel": self.rng.choice(("chat", "web")), "priority": "normal",
                                     "category": self.rng.choice(("product_question", "process_question", "policy_question")),
                                     "subject": self.phrase("How do I reset the robot vacuum?", "扫地机器人怎么重置？")})
        yield self.rng.choice((0.5, 0.8, 1.5, 3))  # online target: 1 minute
        self.driver.agent_applies("greeting")
        yield self.rng.uniform(3, 15)
        self.driver.agent_replies(self.phrase("Hold the home button for five seconds.", "长按主页键五秒即可。"))
        self.driver.agent_sets({"field.first_contact_resolution": True})
        yield 2
        self.driver.agent_applies("closing")
        self.count("solved")
        yield from self.survey()

    def phone_fault(self) -> Iterator[float]:
        """Phone: a fault escalated to technical support, updated, resolved, confirmed, closed."""
        self.driver.customer_writes({"channel": "phone", "priority": self.rng.choice(("normal", "high")),
                                     "category": "fault",
                                     "subject": self.phrase("The robot vacuum will not charge", "扫地机器人无法充电")})
        yield self.rng.uniform(5, 50)  # standard target: 30 business minutes
        self.driver.agent_applies("greeting")
        yield 5
        self.driver.agent_applies("escalate_technical")
        self.count("escalations")
        yield self.rng.uniform(18 * HOUR, 30 * HOUR)  # periodic update: every 24 hours
        self.driver.agent_applies("progress_update")
        yield self.rng.uniform(2 * HOUR, 10 * HOUR)
        self.driver.agent_applies("owner_resolved")
        yield self.rng.uniform(20, 90)  # confirmation target: 60 minutes
        self.driver.agent_applies("confirm_resolution")
        yield self.rng.uniform(HOUR, 8 * HOUR)
        self.driver.customer_replies(self.phrase("It charges again, thank you.", "可以充电了，谢谢。"))
        yield 15
        self.driver.agent_applies("closing")
        self.count("solved")
        yield from self.survey()

    def complaint(self, careless: bool = False) -> Iterator[float]:
        """A complaint: acknowledged, facts verified, root cause and remedy recorded and agreed."""
        self.driver.customer_writes({"channel": self.rng.choice(("email", "phone", "web")), "priority": "normal",
                                     "category": "complaint",
                                     "subject": self.phrase("Engineer missed the appointment", "工程师未按约上门")})
        yield self.rng.uniform(10, 70)
        self.driver.agent_applies("complaint_acknowledge")
        self.count("complaints")
        if careless:  # the reply C-1 forbids; the guardrail rule (when installed) tags the ticket
            yield 20
            phrase = (self.playbook.forbidden_phrases.get(self.locale) or ("",))[0]
            self.driver.agent_replies(self.phrase(f"Sorry, but {phrase}.", f"抱歉，{phrase}。"))
            self.count("forbidden_phrase_replies")
        yield self.rng.uniform(HOUR, 3 * HOUR)
        self.driver.agent_applies("complaint_facts_verified")
        root = self.rng.choice(("cause_service_attitude", "cause_product_quality", "cause_process_gap", "cause_external"))
        remedy = self.rng.choice(("remedy_apology", "remedy_goodwill_gift", "remedy_refund", "remedy_free_replacement"))
        demand = self.rng.random() < 0.3
        self.driver.agent_sets({"field.root_cause": root, "field.remedy": remedy, "field.compensation_demand": demand})
        yield self.rng.uniform(2 * HOUR, 12 * HOUR)
        self.driver.agent_applies("complaint_remedy")
        yield self.rng.uniform(2 * HOUR, 20 * HOUR)
        self.driver.customer_replies(self.phrase("Agreed.", "同意这个方案。"))
        self.driver.agent_sets({"field.remedy_agreed": True})
        yield 10
        self.driver.agent_applies("closing")
        self.count("solved")
        yield from self.survey(low=self.rng.random() < 0.6)

    def careless_complaint(self) -> Iterator[float]:
        """A complaint with a blame-shifting reply in it (C-1)."""
        return self.complaint(careless=True)

    def open_case(self) -> Iterator[float]:
        """After-sales by email: answered late, waiting on a part — still open at the week's end."""
        self.driver.customer_writes({"channel": "email", "priority": "normal", "category": "after_sales_issue",
                                     "subject": self.phrase("Replacement brush not delivered", "替换滚刷未送达")})
        yield self.rng.uniform(40, 5 * HOUR)
        self.driver.agent_applies("greeting")
        yield self.rng.uniform(HOUR, 4 * HOUR)
        self.driver.agent_applies("callback_promise")

    def task(self, ticket_id: Any, macro: str) -> Iterator[float]:
        """A relationship task (made by the sync jobs) worked and solved."""
        yield 0
        setattr(self.driver, self.driver.CURRENT[0], ticket_id)
        self.driver.agent_applies(macro)
        self.driver.agent_sets({"status": "solved"})
        self.count("tasks_done")


def simulate_week(driver: Any, playbook: Any, *, start: float, seed: int = 7,
                  tasks: Sequence[tuple[Any, str]] = ()) -> dict[str, int]:
    """Seven days of traffic from `start` (epoch seconds, the present of the sandbox clock,
    `driver.handle.clock`); `tasks` (ticket id or key, macro) are relationship tasks to work
    through during the week. Returns counts of what happened; the clock ends at `start` + 7 days."""
    rng = random.Random(seed)
    clock = driver.handle.clock
    week = Week(driver, playbook, rng)
    queue: list[tuple[float, int, Iterator[float], dict[str, Any]]] = []
    order = 0

    def begin(at: float, story: Callable[[], Iterator[float]]) -> None:
        nonlocal order
        order += 1
        empty: dict[str, Any] = {}
        heapq.heappush(queue, (at, order, story(), empty))

    kinds = [(week.online_question, 0.4), (week.phone_fault, 0.25), (week.complaint, 0.15), (week.open_case, 0.2)]
    careless = 2
    for day, count in enumerate(DAILY):
        for _ in range(count):
            at = start + day * DAY * 60 + rng.uniform(7.5 * HOUR, 21 * HOUR) * 60
            chosen = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
            if chosen == week.complaint and careless:
                careless -= 1
                begin(at, week.careless_complaint)
            else:
                begin(at, chosen)
    for n, (ticket_id, macro) in enumerate(tasks):
        begin(start + (n % 5) * DAY * 60 + rng.uniform(9 * HOUR, 17 * HOUR) * 60,
              functools.partial(week.task, ticket_id, macro))
    end = start + 7 * DAY * 60
    while queue:
        at, seq, story, where = heapq.heappop(queue)
        if at >= end:
            continue
        now = clock.now()
        if at > now:
            driver.time_passes({"minutes": (at - now) / 60})
        for name in driver.CURRENT:
            setattr(driver, name, where.get(name))
        try:
            wait = next(story)
        except StopIteration:
            continue
        where.update({name: getattr(driver, name) for name in driver.CURRENT})
        heapq.heappush(queue, (clock.now() + wait * 60, seq, story, where))
    now = clock.now()
    if end > now:
        driver.time_passes({"minutes": (end - now) / 60})
    week.stats["requests"] = sum(DAILY)
    return week.stats


def review_week(driver: Any, playbook: Any, window: tuple[float, float, str], read: Callable[[], Any], *,
                tasks: Sequence[tuple[Any, str]] = (), directory: Path | None = None) -> list[str]:
    """A demo's last steps: the simulated week of `window` on `driver`, two in three of `tasks` (the
    relationship tasks the sync jobs made) worked through, then the week's review from `read()` (the
    desk's report reader, a `DeskData`) written as deskbook-report.html/.json in `directory` (default:
    the working directory). Returns the lines the demo prints."""
    from deskbook.connectors.report.cli import compute_and_write

    stats = simulate_week(driver, playbook, start=window[0], tasks=tasks[: len(tasks) * 2 // 3])
    lines = [f"5. a simulated week {window[2]}: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())) + "."]
    folder = directory or Path.cwd()
    html, js = folder / "deskbook-report.html", folder / "deskbook-report.json"
    report = compute_and_write(playbook, read(), window, html=str(html), json_path=str(js))
    lines.append(f"6. the week's review, read in {report['requests']['total']} requests:")
    lines += [f"   {html}", f"   {js}"]
    return lines
