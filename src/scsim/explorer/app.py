"""The explorer web app: a read-only FastAPI app over the run directories it was given.

Runs are addressed by their index or name (never by a path from the request); citizen ids
must be integers in range; query strings and pages are capped. Every error is JSON
``{"error": message}``. Static files are served from a fixed table, plotly.js included (from
the plotly package, never a CDN).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import pyarrow.parquet as pq
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from scsim.explorer.data import citizen_summary, people_columns, search
from scsim.explorer.whatif import MAX_BODY, Limits, add_whatif, post_allowed
from scsim.lookup import lookup
from scsim.query import plain_json
from scsim.runs import Run, open_run

STATIC = Path(__file__).parent / "static"
MAX_PAGE_SIZE = 100
MAX_QUERY_CHARS = 512
MAX_PATH_CHARS = 256
SERIES = ("day", "mean_score", "score_p05", "score_p95")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
INTEGER = re.compile(r"-?[0-9]{1,19}")
ASSETS = {
    "explorer.js": "text/javascript",
    "explorer.css": "text/css",
    "whatif.js": "text/javascript",
}


@cache
def plotly_js() -> str:
    """plotly.js as shipped inside the plotly package."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _labels(runs: Sequence[Run]) -> list[str]:
    names = [r.name for r in runs]
    return [n if names.count(n) == 1 else f"{n}-{k}" for k, n in enumerate(names)]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path"))
        parts.append(f"{where}: {e.get('input')!r} is not allowed; {e.get('msg', '').lower()}")
    return "; ".join(parts)


