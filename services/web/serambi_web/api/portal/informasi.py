"""Informasi layanan: the bureau's service standard, from the content file."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..deps import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def informasi(request: Request) -> HTMLResponse:
    return render(request, "informasi.html")
