"""One pagination convention for every listing of every service (docs/portal-apis.md, *Pages*).

A listing takes ``page`` (1-based, at most ``PAGE_MAX``) and ``size`` (1 to ``SIZE_MAX``, or
the route's smaller maximum) as query parameters, through the dependency a route
declares as ``pages: Annotated[PageRequest, Depends(page_query(...))]``, and answers a
``Page[Item]``: ``items``, ``page``, ``size`` and ``total`` (all matches), plus any fields of the
listing's own (a dead-letter page's ``service``, ``status`` and ``next_before``).

Deprecated, for one release: ``page_size`` (complaints' queue, the notifier's delivery log)
and ``limit`` (the dead-letter listings) are still read as ``size`` when ``size`` is not given;
the OpenAPI documents mark them deprecated. They go in the release after.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

PAGE_MAX = 10_000
SIZE_MAX = 200

Item = TypeVar("Item")


@dataclass(frozen=True)
class PageRequest:
    """The page a listing was asked for."""

    page: int = 1
    size: int = 50

    @property
    def skip(self) -> int:
        """How many matches come before this page."""
        return (self.page - 1) * self.size

    def answer(self, items: list[Any], total: int, **extra: Any) -> dict[str, Any]:
        """The page envelope (``Page``'s fields) around ``items``."""
        return {"items": items, "page": self.page, "size": self.size, "total": total, **extra}


class Page(BaseModel, Generic[Item]):
    """A page of a listing; a listing's response model subclasses ``Page[ItsItem]``."""

    items: list[Item]
    page: int = Field(description="1-based")
    size: int = Field(description="the largest number of items a page holds")
    total: int = Field(description="all matches, on every page")


def page_query(default: int = 50, maximum: int = SIZE_MAX) -> Callable[..., PageRequest]:
    """A FastAPI dependency reading ``page`` and ``size`` (``default``; at most ``maximum``)."""
    if not 1 <= default <= maximum <= SIZE_MAX:
        raise ValueError(f"page size: 1 <= default ({default}) <= maximum ({maximum}) <= {SIZE_MAX}")
    deprecated = f"deprecated: the former name of ``size``, read when ``size`` is not given (1 to {maximum})"

    def page_request(
        page: Annotated[int, Query(ge=1, le=PAGE_MAX, description="1-based page number")] = 1,
        size: Annotated[
            int | None,
            Query(ge=1, le=maximum, description=f"items per page, 1 to {maximum} (default {default})"),
        ] = None,
        page_size: Annotated[
            int | None, Query(ge=1, le=maximum, deprecated=True, description=deprecated)
        ] = None,
        limit: Annotated[int | None, Query(ge=1, le=maximum, deprecated=True, description=deprecated)] = None,
    ) -> PageRequest:
        chosen = next((value for value in (size, page_size, limit) if value is not None), default)
        return PageRequest(page=page, size=chosen)

    return page_request
