// scsim explorer page: run browser, citizen search, citizen look-up (plain DOM, no innerHTML).
"use strict";

const PAGE_SIZE = 20;
const state = { run: null, summary: null, page: 0, filters: {}, total: 0 };

function $(id) { return document.getElementById(id); }

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function showError(err) { $("error").textContent = err ? String(err.message || err) : ""; }

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function fmt(x, digits = 2) {
  return typeof x === "number" && !Number.isInteger(x) ? x.toFixed(digits) : x;
}

function signed(x) { return x < 0 ? "neg" : x > 0 ? "pos" : ""; }

function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells);
    return tr;
  }));
}

function keyValueRows(tbody, object) {
  fillRows(tbody, Object.entries(object).map(([k, v]) => [cell(k), cell(fmt(v), "num")]));
}

async function loadRuns() {
  const { runs } = await getJSON("/api/runs");
  const tbody = $("run-table").tBodies[0];
  fillRows(tbody, runs.map((r) => {
    const link = document.createElement("td");
    if (r.report) {
      const a = document.createElement("a");
      a.href = r.report;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = "report.html";
      link.append(a);
    }
    return [cell(r.index), cell(r.name), cell(r.preset ?? r.scenario), cell(r.n, "num"),
      cell(r.days, "num"), cell(r.seed, "num"), cell(r.created), link];
  }));
  [...tbody.rows].forEach((tr, k) => {
    tr.classList.add("clickable");
    tr.addEventListener("click", () => selectRun(runs[k].index).catch(showError));
  });
  if (runs.length) await selectRun(runs[0].index);
}

async function selectRun(index) {
  state.run = index;
  state.summary = await getJSON(`/api/runs/${index}`);
  [...$("run-table").tBodies[0].rows].forEach((tr, k) => tr.classList.toggle("selected", k === index));
  const s = state.summary;
  const last = s.last_day || {};
  const facts = {
    description: s.description, modules: s.modules.join(", "),
    "audit sample": `${s.audit.sample} citizens (ids 0, ${s.audit.stride}, ${2 * s.audit.stride}, ...)`,
    "final mean score": last.mean_score, "listed at end": last.listed,
    "wrongly listed at end": last.wrongly_listed, "banned at end": last.banned,
  };
  const table = document.createElement("table");
  table.append(document.createElement("tbody"));
  keyValueRows(table.tBodies[0], Object.fromEntries(
    Object.entries(facts).filter(([, v]) => v !== undefined && v !== null)));
  $("run-summary").replaceChildren(table);
  $("f-listed").disabled = !s.filters.listed;
  $("f-wrongful").disabled = !s.filters.wrongful;
  $("f-region").disabled = !s.filters.region;
  state.page = 0;
  state.filters = {};
  $("citizen").hidden = true;
  await runSearch();
}

function filterQuery() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state.filters)) if (v !== "" && v !== undefined) q.set(k, v);
  q.set("page", state.page);
  q.set("size", PAGE_SIZE);
  return q;
}

async function runSearch() {
  const result = await getJSON(`/api/runs/${state.run}/citizens?${filterQuery()}`);
  showResults(result);
}

function showResults(result) {
  state.total = result.total;
  const tbody = $("result-table").tBodies[0];
  fillRows(tbody, result.citizens.map((c) => [
    cell(c.citizen, "num"), cell(fmt(c.score), "num"), cell(c.listed ?? "-"),
    cell(c.wrongful ?? "-"), cell(c.region ?? "-"), cell(c.audited ? "yes" : "no"),
  ]));
  [...tbody.rows].forEach((tr, k) => {
    tr.classList.add("clickable");
    tr.addEventListener("click", () => showCitizen(result.citizens[k].citizen).catch(showError));
  });
  const pages = Math.max(1, Math.ceil(result.total / result.size));
  $("page-label").textContent = `page ${result.page + 1} of ${pages}`;
  $("search-status").textContent = `${result.total.toLocaleString()} citizens match`;
  $("prev-page").disabled = result.page === 0;
  $("next-page").disabled = result.page + 1 >= pages;
}

