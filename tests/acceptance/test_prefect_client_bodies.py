"""Every filter, count and listing call of the official Prefect 3.9.1 client (`flows/client_bodies.py`), with its
default arguments and with typical ones, against one server per database: each call succeeds and returns what the
script created, and schedules sent without a time zone read back as sent. Run against the real Prefect server with
BATON_ACCEPTANCE_SERVER=prefect to check that the assertions describe Prefect's behaviour."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import FlowRunner

pytestmark = pytest.mark.slow


# One database for this module (tests/databases.py on_one_database): The embedded default: the bodies' filters run as
# SQL on both databases in tests/server/api.
ONE_DATABASE = "sqlite"
# Calls the client builds a body for that Prefect's server refuses as well: `read_events()` asks for a page of 100
# events, and the page size of POST /events/filter is at most 50 (422).
REFUSED_BY_PREFECT_TOO = {"read_events()"}


def test_every_listing_call_of_the_client_is_answered(run_flow_once: FlowRunner) -> None:
    outcome = run_flow_once("client_bodies")
    failed = {name: error for name, error in outcome["calls"].items() if error != "ok"}
    assert failed.keys() == REFUSED_BY_PREFECT_TOO, failed
    assert "422" in failed["read_events()"] and "limit" in failed["read_events()"]
    assert len(outcome["calls"]) == 44
    missing = sorted(name for name, seen in outcome["found"].items() if not seen)
    assert missing == [], f"these calls did not return what the script created: {missing}"


def test_schedules_without_a_time_zone_read_back_as_sent(run_flow_once: FlowRunner) -> None:
    outcome = run_flow_once("client_bodies")
    # The client's own comparison (what `flow.serve()` does to check that its schedules persisted).
    assert outcome["schedules_as_sent"] is True
    cron, interval, rrule = outcome["schedules"]
    assert cron == {"cron": "0 9 * * *", "timezone": None, "day_or": True}
    assert interval == {"interval": 3600.0, "anchor_date": "2026-01-01T00:00:00Z", "timezone": "UTC"}
    assert rrule["timezone"] == "UTC" and rrule["rrule"].endswith("FREQ=DAILY")
