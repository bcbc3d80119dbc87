"""Schedules in words and the Run form's fields read from a parameter schema (no browser)."""

from __future__ import annotations

from baton.webui.parameter_form import parameter_fields
from baton.webui.schedule_text import describe_schedule


def test_schedules_in_words() -> None:
    assert describe_schedule({"interval": 60.0, "timezone": "UTC"}) == "every 1 minute"
    assert describe_schedule({"interval": 90}) == "every 90 seconds"
    assert describe_schedule({"interval": 7200}) == "every 2 hours"
    assert describe_schedule({"interval": 86400, "timezone": "Europe/Paris"}) == "every 1 day (Europe/Paris)"
    assert describe_schedule({"interval": 1.5}) == "every 1.5 seconds"
    assert describe_schedule({"cron": "0 9 * * *", "timezone": "America/New_York"}) == (
        "cron 0 9 * * * (America/New_York)"
    )
    assert describe_schedule({"rrule": "FREQ=DAILY", "timezone": "UTC"}) == "rrule FREQ=DAILY"
    assert describe_schedule({}) == "unknown schedule"


def test_fields_from_a_prefect_parameter_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "when": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "position": 2},
            "name": {"title": "Name", "type": "string", "position": 0},
            "color": {"allOf": [{"$ref": "#/definitions/Color"}], "default": "red", "position": 1},
            "flag": {"type": "boolean", "default": True, "position": 3},
            "items": {"type": "array", "items": {"type": "string"}, "position": 4},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string"}], "default": 3, "position": 5},
        },
        "required": ["name"],
        "definitions": {"Color": {"enum": ["red", "green"], "type": "string"}},
    }
    fields = parameter_fields(schema, {"items": ["a"]})
    assert [(f.name, f.kind, f.required) for f in fields] == [
        ("name", "string", True),
        ("color", "enum", False),
        ("when", "integer", False),
        ("flag", "boolean", False),
        ("items", "json", False),
        ("either", "json", False),
    ]
    by_name = {f.name: f for f in fields}
    assert by_name["color"].choices == ("red", "green") and by_name["color"].value == "red"
    assert by_name["when"].value == "" and by_name["flag"].checked
    assert by_name["items"].value == '[\n  "a"\n]' and by_name["either"].value == "3"
    assert parameter_fields(None, None) == []
