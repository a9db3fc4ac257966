"""Every service's /docs page loads Swagger UI from the service itself: no CDN, no other host."""

from __future__ import annotations

import importlib
import re

import pytest
from fastapi.testclient import TestClient

SERVICES = ("intake", "scheduling", "complaints", "notifier")
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.fixture(scope="module", params=SERVICES)
def client(request) -> TestClient:
    app = importlib.import_module(f"serambi_{request.param}.main").create_app()
    return TestClient(app)  # no lifespan: nothing is started, the pages are static


def test_the_docs_page_references_no_external_host_and_each_asset_is_served(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    references = [a or b for a, b in REFERENCE.findall(page.text)]
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/openapi.json"} <= set(
        references
    )
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", page.text, re.IGNORECASE)
    for reference in references:
        asset = client.get(reference)
        assert asset.status_code == 200, reference
    assert (
        client.get("/docs/assets/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    )


def test_redoc_which_would_load_from_a_cdn_is_not_offered(client):
    assert client.get("/redoc").status_code == 404


@pytest.mark.parametrize(
    "name", ["index.html", "swagger-initializer.js", "oauth2-redirect.html", "swagger-ui.js.map", "index.j2"]
)
def test_only_the_files_the_page_loads_are_served_not_the_bundle_s_example_pages(client, name):
    assert client.get(f"/docs/assets/{name}").status_code == 404
