"""Each service's ``/docs`` (Swagger UI) with its assets served by the service itself, from the
``swagger-ui-bundle-v2`` package: no CDN, so the page works on a closed network. ReDoc (which
loads its script and fonts from elsewhere) is not offered; ``/openapi.json`` is the schema.

Only the three files the page loads are served: the bundle's directory also holds an
``index.html`` that loads the petstore example from petstore.swagger.io, and more."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def serve_docs(app: FastAPI, title: str) -> None:
    """``GET /docs`` and its three ``/docs/assets/…`` (the app has ``docs_url=None``)."""

    @app.get(ASSETS + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in FILES:
            raise HTTPException(404, "not found")
        return FileResponse(
            Path(swagger_ui_path) / name,
            media_type=FILES[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # never ask validator.swagger.io
        )
