"""The one pagination convention (serambi_kit.pagination): ``page`` and ``size`` in, ``items``,
``page``, ``size`` and ``total`` out; ``page_size`` and ``limit`` read for one more release."""

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from serambi_kit.pagination import Page, PageRequest, page_query


class NumbersPage(Page[int]):
    pass


def numbers_app() -> FastAPI:
    app = FastAPI()

    @app.get("/numbers", response_model=NumbersPage)
    async def numbers(
        pages: Annotated[PageRequest, Depends(page_query(default=3, maximum=5))],
    ) -> dict[str, Any]:
        everything = list(range(10))
        return pages.answer(everything[pages.skip : pages.skip + pages.size], len(everything))

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(numbers_app())


def test_a_page_is_numbered_from_one_and_counts_every_match(client):
    assert client.get("/numbers").json() == {"items": [0, 1, 2], "page": 1, "size": 3, "total": 10}
    assert client.get("/numbers", params={"page": 3, "size": 4}).json() == {
        "items": [8, 9],
        "page": 3,
        "size": 4,
        "total": 10,
    }


@pytest.mark.parametrize("params", [{"page": 0}, {"size": 0}, {"size": 6}, {"page": 10_001}, {"limit": 6}])
def test_a_page_or_size_out_of_bounds_is_422(client, params):
    assert client.get("/numbers", params=params).status_code == 422


def test_the_former_names_of_size_are_read_when_size_is_not_given(client):
    assert client.get("/numbers", params={"page_size": 2}).json()["items"] == [0, 1]
    assert client.get("/numbers", params={"limit": 1}).json()["items"] == [0]
    assert client.get("/numbers", params={"limit": 1, "size": 2}).json()["size"] == 2


def test_the_openapi_document_marks_the_former_names_deprecated(client):
    parameters = client.get("/openapi.json").json()["paths"]["/numbers"]["get"]["parameters"]
    deprecated = {p["name"] for p in parameters if p.get("deprecated")}
    assert deprecated == {"page_size", "limit"}
    assert {p["name"] for p in parameters} == {"page", "size", "page_size", "limit"}


def test_a_default_above_the_maximum_is_refused():
    with pytest.raises(ValueError):
        page_query(default=300)
