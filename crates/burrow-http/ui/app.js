// burrow-rs dashboard: one page, no dependencies, nothing loaded from elsewhere.
// Pages (in the URL's hash): #/ overview, #/groups, #/group/<cluster>/<group>,
// #/topic/<cluster>/<topic>, #/help. Data comes from ./api/*, made by the server from the same
// storage and evaluator as /v3.
"use strict";

const STATUS_RANK = { ERR: 6, STOP: 5, STALL: 5, REWIND: 5, WARN: 4, NOTFOUND: 2, OK: 1 };
const EXPLAIN = {
  OK: "Committing, and the lag went down (or stayed within the allowed lag) during the window.",
  WARN: "Committing, but the lag did not go down once during the whole window: the consumer is falling behind.",
  ERR: "At least one partition is STOP, STALL or REWIND.",
  STOP: "No commit for longer than the window spans, and lag remains: the consumer stopped.",
  STALL: "Commits keep coming but the offset does not move while there is lag: the consumer is stuck.",
  REWIND: "The committed offset went backwards and has not come back: the group was reset or is replaying.",
  NOTFOUND: "The group is not in storage: never seen, or expired.",
};
const DRAIN_TEXT = {
  caught_up: "caught up",
  not_draining: "not draining",
  unknown: "unknown",
};
const ROW_HEIGHT = 34;

const state = { timer: null, page: null, groups: null, lastOk: 0, error: null };

// ---------- formatting ----------
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"));
function duration(s) {
  if (s === null || s === undefined) return "–";
  if (s < 1) return s === 0 ? "0 s" : "<1 s";
  const units = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
  const out = [];
  let rest = Math.round(s);
  for (const [u, n] of units) {
    if (rest >= n || (out.length === 0 && u === "s")) {
      out.push(Math.floor(rest / n) + " " + u);
      rest %= n;
    }
    if (out.length === 2) break;
  }
  return out.join(" ");
}
const lagTime = (s, est) => (s === null || s === undefined ? "–" : (est ? "≈ " : "") + duration(s));
function drainText(state, seconds) {
  if (state === "draining") return "in ≈ " + duration(seconds);
  return DRAIN_TEXT[state] || "–";
}
function ago(ms, now) {
  if (!ms) return "never";
  return duration(Math.max(0, (now - ms) / 1000)) + " ago";
}
const badge = (s) => `<span class="badge s-${esc(s)}" title="${esc(EXPLAIN[s] || s)}">${esc(s)}</span>`;
const groupHref = (c, g) => `#/group/${encodeURIComponent(c)}/${encodeURIComponent(g)}`;
const topicHref = (c, t) => `#/topic/${encodeURIComponent(c)}/${encodeURIComponent(t)}`;
const main = () => document.getElementById("main");

// ---------- data ----------
async function getJSON(path) {
  const resp = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) {
    const err = new Error((body && body.message) || `HTTP ${resp.status}`);
    err.status = resp.status;
    throw err;
  }
  return body;
}

function setFresh(ok, err) {
  const el = document.getElementById("fresh");
  if (ok) {
    state.lastOk = Date.now();
    state.error = null;
    el.textContent = "updated " + new Date(state.lastOk).toLocaleTimeString();
    el.classList.remove("stale");
  } else {
    state.error = err;
    el.textContent = `refresh failed (${err.message})` + (state.lastOk ? `; showing data from ${new Date(state.lastOk).toLocaleTimeString()}` : "");
    el.classList.add("stale");
  }
}

// ---------- routing ----------
function parseRoute() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || "");
  if (parts[0] === "groups") return { page: "groups", params };
  if (parts[0] === "group" && parts.length >= 3) return { page: "group", cluster: parts[1], name: parts.slice(2).join("/") };
  if (parts[0] === "topic" && parts.length >= 3) return { page: "topic", cluster: parts[1], name: parts.slice(2).join("/") };
  if (parts[0] === "help") return { page: "help" };
  return { page: "overview" };
}

