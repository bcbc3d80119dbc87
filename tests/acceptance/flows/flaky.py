"""A flow that fails on its first attempt and succeeds on the retry; argv[1] is a marker file that counts attempts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prefect import flow


class FirstAttemptFailed(Exception):
    pass


@flow(retries=2, retry_delay_seconds=0)
def flaky(marker: str) -> int:
    attempts = Path(marker)
    count = int(attempts.read_text()) + 1 if attempts.exists() else 1
    attempts.write_text(str(count))
    if count == 1:
        raise FirstAttemptFailed("failing the first attempt on purpose")
    return count


if __name__ == "__main__":
    state = flaky(sys.argv[1], return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
