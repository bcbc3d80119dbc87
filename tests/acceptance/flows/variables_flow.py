"""A flow that reads variables with `Variable.get` and writes them with `Variable.set`; its result is what it saw.

The test creates `baton_greeting` and `baton_limits` over the API before the run; the flow creates `baton_created`,
is refused when it sets `baton_greeting` without `overwrite`, then overwrites it.
"""

from __future__ import annotations

import json
from typing import Any, cast

from prefect import flow
from prefect.variables import Variable


@flow
def use_variables() -> dict[str, Any]:
    greeting = Variable.get("baton_greeting")
    limits = Variable.get("baton_limits")
    missing = Variable.get("baton_missing", default="fallback")
    # Variable.set is async_dispatch, typed as possibly a coroutine; in a sync flow it returns the Variable.
    created = cast(Variable[Any], Variable.set("baton_created", "made by a flow", tags=["from-flow"]))
    try:
        Variable.set("baton_greeting", "must not be written")
        refused = False
    except ValueError:
        refused = True
    overwritten = cast(Variable[Any], Variable.set("baton_greeting", "overwritten by a flow", overwrite=True))
    return {
        "greeting": greeting,
        "limits": limits,
        "missing": missing,
        "created": created.model_dump(mode="json"),
        "refused_without_overwrite": refused,
        "overwritten": overwritten.model_dump(mode="json"),
        "greeting_after": Variable.get("baton_greeting"),
    }


if __name__ == "__main__":
    state = use_variables(return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