async function show(initial) {
  const route = parseRoute();
  const samePage = state.page && state.page.page === route.page && state.page.cluster === route.cluster && state.page.name === route.name;
  state.page = route;
  document.querySelectorAll("nav a").forEach((a) => {
    const current = a.dataset.nav === route.page || (a.dataset.nav === "groups" && route.page === "group");
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  try {
    if (route.page === "overview") await overview();
    else if (route.page === "groups") await groups(initial || !samePage);
    else if (route.page === "group") await group(route.cluster, route.name);
    else if (route.page === "topic") await topic(route.cluster, route.name);
    else help();
    setFresh(true);
  } catch (err) {
    setFresh(false, err);
    if (err.status === 404) {
      main().innerHTML = `<h1>Not found</h1><p>${esc(err.message)}.</p><p><a href="#/groups">All groups</a></p>`;
    } else if (!main().dataset.page) {
      main().innerHTML = `<div class="banner">Could not load the data: ${esc(err.message)}</div>`;
    }
  }
  schedule();
}

function schedule() {
  clearTimeout(state.timer);
  const every = Number(document.getElementById("every").value);
  if (every > 0) state.timer = setTimeout(() => { if (!document.hidden) show(false); else schedule(); }, every * 1000);
}

// ---------- overview ----------
async function overview() {
  const data = await getJSON("api/overview");
  state.groups = data;
  const now = data.now;
  const cards = data.clusters.map((c, ci) => {
    const refresh = (c.offset_refresh_s || 30) * 1000;
    const stale = !c.broker_offsets_at || now - c.broker_offsets_at > 3 * refresh;
    const chips = Object.keys(STATUS_RANK)
      .filter((s) => c.by_status[s])
      .map((s) => `<a class="chip" href="#/groups?cluster=${encodeURIComponent(c.name)}&status=${s}">${badge(s)} ${num(c.by_status[s])}</a>`)
      .join(" ");
    return `<section class="card" data-cluster="${esc(c.name)}">
      <h3><span>${esc(c.name)}</span><span class="${stale ? "health-bad" : "health-ok"}">${stale ? "stale" : "healthy"}</span></h3>
      <dl class="kv">
        <dt>End offsets</dt><dd>${ago(c.broker_offsets_at, now)}</dd>
        <dt>Last commit</dt><dd>${ago(c.last_commit_at, now)}</dd>
        <dt>Topics</dt><dd>${num(c.topics)}</dd>
        <dt>Groups</dt><dd><a href="#/groups?cluster=${encodeURIComponent(c.name)}">${num(c.groups)}</a></dd>
        <dt>Lag in time</dt><dd>${c.lag_seconds ? "from records" : "estimated from end offsets"}</dd>
      </dl>
      <div class="chips">${chips || '<span class="muted">no groups yet</span>'}</div>
    </section>`;
  });
  const worst = sortedRows(data.groups).filter((r) => r[2] !== "OK").slice(0, 15);
  const total = data.groups.length;
  const attention = worst.length
    ? `<div class="scroll"><table id="worst"><thead><tr><th>Status</th><th>Group</th><th class="hide-narrow">Cluster</th><th class="num">Lag</th><th class="num">Behind</th></tr></thead><tbody>${worst
        .map((r) => `<tr data-group="${esc(r[1])}"><td>${badge(r[2])}${r[7] && r[7] !== r[2] && r[7] !== "OK" ? ` <span class="muted">${esc(r[7])}</span>` : ""}</td><td><a href="${groupHref(data.clusters[r[0]].name, r[1])}">${esc(r[1])}</a></td><td class="hide-narrow">${esc(data.clusters[r[0]].name)}</td><td class="num">${num(r[3])}</td><td class="num">${lagTime(r[4], r[5])}</td></tr>`)
        .join("")}</tbody></table></div>`
    : `<p class="explain">${total ? `All ${num(total)} groups are OK.` : "No consumer group seen yet."}</p>`;
  const banner = data.unavailable
    ? `<div class="banner">Unavailable: ${esc(data.unavailable)}</div>`
    : data.ready ? "" : `<div class="banner">Starting: the first offsets are still being read.</div>`;
  main().dataset.page = "overview";
  main().innerHTML = `${banner}<h1>Overview</h1>
    <div class="cards">${cards.join("") || '<p class="muted">No cluster configured.</p>'}</div>
    <h2>Needs attention first</h2>${attention}`;
}

function sortedRows(rows) {
  return rows.slice().sort((a, b) =>
    (STATUS_RANK[b[2]] || 0) - (STATUS_RANK[a[2]] || 0) ||
    (b[4] || 0) - (a[4] || 0) || b[3] - a[3] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

// ---------- groups ----------
async function groups(fresh) {
  const data = await getJSON("api/overview");
  state.groups = data;
  state.sorted = sortedRows(data.groups);
  const p = state.page.params;
  if (fresh || !document.getElementById("q")) {
    const clusters = data.clusters.map((c) => `<option value="${esc(c.name)}">${esc(c.name)}</option>`).join("");
    const statuses = Object.keys(STATUS_RANK).map((s) => `<option value="${s}">${s}</option>`).join("");
    main().dataset.page = "groups";
    main().innerHTML = `<h1>Groups</h1>
      <div class="filters" role="search">
        <input id="q" type="search" placeholder="Search groups (press /)" aria-label="Search groups" autocomplete="off">
        <select id="status" aria-label="Status"><option value="">All statuses</option><option value="!OK">Not OK</option>${statuses}</select>
        <select id="cluster" aria-label="Cluster"><option value="">All clusters</option>${clusters}</select>
        <span id="count" class="muted" aria-live="polite"></span>
      </div>
      <div class="list" role="table" aria-label="Consumer groups">
        <div class="list-head" role="row"><span role="columnheader">Status</span><span class="col-cluster" role="columnheader">Cluster</span><span role="columnheader">Group</span><span class="num" role="columnheader">Lag</span><span class="num" role="columnheader">Behind</span><span class="num" role="columnheader">Parts</span></div>
        <div class="viewport" id="viewport"><div id="spacer"><div id="rows"></div></div></div>
      </div>`;
    document.getElementById("q").value = p.get("q") || "";
    document.getElementById("status").value = p.get("status") || "";
    document.getElementById("cluster").value = p.get("cluster") || "";
    for (const id of ["q", "status", "cluster"]) {
      document.getElementById(id).addEventListener("input", () => { keepFilters(); filterGroups(); });
    }
    document.getElementById("viewport").addEventListener("scroll", drawRows, { passive: true });
  }
  filterGroups();
}

function keepFilters() {
  const params = new URLSearchParams();
  for (const id of ["q", "status", "cluster"]) {
    const v = document.getElementById(id).value;
    if (v) params.set(id, v);
  }
  const query = params.toString();
  history.replaceState(null, "", "#/groups" + (query ? "?" + query : ""));
  state.page.params = params;
}

function filterGroups() {
  const started = performance.now();
  const q = document.getElementById("q").value.trim().toLowerCase();
  const status = document.getElementById("status").value;
  const cluster = document.getElementById("cluster").value;
  const names = state.groups.clusters.map((c) => c.name);
  state.shown = state.sorted.filter((r) =>
    (!q || r[1].toLowerCase().includes(q)) &&
    (!status || (status === "!OK" ? r[2] !== "OK" : r[2] === status)) &&
    (!cluster || names[r[0]] === cluster));
  document.getElementById("count").textContent = `${num(state.shown.length)} of ${num(state.sorted.length)} groups`;
  document.getElementById("spacer").style.height = state.shown.length * ROW_HEIGHT + "px";
  drawRows();
  window.__burrowRenderMs = performance.now() - started;
}

function drawRows() {
  const vp = document.getElementById("viewport");
  if (!vp || !state.shown) return;
  const names = state.groups.clusters.map((c) => c.name);
  const first = Math.max(0, Math.floor(vp.scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(state.shown.length, first + Math.ceil((vp.clientHeight || 600) / ROW_HEIGHT) + 10);
  let html = "";
  for (let i = first; i < last; i++) {
    const r = state.shown[i];
    const c = names[r[0]];
    html += `<div class="row" role="row" data-group="${esc(r[1])}" data-status="${r[2]}"><span role="cell" title="${esc(r[7] || "")}">${badge(r[2])}</span><span class="col-cluster" role="cell">${esc(c)}</span><a role="cell" href="${groupHref(c, r[1])}">${esc(r[1])}</a><span class="num" role="cell">${num(r[3])}</span><span class="num" role="cell">${lagTime(r[4], r[5])}</span><span class="num" role="cell">${r[6]}</span></div>`;
  }
  // Positioned through the CSS object model: the page's policy refuses inline style attributes.
  const rows = document.getElementById("rows");
  rows.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
  rows.innerHTML = html;
}

// ---------- one group ----------
async function group(cluster, name) {
  const d = await getJSON(`api/group?cluster=${encodeURIComponent(cluster)}&group=${encodeURIComponent(name)}`);
  const open = new Set([...document.querySelectorAll("details.part[open]")].map((e) => e.dataset.key));
  const first = main().dataset.page !== "group:" + cluster + "/" + name;
  const s = d.summary;
  const parts = d.partitions.slice().sort((a, b) => (STATUS_RANK[b.status] || 0) - (STATUS_RANK[a.status] || 0) || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  const rows = parts.map((p) => `<tr data-topic="${esc(p.topic)}" data-partition="${p.partition}" data-status="${p.status}">
      <td><a href="${topicHref(cluster, p.topic)}">${esc(p.topic)}</a></td><td class="num">${p.partition}</td>
      <td>${badge(p.status)}</td><td class="num">${num(p.lag)}</td><td class="num">${lagTime(p.lag_seconds, p.lag_seconds_estimate)}</td>
      <td>${drainText(p.drain, p.drain_seconds)}</td><td class="hide-narrow">${esc(p.owner || "–")}</td><td class="hide-narrow">${esc(p.client_id || "–")}</td></tr>`).join("");
  const charts = parts.map((p, i) => {
    const key = p.topic + "/" + p.partition;
    const isOpen = open.has(key) || (first && (p.status !== "OK" || i < 4));
    return `<details class="part" data-key="${esc(key)}"${isOpen ? " open" : ""}>
      <summary>${badge(p.status)} <b>${esc(p.topic)} / ${p.partition}</b> <span class="muted">${esc(EXPLAIN[p.status] || "")}</span></summary>
      ${partitionChart(p, d.now)}</details>`;
  }).join("");
  main().dataset.page = "group:" + cluster + "/" + name;
  main().innerHTML = `<p class="muted"><a href="#/groups?cluster=${encodeURIComponent(cluster)}">${esc(cluster)}</a> › group</p>
    <h1 id="group-name">${esc(name)} ${badge(s.status)}</h1>
    <div class="explain" id="why">${why(s.status, parts)}</div>
    <div class="summary">
      <div class="stat"><b id="totallag">${num(s.totallag)}</b><span>messages behind</span></div>
      <div class="stat"><b id="behind">${lagTime(s.lag_seconds, s.lag_seconds_estimate)}</b><span>behind in time${s.lag_seconds_estimate ? " (estimated from end offsets)" : ""}</span></div>
      <div class="stat"><b id="drain">${drainText(s.drain, s.drain_seconds)}</b><span>to lag 0 at current rates</span></div>
      <div class="stat"><b>${num(s.partition_count)}</b><span>partitions</span></div>
      <div class="stat"><b>${Math.round(s.complete * 100)} %</b><span>window complete</span></div>
    </div>
    <h2>Total lag over time</h2>${totalChart(d.partitions, d.now)}
    <h2>Partitions</h2>
    <div class="scroll"><table id="partitions"><thead><tr><th>Topic</th><th class="num">Partition</th><th>Status</th><th class="num">Lag</th><th class="num">Behind</th><th>Drain</th><th class="hide-narrow">Owner</th><th class="hide-narrow">Client id</th></tr></thead><tbody>${rows}</tbody></table></div>
    <h2>Windows</h2>
    <div class="legend"><span><i class="l-commit"></i>committed offset</span><span><i class="l-end"></i>broker end offset</span><span><i class="l-lag"></i>lag</span></div>
    ${charts}`;
}

// The group's status, then what each kind of troubled partition means.
function why(status, parts) {
  const counts = {};
  for (const p of parts) if (p.status !== "OK") counts[p.status] = (counts[p.status] || 0) + 1;
  const lines = Object.keys(counts).filter((s) => s !== status).map((s) =>
    `<p>${badge(s)} ${counts[s]} partition${counts[s] === 1 ? "" : "s"}: ${esc(EXPLAIN[s] || "")}</p>`);
  return `<p>${esc(EXPLAIN[status] || "")}</p>${lines.join("")}`;
}

// ---------- charts (SVG written here) ----------
const W = 640, H = 180, PAD = { l: 64, r: 12, t: 10, b: 26 };
function scale(points, key) {
  let min = Infinity, max = -Infinity;
  for (const p of points) { if (p[key] < min) min = p[key]; if (p[key] > max) max = p[key]; }
  if (min === max) { min -= 1; max += 1; }
  return { min, max };
}
function axes(tx, vy, now) {
  const y0 = H - PAD.b;
  const ticks = [vy.min, (vy.min + vy.max) / 2, vy.max];
  let out = `<line class="axis" x1="${PAD.l}" y1="${y0}" x2="${W - PAD.r}" y2="${y0}"/><line class="axis" x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${y0}"/>`;
  for (const v of ticks) {
    const y = y0 - ((v - vy.min) / (vy.max - vy.min)) * (y0 - PAD.t);
    out += `<text x="${PAD.l - 6}" y="${y + 4}" text-anchor="end">${esc(compact(v))}</text>`;
  }
  out += `<text x="${PAD.l}" y="${H - 6}">${esc(ago(tx.min, now))}</text><text x="${W - PAD.r}" y="${H - 6}" text-anchor="end">${esc(ago(tx.max, now))}</text>`;
  return out;
}
function compact(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
  return String(Math.round(v));
}
function project(tx, vy) {
  return (t, v) => [
    (PAD.l + ((t - tx.min) / (tx.max - tx.min)) * (W - PAD.l - PAD.r)).toFixed(1),
    (H - PAD.b - ((v - vy.min) / (vy.max - vy.min)) * (H - PAD.t - PAD.b)).toFixed(1),
  ];
}

function partitionChart(p, now) {
  const commits = p.commits.map((c) => ({ t: c[0], v: c[1] }));
  const ends = p.broker.map((b) => ({ t: b[0], v: b[1] }));
  const all = commits.concat(ends);
  if (all.length === 0) return `<p class="muted">No commit in the window yet.</p>`;
  const tx = scale(all, "t"), vy = scale(all, "v");
  const at = project(tx, vy);
  const line = (pts) => pts.map((q) => at(q.t, q.v).join(",")).join(" ");
  let lagArea = "";
  if (commits.length && ends.length) {
    const poly = ends.map((q) => at(q.t, q.v).join(",")).concat(commits.slice().reverse().map((q) => at(q.t, q.v).join(",")));
    lagArea = `<polygon class="lag" points="${poly.join(" ")}"/>`;
  }
  const dots = commits.map((q) => { const [x, y] = at(q.t, q.v); return `<circle class="pt" cx="${x}" cy="${y}" r="3"><title>offset ${num(q.v)} at ${new Date(q.t).toLocaleTimeString()}</title></circle>`; }).join("");
  return `<svg class="chart partition-chart" viewBox="0 0 ${W} ${H}" role="img" data-commits="${commits.length}" data-ends="${ends.length}"
      aria-label="Committed offset and broker end offset of ${esc(p.topic)} partition ${p.partition} over the window">
    ${axes(tx, vy, now)}${lagArea}
    ${ends.length ? `<polyline class="end" points="${line(ends)}"/>` : ""}
    ${commits.length ? `<polyline class="commit" points="${line(commits)}"/>` : ""}${dots}</svg>
    <p class="muted">${commits.length} commits, ${ends.length} end-offset samples in the window. Lag now ${num(p.lag)}${p.lag_seconds !== null ? ", " + lagTime(p.lag_seconds, p.lag_seconds_estimate) + " behind" : ""}; drain ${drainText(p.drain, p.drain_seconds)}.</p>`;
}

// The group's total lag at every commit time: each partition counts its lag at its latest commit.
function totalChart(partitions, now) {
  const events = [];
  partitions.forEach((p, i) => p.commits.forEach((c) => { if (c[2] !== null) events.push({ t: c[0], i, lag: c[2] }); }));
  if (events.length === 0) return `<p class="muted">No commit with a known lag in the windows.</p>`;
  events.sort((a, b) => a.t - b.t);
  const current = new Map();
  const pts = [];
  for (const e of events) {
    current.set(e.i, e.lag);
    let sum = 0;
    for (const v of current.values()) sum += v;
    if (pts.length && pts[pts.length - 1].t === e.t) pts[pts.length - 1].v = sum; else pts.push({ t: e.t, v: sum });
  }
  const tx = scale(pts, "t");
  const vy = scale(pts.concat([{ t: 0, v: 0 }]), "v");
  const at = project(tx, vy);
  const line = pts.map((q) => at(q.t, q.v).join(",")).join(" ");
  const base = at(tx.max, vy.min), start = at(tx.min, vy.min);
  return `<svg class="chart total-chart" viewBox="0 0 ${W} ${H}" role="img" data-points="${pts.length}" aria-label="The group's total lag over time">
    ${axes(tx, vy, now)}<polygon class="total" points="${start.join(",")} ${line} ${base.join(",")}"/></svg>`;
}

// ---------- one topic ----------
async function topic(cluster, name) {
  const d = await getJSON(`api/topic?cluster=${encodeURIComponent(cluster)}&topic=${encodeURIComponent(name)}`);
  const rate = (b) => {
    if (b.length < 2) return "–";
    const dt = (b[b.length - 1][0] - b[0][0]) / 1000;
    return dt > 0 ? num(Math.round(((b[b.length - 1][1] - b[0][1]) / dt) * 10) / 10) + "/s" : "–";
  };
  const parts = d.partitions.map((p) => `<tr><td class="num">${p.partition}</td><td class="num">${num(p.end)}</td><td class="num">${rate(p.broker)}</td></tr>`).join("");
  const consumers = d.consumers.slice().sort((a, b) => (STATUS_RANK[b.topic_status] || 0) - (STATUS_RANK[a.topic_status] || 0) || b.lag - a.lag)
    .map((c) => `<tr data-group="${esc(c.group)}"><td>${badge(c.topic_status)}</td><td><a href="${groupHref(cluster, c.group)}">${esc(c.group)}</a></td><td class="num">${num(c.lag)}</td><td class="num">${lagTime(c.lag_seconds, c.lag_seconds_estimate)}</td><td>${drainText(c.drain, c.drain_seconds)}</td><td class="hide-narrow">${c.partition_lag.map(num).join(" · ")}</td></tr>`).join("");
  main().dataset.page = "topic";
  main().innerHTML = `<p class="muted"><a href="#/groups?cluster=${encodeURIComponent(cluster)}">${esc(cluster)}</a> › topic</p>
    <h1>${esc(name)}</h1>
    <h2>Partitions</h2><div class="scroll"><table id="topic-partitions"><thead><tr><th class="num">Partition</th><th class="num">End offset</th><th class="num">Produced</th></tr></thead><tbody>${parts}</tbody></table></div>
    <h2>Consumer groups</h2>${consumers ? `<div class="scroll"><table id="consumers"><thead><tr><th>Status here</th><th>Group</th><th class="num">Lag</th><th class="num">Behind</th><th>Drain</th><th class="hide-narrow">Lag per partition</th></tr></thead><tbody>${consumers}</tbody></table></div>` : '<p class="muted">No group commits offsets for this topic.</p>'}`;
}

// ---------- help ----------
function help() {
  main().dataset.page = "help";
  main().innerHTML = `<h1>What the statuses mean</h1><dl class="help">${Object.keys(EXPLAIN).map((s) => `<dt>${badge(s)}</dt><dd>${esc(EXPLAIN[s])}</dd>`).join("")}</dl>
    <p>A group is as bad as its worst partition: WARN when a partition is WARN, ERR when one is STOP, STALL or REWIND.
    "Behind" is how long ago the next record the group reads was written: from the record itself when the cluster has <code>lag-seconds</code> on, else estimated (≈) from the broker end offsets the monitor stored.
    "Drain" is when the lag reaches 0 at the rates of the window: consumption from the commits, production from the end offsets.</p>`;
}

// ---------- theme, keys, start ----------
function applyTheme(t) {
  if (t) document.documentElement.dataset.theme = t; else delete document.documentElement.dataset.theme;
}
function toggleTheme() {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  const next = dark ? "light" : "dark";
  try { localStorage.setItem("burrow-theme", next); } catch (e) { /* private mode */ }
  applyTheme(next);
}

document.addEventListener("DOMContentLoaded", () => {
  try { applyTheme(localStorage.getItem("burrow-theme")); } catch (e) { /* private mode */ }
  document.getElementById("theme").addEventListener("click", toggleTheme);
  document.getElementById("every").addEventListener("change", schedule);
  document.addEventListener("keydown", (e) => {
    const q = document.getElementById("q");
    if (e.key === "/" && q && document.activeElement !== q) { e.preventDefault(); q.focus(); }
    else if (e.key === "Escape" && q && document.activeElement === q) { q.value = ""; keepFilters(); filterGroups(); }
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && state.page) show(false); });
  window.addEventListener("hashchange", () => { show(true); main().focus({ preventScroll: true }); });
  show(true);
});