def create_app(
    run_dirs: Sequence[str | Path | Run], whatif_limits: Limits | None = None
) -> FastAPI:
    """The explorer app over these run directories (each checked complete, opened read-only),
    with the what-if page (``whatif_limits``: its size limits; tests lower them)."""
    runs = [r if isinstance(r, Run) else open_run(r) for r in run_dirs]
    if not runs:
        raise ValueError("create_app needs at least one run directory")
    labels = _labels(runs)
    columns = [set(people_columns(r)) for r in runs]
    by_name = {label: k for k, label in enumerate(labels)}
    app = FastAPI(title="scsim explorer", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def limits_and_headers(request: Request, call_next):
        host = request.headers.get("host", "").rsplit(":", 1)[0]
        if host not in ALLOWED_HOSTS:
            return _error(400, f"host {host[:60]!r} is not allowed; open http://127.0.0.1:<port>/")
        if post_allowed(request.method, request.url.path):
            if request.headers.get("content-type", "").split(";")[0] != "application/json":
                return _error(415, "a what-if request must be JSON (application/json)")
            if int(request.headers.get("content-length") or MAX_BODY + 1) > MAX_BODY:
                return _error(413, f"a what-if request must be at most {MAX_BODY} bytes")
        elif request.method not in ("GET", "HEAD"):
            return _error(405, f"method {request.method} is not allowed; the explorer is read-only")
        if len(request.scope.get("query_string", b"")) > MAX_QUERY_CHARS:
            return _error(414, f"query string longer than {MAX_QUERY_CHARS} characters")
        if len(request.url.path) > MAX_PATH_CHARS:
            return _error(414, f"path longer than {MAX_PATH_CHARS} characters")
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if "content-security-policy" not in response.headers:
            response.headers["Content-Security-Policy"] = PAGE_CSP
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such page: {request.url.path}"
        return _error(exc.status_code, detail)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc))

    def index_of(key: str) -> int:
        if key in by_name:
            return by_name[key]
        if key.isdigit() and len(key) < 6 and int(key) < len(runs):
            return int(key)
        raise HTTPException(
            404,
            f"unknown run {key!r}; expected an index from 0 to {len(runs) - 1} or one of {labels}",
        )

    def citizen_of(run: Run, text: str) -> int:
        if not INTEGER.fullmatch(text):
            raise HTTPException(
                422, f"citizen: {text[:40]!r} is not an integer id; expected 0 to {run.n - 1}"
            )
        citizen = int(text)
        if not 0 <= citizen < run.n:
            raise HTTPException(
                404, f"citizen {citizen} does not exist in this run; ids are 0 to {run.n - 1}"
            )
        return citizen

    def listing(k: int) -> dict[str, Any]:
        run, m = runs[k], runs[k].manifest
        return {
            "index": k,
            "name": labels[k],
            "preset": m.get("preset"),
            "scenario": m.get("scenario", {}).get("name"),
            "n": run.n,
            "days": run.days,
            "seed": m.get("seed"),
            "created": m.get("created"),
            "report": f"/runs/{k}/report.html" if (run.path / "report.html").is_file() else None,
        }

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/whatif", include_in_schema=False)
    def whatif_page() -> FileResponse:
        return FileResponse(STATIC / "whatif.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        return Response(plotly_js(), media_type="text/javascript")

    @app.get("/static/{asset}", include_in_schema=False)
    def static(asset: str) -> FileResponse:
        if asset not in ASSETS:
            raise HTTPException(404, f"no such file: {asset[:40]!r}")
        return FileResponse(STATIC / asset, media_type=ASSETS[asset])

    @app.get("/runs/{run}/report.html", include_in_schema=False)
    def report(run: str) -> FileResponse:
        path = runs[index_of(run)].path / "report.html"
        if not path.is_file():
            raise HTTPException(404, "this run has no report.html")
        # the report is one self-contained file with inline scripts (written by scsim.report)
        csp = "default-src 'self' 'unsafe-inline' data: blob:; frame-ancestors 'none'"
        return FileResponse(path, media_type="text/html", headers={"Content-Security-Policy": csp})

    @app.get("/api/runs")
    def list_runs() -> dict[str, Any]:
        """Every run being served: name, preset, size, seed, creation time, report link."""
        return {"runs": [listing(k) for k in range(len(runs))]}

    @app.get("/api/runs/{run}")
    def summary(run: str) -> dict[str, Any]:
        """One run: its manifest's main facts, the last day's records, the daily mean score."""
        k = index_of(run)
        r = runs[k]
        scenario = r.manifest.get("scenario", {})
        modules = [
            name
            for name, params in scenario.get("modules", {}).items()
            if params is not None and params.get("enabled", True)
        ]
        series: dict[str, list] = {}
        last: dict[str, Any] = {}
        if (r.path / "timeseries.parquet").is_file():
            ts = pq.read_table(r.path / "timeseries.parquet")
            wanted = [c for c in SERIES if c in ts.schema.names]
            series = {c: ts[c].to_pylist() for c in wanted}
            last = ts.slice(ts.num_rows - 1).to_pylist()[0] if ts.num_rows else {}
        return {
            **listing(k),
            "description": scenario.get("description", ""),
            "scsim_version": r.manifest.get("scsim_version"),
            "scenario_hash": r.manifest.get("scenario_hash"),
            "modules": modules,
            "components": r.components,
            "audit": {"sample": r.audit_size, "stride": r.audit_stride},
            "filters": {
                "listed": "listed" in columns[k],
                "wrongful": "wrongful" in columns[k],
                "region": "region" in columns[k],
            },
            "last_day": last,
            "series": series,
        }

    @app.get("/api/runs/{run}/citizens", response_class=JSONResponse)
    def find(
        run: str,
        id: Annotated[str | None, Query(max_length=24)] = None,
        listed: bool | None = None,
        wrongful: bool | None = None,
        region: Annotated[int | None, Query(ge=0, le=65535)] = None,
        audited: bool | None = None,
        page: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    ) -> JSONResponse:
        """Citizens by id, or by filters (listed, wrongly listed, region, audited), one page."""
        k = index_of(run)
        r = runs[k]
        if id is not None:
            citizen = citizen_of(r, id.strip())
            return JSONResponse(citizen_summary(r, citizen))
        filters = {"listed": listed, "wrongful": wrongful, "region": region}
        for name, value in filters.items():
            if value is not None and name not in columns[k]:
                raise HTTPException(422, f"{name}: this run has no {name!r} column to filter on")
        return JSONResponse(search(r, {**filters, "audited": audited}, page, size))

    @app.get("/api/runs/{run}/citizens/{citizen}", response_class=JSONResponse)
    def citizen(run: str, citizen: str) -> Response:
        """One citizen's look-up: profile, score history, events, friends, what they hold."""
        k = index_of(run)
        r = runs[k]
        view = lookup(r, citizen_of(r, citizen))
        view["run"].pop("path", None)  # runs are named, never located, in answers
        return Response(
            plain_json(view, ensure_ascii=False, separators=(",", ":")),
            media_type="application/json",
        )

    add_whatif(app, whatif_limits)
    return app
