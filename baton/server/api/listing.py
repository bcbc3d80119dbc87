"""Shapes shared by the filter, count and paginate endpoints."""

from __future__ import annotations

import math
from typing import Any


def paginated(results: list[Any], count: int, limit: int, page: int) -> dict[str, Any]:
    """The body of a `/paginate` response: `{results, count, limit, pages, page}` as Prefect returns it."""
    pages = math.ceil(count / limit) if limit else 0
    return {"results": results, "count": count, "limit": limit, "pages": pages, "page": page}