function drawChart(view) {
  const div = $("score-chart");
  const layout = {
    margin: { t: 40, r: 70, b: 90, l: 60 },
    legend: { orientation: "h", x: 0, y: -0.2, yanchor: "top" },
  };
  let traces;
  if (view.history) {
    const days = view.history.map((h) => h.day);
    traces = [{ x: days, y: view.history.map((h) => h.score), name: "score", type: "scatter",
      mode: "lines", line: { width: 3 } }];
    for (const { component } of view.components) {
      traces.push({ x: days, y: view.history.map((h) => h.parts[component]), name: component,
        type: "scatter", mode: "lines", yaxis: "y2" });
    }
    Object.assign(layout, {
      title: { text: "score (left) and its components (right), day by day" },
      xaxis: { title: { text: "day" } }, yaxis: { title: { text: "score" } },
      yaxis2: { title: { text: "component" }, overlaying: "y", side: "right" },
    });
  } else {
    traces = [{ x: view.components.map((c) => c.component), y: view.components.map((c) => c.total),
      type: "bar", name: "final" }];
    layout.title = { text: "final score components (no daily history: not audited)" };
  }
  Plotly.react(div, traces, layout, { displaylogo: false, responsive: true });
}

function standingRows(standing) {
  const rows = [];
  if (standing.lists) {
    for (const [k, v] of Object.entries(standing.lists)) rows.push([cell(`list: ${k}`), cell(v ?? "-")]);
  }
  for (const s of standing.sanctions || []) {
    const text = s.held ? `held until day ${s.until}` : `not held (${s.days_held} days in all)`;
    rows.push([cell(`sanction: ${s.tier}`), cell(text)]);
  }
  for (const p of standing.perks || []) {
    rows.push([cell(`perk: ${p.perk}`), cell(`${p.held ? "held" : "not held"} (${p.days_held} days)`)]);
  }
  if (!rows.length) rows.push([cell("no lists, sanctions or perks in this run"), cell("")]);
  return rows;
}

async function showCitizen(id) {
  showError(null);
  const view = await getJSON(`/api/runs/${state.run}/citizens/${encodeURIComponent(id)}`);
  $("citizen").hidden = false;
  $("citizen-number").textContent = view.citizen;
  $("citizen-score").textContent = fmt(view.score);
  $("citizen-audited").textContent = view.audited
    ? "(audited: every event and daily score kept)"
    : "(not in the audit sample: final state only)";
  const profile = Object.fromEntries(Object.entries(view.profile)
    .filter(([k]) => k !== "citizen" && k !== "score" && !k.startsWith("part_")));
  keyValueRows($("profile-table").tBodies[0], profile);
  keyValueRows($("components-table").tBodies[0],
    Object.fromEntries(view.components.map((c) => [c.component, c.total])));
  fillRows($("held-table").tBodies[0], standingRows(view.standing));
  const pulled = (view.friends.by_source || []).filter((f) => f.delta < 0);
  const friendRows = pulled.map((f) => [
    cell(f.source, "num"), cell(fmt(f.delta), "num neg"), cell(f.events, "num")]);
  if (!friendRows.length) {
    friendRows.push([cell(view.audited ? "none in the events" : "not audited"), cell(""), cell("")]);
  }
  fillRows($("friends-table").tBodies[0], friendRows);
  const events = (view.events_by_day || []).flatMap((d) => d.events);
  fillRows($("events-table").tBodies[0], events.map((e) => [
    cell(e.day, "num"), cell(e.kind), cell(e.cause), cell(fmt(e.delta), `num ${signed(e.delta)}`),
    cell(e.source ?? ""),
  ]));
  $("events-count").textContent = view.audited ? `(${events.length})` : "(none kept: not audited)";
  drawChart(view);
  history.replaceState(null, "", `#run=${state.run}&citizen=${view.citizen}`);
}

function wire() {
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = $("citizen-id").value.trim();
    if (id) showCitizen(id).catch(showError);
  });
  $("filter-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    showError(null);
    state.filters = {
      listed: $("f-listed").disabled ? "" : $("f-listed").value,
      wrongful: $("f-wrongful").disabled ? "" : $("f-wrongful").value,
      region: $("f-region").disabled ? "" : $("f-region").value.trim(),
      audited: $("f-audited").checked ? "true" : "",
    };
    state.page = 0;
    runSearch().catch(showError);
  });
  $("prev-page").addEventListener("click", () => { state.page -= 1; runSearch().catch(showError); });
  $("next-page").addEventListener("click", () => { state.page += 1; runSearch().catch(showError); });
}

async function start() {
  wire();
  await loadRuns();
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has("run") && Number(hash.get("run")) !== state.run) await selectRun(Number(hash.get("run")));
  if (hash.has("citizen")) await showCitizen(hash.get("citizen"));
}

start().catch(showError);
