// The what-if page: pick a preset, move its levers, run it as it is and with the changes
// (same seed) on this machine, and show both outcomes side by side.
"use strict";

let levers = [];

function $(id) { return document.getElementById(id); }

async function call(url, options) {
  const response = await fetch(url, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  }
  return body;
}

function showError(err) { $("error").textContent = err ? String(err.message || err) : ""; }

function pct(x) {
  if (x === null || x === undefined) return "–";
  const v = 100 * x;
  return (Math.abs(v) >= 10 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2)) + " %";
}

function shown(lever, value) {
  if (lever.kind === "bool") return value ? "yes" : "no";
  return String(value);
}

function leverInput(lever, k) {
  const input = document.createElement("input");
  input.id = `lever-${k}`;
  input.dataset.path = lever.path;
  if (lever.kind === "bool") {
    input.type = "checkbox";
    input.checked = Boolean(lever.value);
  } else {
    input.type = "range";
    input.min = lever.min;
    input.max = lever.max;
    input.step = lever.step;
    input.value = lever.value;
  }
  return input;
}

function drawLevers() {
  const tbody = $("levers").querySelector("tbody");
  tbody.replaceChildren();
  levers.forEach((lever, k) => {
    const tr = document.createElement("tr");
    const label = document.createElement("td");
    const lab = document.createElement("label");
    lab.htmlFor = `lever-${k}`;
    lab.textContent = lever.label;
    label.append(lab);
    const preset = document.createElement("td");
    preset.textContent = shown(lever, lever.value);
    const inputCell = document.createElement("td");
    const input = leverInput(lever, k);
    inputCell.append(input);
    const value = document.createElement("td");
    value.id = `lever-${k}-value`;
    const update = () => {
      const v = lever.kind === "bool" ? input.checked : Number(input.value);
      value.textContent = shown(lever, v);
      tr.classList.toggle("selected", v !== lever.value);
    };
    input.addEventListener("input", update);
    update();
    tr.append(label, preset, inputCell, value);
    tbody.append(tr);
  });
}

async function loadLevers() {
  showError(null);
  const preset = $("preset").value;
  delete $("levers").dataset.preset; // the table is stale until this preset's levers arrive
  const answer = await call(`/api/whatif/levers?preset=${encodeURIComponent(preset)}`);
  if ($("preset").value !== preset) return; // a later choice has its own request under way
  levers = answer.levers;
  $("seed").value = answer.seed;
  drawLevers();
  $("levers").dataset.preset = preset;
}

function moved() {
  const out = {};
  levers.forEach((lever, k) => {
    const input = $(`lever-${k}`);
    const v = lever.kind === "bool" ? input.checked : Number(input.value);
    if (v !== lever.value) out[lever.path] = v;
  });
  return out;
}

function fillSentences(id, sentences) {
  $(id).replaceChildren(...sentences.map((s) => {
    const li = document.createElement("li");
    li.textContent = s;
    return li;
  }));
}

function showOutcome(answer) {
  $("outcome").hidden = false;
  const changes = Object.entries(answer.levers).map(([p, v]) => `${p} = ${v}`).join(", ");
  $("run-note").textContent = `${answer.preset}, ${answer.n.toLocaleString()} citizens, ` +
    `${answer.days} days, seed ${answer.seed}; changed: ${changes || "nothing"}; ` +
    `both runs took ${answer.seconds.toFixed(1)} s.`;
  fillSentences("unchanged-sentences", answer.unchanged.sentences);
  fillSentences("changed-sentences", answer.changed.sentences);
  const tbody = $("difference").querySelector("tbody");
  tbody.replaceChildren();
  for (const [key, label] of [["listed", "on a blacklist"], ["banned", "banned from something"],
    ["wrongly_listed", "wrongly listed"]]) {
    const a = answer.unchanged.final[key];
    if (a === null) continue;
    const b = answer.changed.final[key];
    const d = answer.difference.final[key];
    const tr = document.createElement("tr");
    for (const text of [label, `${a.toLocaleString()} (${pct(answer.unchanged.share[key])})`,
      `${b.toLocaleString()} (${pct(answer.changed.share[key])})`,
      `${d > 0 ? "+" : ""}${d.toLocaleString()}`]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tbody.append(tr);
  }
  drawChart(answer);
}

function drawChart(answer) {
  const trace = (side, name, dash) => ({
    x: side.series.day || [],
    y: (side.series.listed || []).map((v) => 100 * v / answer.n),
    name, mode: "lines", line: { dash },
  });
  Plotly.react("listed-chart", [
    trace(answer.unchanged, "as the preset is", "dot"),
    trace(answer.changed, "with your changes", "solid"),
  ], {
    title: "Share of citizens on a blacklist",
    xaxis: { title: "day" }, yaxis: { title: "% of citizens", rangemode: "tozero" },
    margin: { t: 40 },
  }, { displaylogo: false, responsive: true });
}

async function run(event) {
  event.preventDefault();
  showError(null);
  const button = $("run-button");
  button.disabled = true;
  $("status").textContent = "running…";
  try {
    const body = {
      preset: $("preset").value, n: Number($("n").value), days: Number($("days").value),
      seed: Number($("seed").value), levers: moved(),
    };
    const answer = await call("/api/whatif", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    showOutcome(answer);
    $("status").textContent = "";
  } catch (err) {
    $("status").textContent = "";
    showError(err);
  } finally {
    button.disabled = false;
  }
}

async function start() {
  try {
    const answer = await call("/api/whatif/presets");
    const lim = answer.limits;
    for (const name of answer.presets) {
      const option = document.createElement("option");
      option.value = option.textContent = name;
      $("preset").append(option);
    }
    $("preset").value = answer.presets.includes(lim.default_preset) ? lim.default_preset
      : answer.presets[0];
    Object.assign($("n"), { min: lim.n_min, max: lim.n_max, value: lim.n_default });
    Object.assign($("days"), { min: lim.days_min, max: lim.days_max, value: lim.days_default });
    $("preset").addEventListener("change", () => loadLevers().catch(showError));
    $("reset-button").addEventListener("click", drawLevers);
    $("whatif-form").addEventListener("submit", run);
    await loadLevers();
  } catch (err) {
    showError(err);
  }
}

document.addEventListener("DOMContentLoaded", start);
