"""The explorer's JSON API and static files, through FastAPI's TestClient: every endpoint
answers from the run's files, and every bad request is refused with a JSON message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from scsim.explorer.app import MAX_PAGE_SIZE, MAX_QUERY_CHARS, create_app
from scsim.runs import RunError
from tests.explorer.conftest import DAYS, N


@pytest.fixture(scope="module")
def client(core_run: Path, listed_run: Path) -> TestClient:
    return TestClient(create_app([core_run, listed_run]), base_url="http://127.0.0.1")


def people(run: Path) -> dict[str, np.ndarray]:
    table = pq.read_table(run / "people.parquet")
    return {c: table[c].to_numpy(zero_copy_only=False) for c in table.schema.names}


def refused(response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["error"], response.json()


def snapshot(run: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(run.iterdir())}


def test_list_runs_names_each_run_and_links_its_report(client, core_run, listed_run):
    runs = client.get("/api/runs").json()["runs"]
    assert [r["name"] for r in runs] == ["core", "listed"]
    assert [r["index"] for r in runs] == [0, 1]
    assert runs[0]["preset"] == "sc-core" and runs[1]["preset"] is None
    assert [(r["n"], r["days"], r["seed"]) for r in runs] == [(N, DAYS, 1), (N, DAYS, 3)]
    assert all(r["created"] for r in runs)
    report = client.get(runs[1]["report"])
    assert report.status_code == 200
    assert report.content == (listed_run / "report.html").read_bytes()


def test_summary_by_index_and_by_name_agree(client, listed_run):
    by_index = client.get("/api/runs/1").json()
    assert client.get("/api/runs/listed").json() == by_index
    assert by_index["components"] == ["purchases", "infractions", "speech", "friends", "bound"]
    assert by_index["audit"] == {"sample": N // 4, "stride": 4}
    assert by_index["filters"] == {"listed": True, "wrongful": True, "region": False}
    assert "lists" in by_index["modules"] and "sanctions" in by_index["modules"]
    ts = pq.read_table(listed_run / "timeseries.parquet")
    assert by_index["series"]["mean_score"] == ts["mean_score"].to_pylist()
    assert by_index["last_day"]["listed"] == ts["listed"][-1].as_py()


def test_search_without_filters_pages_through_every_citizen(client, core_run):
    page = client.get("/api/runs/0/citizens", params={"page": 3, "size": 7}).json()
    assert page["total"] == N
    assert [c["citizen"] for c in page["citizens"]] == list(range(21, 28))
    score = people(core_run)["score"]
    assert [c["score"] for c in page["citizens"]] == [float(score[i]) for i in range(21, 28)]
    last = client.get("/api/runs/0/citizens", params={"page": N // 7, "size": 7}).json()
    assert [c["citizen"] for c in last["citizens"]] == list(range(7 * (N // 7), N))
    beyond = client.get("/api/runs/0/citizens", params={"page": 10_000, "size": 7}).json()
    assert beyond["total"] == N and beyond["citizens"] == []


def test_search_by_filters_matches_the_people_file(client, listed_run):
    p = people(listed_run)
    ids = np.arange(N)
    cases = [
        ({"listed": "true"}, p["listed"]),
        ({"listed": "false"}, ~p["listed"]),
        ({"wrongful": "true"}, p["wrongful"]),
        ({"listed": "true", "audited": "true"}, p["listed"] & (ids % 4 == 0)),
        ({"listed": "false", "wrongful": "false"}, ~p["listed"] & ~p["wrongful"]),
    ]
    assert 0 < p["listed"].sum() < N  # the fixture lists some citizens, not all
    for params, expected in cases:
        want = ids[expected]
        got = client.get("/api/runs/1/citizens", params={**params, "size": MAX_PAGE_SIZE}).json()
        assert got["total"] == want.size, params
        assert [c["citizen"] for c in got["citizens"]] == want[:MAX_PAGE_SIZE].tolist(), params
    second = client.get(
        "/api/runs/1/citizens", params={"listed": "true", "page": 1, "size": 5}
    ).json()
    assert [c["citizen"] for c in second["citizens"]] == ids[p["listed"]][5:10].tolist()


def test_search_by_id_returns_that_citizen(client, listed_run):
    got = client.get("/api/runs/1/citizens", params={"id": "41"}).json()
    assert got["total"] == 1
    (row,) = got["citizens"]
    p = people(listed_run)
    assert row == {
        "citizen": 41,
        "score": float(p["score"][41]),
        "listed": bool(p["listed"][41]),
        "wrongful": bool(p["wrongful"][41]),
        "audited": False,
    }


def test_citizen_view_of_an_audited_citizen(client, listed_run):
    p = people(listed_run)
    citizen = int(np.flatnonzero(p["listed"] & (np.arange(N) % 4 == 0))[0])
    view = client.get(f"/api/runs/1/citizens/{citizen}").json()
    assert view["citizen"] == citizen and view["audited"] is True
    assert view["run"]["n"] == N and "path" not in view["run"]  # runs are never located
    assert view["score"] == float(p["score"][citizen])
    assert view["profile"]["listed_since"] == int(p["listed_since"][citizen])
    assert [h["day"] for h in view["history"]] == list(range(DAYS))
    assert view["history"][-1]["score"] == view["score"]  # the audit's last day is the end
    audit = pq.read_table(listed_run / "audit.parquet", filters=[("citizen", "=", citizen)])
    mine = audit.sort_by("day")
    assert [h["parts"]["friends"] for h in view["history"]] == mine["part_friends"].to_pylist()
    events = pq.read_table(listed_run / "events.parquet").to_pylist()
    mine_events = sorted((e for e in events if e["citizen"] == citizen), key=lambda e: e["day"])
    shown = [e for d in view["events_by_day"] for e in d["events"]]
    assert [(e["day"], e["kind"], e["delta"]) for e in shown] == [
        (e["day"], e["kind"], e["delta"]) for e in mine_events
    ]
    assert "lists.listed" in {e["kind"] for e in shown}
    lists = view["standing"]["lists"]
    assert lists["listed"] is True and lists["since"] == int(p["listed_since"][citizen])
    (travel,) = view["standing"]["sanctions"]
    assert travel["tier"] == "travel"
    assert travel["held"] == bool(p["sanction_until_travel"][citizen] > DAYS - 1)


def test_citizen_view_outside_the_audit_sample_has_final_state_only(client, listed_run):
    view = client.get("/api/runs/listed/citizens/5").json()
    assert view["audited"] is False
    assert view["history"] is None and view["events_by_day"] is None
    p = people(listed_run)
    assert {c["component"]: c["total"] for c in view["components"]}["friends"] == float(
        p["part_friends"][5]
    )


BAD_IDS = [
    ("abc", 422, "is not an integer id"),
    ("1.5", 422, "is not an integer id"),
    ("0x10", 422, "is not an integer id"),
    ("1e3", 422, "is not an integer id"),
    ("9" * 20, 422, "is not an integer id"),
    (str(N), 404, f"citizen {N} does not exist"),
    ("-1", 404, "citizen -1 does not exist"),
]


@pytest.mark.parametrize("text,status,words", BAD_IDS, ids=[b[0][:8] for b in BAD_IDS])
def test_bad_citizen_ids_are_refused(client, text, status, words):
    refused(client.get(f"/api/runs/0/citizens/{text}"), status, words)
    refused(client.get("/api/runs/0/citizens", params={"id": text}), status, words)


BAD_REQUESTS = [
    ("/api/runs/2", 404, "unknown run '2'"),
    ("/api/runs/nope/citizens/1", 404, "unknown run 'nope'"),
    ("/api/runs/..%2F..%2Fetc%2Fpasswd", 404, "no such page"),
    ("/api/runs/%2E%2E/citizens/1", 404, "unknown run '..'"),
    ("/api/runs/%2Ftmp/citizens/1", 404, "no such page"),
    ("/runs/..%2Fcore/report.html", 404, "no such page"),
    ("/static/..%2F..%2Fcli.py", 404, "no such page"),
    ("/static/app.py", 404, "no such file"),
    ("/static/%2E%2E", 404, "no such file"),
    ("/api/runs/0/citizens?size=101", 422, "size: '101' is not allowed"),
    ("/api/runs/0/citizens?size=0", 422, "size: '0' is not allowed"),
    ("/api/runs/0/citizens?page=-1", 422, "page: '-1' is not allowed"),
    ("/api/runs/0/citizens?page=x", 422, "page: 'x' is not allowed"),
    ("/api/runs/0/citizens?listed=maybe", 422, "listed: 'maybe' is not allowed"),
    ("/api/runs/0/citizens?region=2", 422, "this run has no 'region' column"),
    ("/api/runs/0/citizens?q=" + "x" * MAX_QUERY_CHARS, 414, "query string longer than"),
    ("/api/" + "a" * 300, 414, "path longer than"),
]


@pytest.mark.parametrize("url,status,words", BAD_REQUESTS, ids=[b[0][:40] for b in BAD_REQUESTS])
def test_bad_requests_are_refused_with_a_json_message(client, url, status, words):
    refused(client.get(url), status, words)


def test_writes_and_foreign_hosts_are_refused(client):
    refused(client.post("/api/runs"), 405, "the explorer is read-only")
    refused(client.delete("/api/runs/0"), 405, "the explorer is read-only")
    refused(client.get("/api/runs", headers={"host": "evil.example"}), 400, "is not allowed")


def test_page_and_plotly_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="score-chart"' in page.text
    assert "http" not in page.text  # every script and style from this server, no CDN
    assert "script-src 'self'" in page.headers["content-security-policy"]
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert len(js.content) > 1_000_000 and b"plotly.js v" in js.content[:2000]
    for asset in ("explorer.js", "explorer.css"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_serving_writes_nothing(core_run, listed_run):
    before = [snapshot(core_run), snapshot(listed_run)]
    c = TestClient(create_app([core_run, listed_run]), base_url="http://127.0.0.1")
    for url in (
        "/",
        "/api/runs",
        "/api/runs/1",
        "/api/runs/1/citizens?listed=true",
        "/api/runs/1/citizens/8",
        "/api/runs/0/citizens/3",
        "/runs/0/report.html",
    ):
        assert c.get(url).status_code == 200, url  # fmt: skip
    assert [snapshot(core_run), snapshot(listed_run)] == before


def test_same_named_runs_get_distinct_names(core_run):
    c = TestClient(create_app([core_run, core_run]), base_url="http://127.0.0.1")
    assert [r["name"] for r in c.get("/api/runs").json()["runs"]] == ["core-0", "core-1"]


def test_create_app_refuses_missing_and_incomplete_runs(tmp_path, core_run):
    with pytest.raises(RunError, match="does not exist"):
        create_app([tmp_path / "nowhere"])
    half = tmp_path / "half"
    half.mkdir()
    (half / "manifest.json").write_bytes((core_run / "manifest.json").read_bytes())
    with pytest.raises(RunError, match="incomplete: missing .*people.parquet"):
        create_app([half])
