"""Groups to roles: the first rule matching one of the user's groups wins, per workspace."""

from __future__ import annotations

from baton.server.auth.sso.roles import claim_values, roles_by_workspace
from baton.settings import RoleRule, parse_setting_value

RULES = (
    RoleRule(group="baton-admins", role="admin"),
    RoleRule(group="data", role="developer"),
    RoleRule(group="everyone", role="viewer"),
    RoleRule(group="data", role="operator", workspace="analytics"),
)


def test_the_first_matching_rule_gives_the_role_in_each_workspace() -> None:
    assert roles_by_workspace(RULES, ["everyone", "data"]) == {"default": "developer", "analytics": "operator"}
    assert roles_by_workspace(RULES, ["everyone", "baton-admins"]) == {"default": "admin"}
    assert roles_by_workspace(RULES, ["nobody"]) == {}


def test_a_groups_claim_is_a_list_or_one_value() -> None:
    assert claim_values(["a", "b", 3, {"x": 1}]) == ["a", "b", "3"]
    assert claim_values("engineering") == ["engineering"]
    assert claim_values(None) == []


def test_the_setting_is_a_json_list_of_rules() -> None:
    text = (
        '[{"group": "baton-admins", "role": "admin"}, {"group": "data", "role": "operator", "workspace": "analytics"}]'
    )
    assert parse_setting_value("auth_oidc_role_rules", text) == (RULES[0], RULES[3])
