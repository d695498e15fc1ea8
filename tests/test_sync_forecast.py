"""`deskbook sync forecast`: tasks per day per job, the same rules as the runner."""

from __future__ import annotations

from datetime import date, timedelta

from deskbook.sync.forecast import forecast
from deskbook.sync.schedule import Organization, ScheduleSettings, WorkCalendar, callback_day, due_for

CAL = WorkCalendar(holidays=((date(2027, 1, 1), date(2027, 1, 1)),))
S = ScheduleSettings(calendar=CAL)


def orgs(n: int) -> list[Organization]:
    tiers = ("key", "regular", "new")
    return [Organization(id=i, name=f"org {i}", tier=tiers[i % 3], contract_end_date=(date(2027, 1, 1) + timedelta(days=i % 200)).isoformat(),
                         first_service_date=(date(2026, 12, 20) + timedelta(days=i % 30)).isoformat()) for i in range(1, n + 1)]


def test_forecast_matches_what_the_runner_would_create_day_by_day():
    """Walk the days as the runner does (creating what is due, remembering it): same counts."""
    population = orgs(600)
    start, days = date(2026, 12, 28), 45
    predicted = forecast(population, start, days, S).rows()
    done: set[str] = set()
    for row in predicted:
        day = date.fromisoformat(row["date"])
        made = {"renewals": 0, "callbacks": 0, "followups": 0}
        for o in population:
            for item in due_for(o, day, S)[0]:
                if item.key not in done:
                    done.add(item.key)
                    made[item.job] += 1
        assert made == {job: row[job] for job in made}, row


def test_done_items_are_not_forecast_and_overdue_ones_count_on_the_first_day():
    o = Organization(id=5, tier="regular")
    day = callback_day(5, date(2027, 1, 10), "quarterly", CAL)
    start = day + timedelta(days=3)
    f = forecast([o], start, 10, S)
    assert f.rows()[0]["callbacks"] == 1  # its day passed during downtime: created at the next run
    assert forecast([o], start, 10, S, done={"deskbook:callbacks:5:2027-Q1"}).rows()[0]["callbacks"] == 0


def test_a_quarter_of_callbacks_has_no_day_above_125_percent_of_the_mean():
    population = [Organization(id=i, tier="regular") for i in range(1000, 31000)]
    f = forecast(population, date(2027, 4, 1), 91, S)
    per_day = [row["callbacks"] for row in f.rows() if CAL.is_workday(date.fromisoformat(row["date"]))]
    assert sum(per_day) == len(population)
    assert max(per_day) <= 1.25 * (sum(per_day) / len(per_day))
    assert all(row["callbacks"] == 0 for row in f.rows() if not CAL.is_workday(date.fromisoformat(row["date"])))
