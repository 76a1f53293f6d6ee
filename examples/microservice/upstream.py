"""A small fake upstream service for the demo and the tests.

``GET /quotes/<n>`` answers a JSON quote naming the instance that served it;
``GET /health`` answers 200 unless the instance was told to fail
(``POST /admin/fail`` / ``POST /admin/recover``), in which case every route
answers 503.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

__all__ = ["create_upstream"]

_QUOTES = (
    "A pool serves concurrency.",
    "A pool replaces broken connections.",
    "A pool bounds resources.",
    "Sockets live in process memory; shared state lives in Redis.",
)


def create_upstream(name: str, *, latency: float = 0.0) -> FastAPI:
    """A fake upstream called ``name`` that takes ``latency`` seconds per quote."""
    app = FastAPI(title=f"fake upstream {name}")
    state: dict[str, Any] = {"failing": False, "served": 0}
    app.state.upstream = state

    @app.middleware("http")
    async def failing(request: Any, call_next: Any) -> Any:
        if state["failing"] and not request.url.path.startswith("/admin"):
            return JSONResponse({"error": f"{name} is failing"}, status_code=503)
        return await call_next(request)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "name": name}

    @app.get("/quotes/{n}")
    async def quote(n: int) -> dict[str, Any]:
        if latency:
            await asyncio.sleep(latency)  # simulated work, so cache hits are visibly cheaper
        state["served"] += 1
        return {"n": n, "quote": _QUOTES[n % len(_QUOTES)], "served_by": name}

    @app.post("/admin/fail")
    async def fail() -> dict[str, bool]:
        state["failing"] = True
        return {"failing": True}

    @app.post("/admin/recover")
    async def recover() -> dict[str, bool]:
        state["failing"] = False
        return {"failing": False}

    return app
