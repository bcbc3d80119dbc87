"""Page numbers for list pages: offsets for the query and links that keep the page's other query arguments."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Pager:
    """Page `number` (from 1) of `total` items shown `size` at a time; `path` and `query` rebuild the links."""

    number: int
    size: int
    total: int
    path: str
    query: tuple[tuple[str, str], ...] = ()

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_item(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_item(self) -> int:
        return min(self.total, self.offset + self.size)

    def url(self, number: int) -> str:
        arguments = [(name, value) for name, value in self.query if name != "page" and value != ""]
        if number > 1:
            arguments.append(("page", str(number)))
        return self.path + ("?" + urlencode(arguments) if arguments else "")

    @property
    def previous_url(self) -> str | None:
        return self.url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.number + 1) if self.number < self.pages else None
