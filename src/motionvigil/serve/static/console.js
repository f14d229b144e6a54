// motionvigil operator console: plain JavaScript, no dependencies, no build step.
// The API key lives in sessionStorage (this tab only) and goes in the X-API-Key header;
// it is never put in a URL. Live events come from GET /v1/events (newline-delimited JSON
// read from a fetch stream, because only fetch can send the header).
"use strict";

const KEY_SLOT = "motionvigil.apiKey";
const COLOURS = ["#c62828", "#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"];
const $ = (id) => document.getElementById(id);

const state = {
  key: null,
  alerts: new Map(),     // id -> summary
  order: [],             // ids, newest first
  selected: null,        // id under review
  detail: null,          // the selected alert with motion and timeline
  frame: 0,              // animation frame shown (window.consoleState.frame)
  frames_drawn: 0,
  reader: null,
  generation: 0,         // bumps on sign-out: a stale event loop stops
};
window.consoleState = state;

// ---------------------------------------------------------------- API
async function api(path, options = {}) {
  const headers = Object.assign({"x-api-key": state.key || ""}, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, {headers, cache: "no-store"}));
  if (response.status === 401) {
    signOut("wrong or missing API key");
    throw new Error("unauthorized");
  }
  return response;
}

// ---------------------------------------------------------------- sign in / out
function showStatus(text, kind) {
  const s = $("status");
  s.textContent = text;
  s.className = "status" + (kind ? " " + kind : "");
}

async function signIn(key) {
  state.key = key;
  let response;
  try {
    response = await fetch("/v1/streams", {headers: {"x-api-key": key}, cache: "no-store"});
  } catch (e) {
    $("login-error").textContent = "cannot reach the server";
    return;
  }
  if (response.status === 401) {
    state.key = null;
    sessionStorage.removeItem(KEY_SLOT);
    $("login-error").textContent = "wrong API key";
    return;
  }
  sessionStorage.setItem(KEY_SLOT, key);
  $("login-error").textContent = "";
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("logout").hidden = false;
  renderStreams((await response.json()).streams);
  listen(++state.generation);
}

function signOut(reason) {
  state.generation++;
  state.key = null;
  sessionStorage.removeItem(KEY_SLOT);
  if (state.reader) { state.reader.cancel().catch(() => {}); state.reader = null; }
  state.alerts.clear();
  state.order = [];
  state.selected = null;
  state.detail = null;
  $("feed").replaceChildren();
  $("streams").replaceChildren();
  $("review-body").hidden = true;
  $("review-empty").hidden = false;
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("logout").hidden = true;
  $("login-error").textContent = reason || "";
  showStatus("signed out");
}

// ---------------------------------------------------------------- live events
async function listen(generation) {
  while (generation === state.generation) {
    try {
      const response = await api("/v1/events");
      if (!response.ok || !response.body) throw new Error("events " + response.status);
      showStatus("live", "live");
      const reader = response.body.getReader();
      state.reader = reader;
      const decoder = new TextDecoder();
      let buffered = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done || generation !== state.generation) break;
        buffered += decoder.decode(value, {stream: true});
        let cut;
        while ((cut = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, cut);
          buffered = buffered.slice(cut + 1);
          if (line.trim()) handleEvent(JSON.parse(line));
        }
      }
    } catch (e) {
      if (generation !== state.generation) return;
    }
    if (generation !== state.generation) return;
    showStatus("reconnecting", "down");
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function handleEvent(event) {
  if (event.type === "hello") {
    renderStreams(event.streams);
    for (const a of event.alerts.slice().reverse()) upsertAlert(a);
  } else if (event.type === "streams") {
    renderStreams(event.streams);
  } else if (event.type === "alert" || event.type === "feedback") {
    upsertAlert(event);
    if (event.id === state.selected && event.type === "alert" && event.event === "end") loadDetail(event.id);
  }
}

// ---------------------------------------------------------------- streams and feed
function renderStreams(streams) {
  $("stream-count").textContent = String(streams.length);
  const items = streams.map((s) => {
    const li = document.createElement("li");
    li.dataset.stream = s.id;
    if (s.alert_open) li.classList.add("alerting");
    const name = document.createElement("b");
    name.textContent = s.id;
    const meta = document.createElement("div");
    meta.className = "meta";
    const secs = s.frames && s.fps ? (s.frames / s.fps).toFixed(0) + " s" : "starting";
    meta.textContent = `${s.layout || "?"} · ${secs} · violence ${Number(s.violence || 0).toFixed(2)} · ` +
                       `${s.alerts} alert(s)`;
    li.append(name, meta);
    return li;
  });
  $("streams").replaceChildren(...items);
}

function who(persons) {
  if (!persons || persons.length === 0) return "one person";
  return persons.length === 1 ? `person ${persons[0]}` : `pair ${persons.join(" + ")}`;
}

function clock(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], {hour12: false});
}

function upsertAlert(a) {
  const known = state.alerts.get(a.id);
  const merged = Object.assign({}, known || {}, a);
  delete merged.type;
  state.alerts.set(a.id, merged);
  if (!known) state.order.unshift(a.id);
  state.order.sort((x, y) => state.alerts.get(y).raised - state.alerts.get(x).raised);
  renderFeed();
}

function renderFeed() {
  $("alert-count").textContent = String(state.order.length);
  const items = state.order.map((id) => {
    const a = state.alerts.get(id);
    const li = document.createElement("li");
    li.tabIndex = 0;
    li.dataset.id = id;
    if (id === state.selected) li.classList.add("selected");
    const cells = [["time", clock(a.raised)], ["what", `${a.class} · ${a.stream}`],
                   ["score", Number(a.score).toFixed(3)], ["who", who(a.persons)]];
    for (const [cls, text] of cells) {
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      li.append(span);
    }
    const badge = document.createElement("span");
    const kind = a.verdict || (a.open ? "open" : "new");
    badge.className = "badge " + kind;
    badge.textContent = a.verdict ? a.verdict + "ed" : (a.open ? "live" : "to review");
    li.append(badge);
    li.addEventListener("click", () => select(id));
    return li;
  });
  $("feed").replaceChildren(...items);
}

// ---------------------------------------------------------------- review
async function select(id) {
  state.selected = id;
  renderFeed();
  await loadDetail(id);
}

async function loadDetail(id) {
  const response = await api(`/v1/alerts/${encodeURIComponent(id)}`);
  if (!response.ok || id !== state.selected) return;
  state.detail = await response.json();
  state.frame = 0;
  $("review-empty").hidden = true;
  $("review-body").hidden = false;
  $("verdict-msg").textContent = "";
  $("note").value = state.detail.note || "";
  const d = state.detail;
  const facts = [["stream", d.stream], ["raised", new Date(d.raised * 1000).toLocaleString()],
                 ["span", `${d.start_s.toFixed(2)} – ${d.end_s.toFixed(2)} s (${d.windows} window(s))`],
                 ["who", who(d.persons)], ["class", d.class], ["score", `${Number(d.score).toFixed(4)} ` +
                 `(threshold ${Number(d.threshold).toFixed(4)})`], ["verdict", d.verdict || "not reviewed"],
                 ["detector", d.detector]];
  $("review-facts").replaceChildren(...facts.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dd.dataset.fact = k;
    return [dt, dd];
  }));
}

async function giveVerdict(verdict) {
  const id = state.selected;
  if (!id) return;
  const response = await api(`/v1/alerts/${encodeURIComponent(id)}/feedback`, {
    method: "POST", headers: {"content-type": "application/json"},
    body: JSON.stringify({verdict, note: $("note").value}),
  });
  const body = await response.json();
  if (!response.ok) {
    $("verdict-msg").textContent = "not stored: " + (body.error || response.status);
    return;
  }
  upsertAlert(body);
  $("verdict-msg").textContent = `${verdict}ed`;
  if (state.detail && state.detail.id === id) {
    state.detail.verdict = body.verdict;
    const fact = document.querySelector('dd[data-fact="verdict"]');
    if (fact) fact.textContent = body.verdict;
  }
}

function move(step) {
  if (state.order.length === 0) return;
  const at = state.order.indexOf(state.selected);
  const next = Math.max(0, Math.min(state.order.length - 1, at < 0 ? 0 : at + step));
  select(state.order[next]);
  const li = document.querySelector(`#feed li[data-id="${state.order[next]}"]`);
  if (li) li.scrollIntoView({block: "nearest"});
}

// ---------------------------------------------------------------- drawing
function bounds(persons) {
  let lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (const p of persons) for (const f of p.joints) for (const j of f) {
    for (let k = 0; k < 3; k++) { lo[k] = Math.min(lo[k], j[k]); hi[k] = Math.max(hi[k], j[k]); }
  }
  return {lo, hi, centre: [0, 1, 2].map((k) => (lo[k] + hi[k]) / 2),
          size: Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], 1.0)};
}

function fitCanvas(canvas) {  // the drawing buffer follows the size CSS gives the canvas
  const w = Math.max(1, Math.round(canvas.clientWidth)), h = Math.max(1, Math.round(canvas.clientHeight));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
}

function drawSkeleton(time) {
  const canvas = $("skeleton");
  fitCanvas(canvas);
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const d = state.detail;
  if (!d || !d.motion || !d.motion.persons.length) {
    g.fillStyle = "#5d6b7a";
    g.fillText("no motion stored for this alert", 20, 30);
    return;
  }
  const persons = d.motion.persons, parents = d.motion.parents;
  const frames = persons[0].joints.length;
  const box = d._box || (d._box = bounds(persons));
  const f = state.frame % frames;
  const follow = [0, 2].map((k) => persons.reduce((sum, p) => sum + p.joints[f][0][k], 0) / persons.length);
  const centre = [follow[0], box.centre[1], follow[1]];
  const yaw = 0.6 + time / 4000;  // the camera circles slowly: depth shows as motion
  const cos = Math.cos(yaw), sin = Math.sin(yaw);
  const reach = Math.max(box.hi[1] - box.lo[1], 1.0) * (persons.length > 1 ? 1.6 : 1.0);
  const scale = Math.min(canvas.width, canvas.height) * 0.8 / reach;
  const project = (p) => {
    const x = p[0] - centre[0], y = p[1] - centre[1], z = p[2] - centre[2];
    const rx = x * cos + z * sin, rz = -x * sin + z * cos;
    const persp = 1 / (1 + rz * 0.25 / reach);
    return [canvas.width / 2 + rx * scale * persp, canvas.height / 2 - y * scale * persp];
  };
  // floor grid at the lowest point
  g.strokeStyle = "#e2e6ea";
  g.lineWidth = 1;
  const floor = box.lo[1];
  for (let k = -4; k <= 4; k++) {
    const a = project([centre[0] + k * reach / 8, floor, centre[2] - reach / 2]);
    const b = project([centre[0] + k * reach / 8, floor, centre[2] + reach / 2]);
    const c = project([centre[0] - reach / 2, floor, centre[2] + k * reach / 8]);
    const e = project([centre[0] + reach / 2, floor, centre[2] + k * reach / 8]);
    g.beginPath(); g.moveTo(a[0], a[1]); g.lineTo(b[0], b[1]); g.moveTo(c[0], c[1]); g.lineTo(e[0], e[1]); g.stroke();
  }
  persons.forEach((person, i) => {
    const pts = person.joints[f].map(project);
    g.strokeStyle = g.fillStyle = COLOURS[i % COLOURS.length];
    g.lineWidth = 3;
    g.beginPath();
    parents.forEach((parent, j) => {
      if (parent < 0) return;
      g.moveTo(pts[parent][0], pts[parent][1]);
      g.lineTo(pts[j][0], pts[j][1]);
    });
    g.stroke();
    const head = pts[15] || pts[pts.length - 1];
    g.beginPath(); g.arc(head[0], head[1], 6, 0, 2 * Math.PI); g.fill();
    g.font = "13px system-ui";
    g.fillText(persons.length > 1 || d.persons.length ? `id ${person.id}` : "", head[0] + 8, head[1] - 8);
  });
  g.fillStyle = "#5d6b7a";
  g.font = "12px system-ui";
  g.fillText(`t = ${(d.start_s + f / d.motion.fps).toFixed(2)} s   frame ${f + 1}/${frames}`, 10, canvas.height - 10);
}

function drawTimeline() {
  const canvas = $("timeline");
  fitCanvas(canvas);
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const d = state.detail;
  if (!d || !d.timeline || !d.timeline.length) return;
  const t0 = Math.min(d.timeline[0][0], d.start_s), t1 = Math.max(d.timeline[d.timeline.length - 1][1], d.end_s);
  const pad = 28, w = canvas.width - 2 * pad, h = canvas.height - 2 * 14;
  const x = (t) => pad + (t - t0) / Math.max(t1 - t0, 1e-6) * w;
  const y = (v) => 14 + (1 - Math.max(0, Math.min(1, v))) * h;
  g.fillStyle = "rgba(198, 40, 40, 0.12)";
  g.fillRect(x(d.start_s), 14, x(d.end_s) - x(d.start_s), h);
  g.strokeStyle = "#ef6c00";
  g.setLineDash([4, 4]);
  g.beginPath(); g.moveTo(pad, y(d.threshold)); g.lineTo(pad + w, y(d.threshold)); g.stroke();
  g.setLineDash([]);
  g.strokeStyle = "#1c2430";
  g.lineWidth = 2;
  g.beginPath();
  d.timeline.forEach(([s, e, v], i) => {
    const mid = (s + e) / 2;
    if (i === 0) g.moveTo(x(mid), y(v)); else g.lineTo(x(mid), y(v));
  });
  g.stroke();
  if (d.motion && d.motion.persons.length) {  // the frame the skeleton shows
    const frames = d.motion.persons[0].joints.length;
    const now = d.start_s + (state.frame % frames) / d.motion.fps;
    g.strokeStyle = "#1565c0";
    g.beginPath(); g.moveTo(x(now), 10); g.lineTo(x(now), canvas.height - 10); g.stroke();
  }
  g.fillStyle = "#5d6b7a";
  g.font = "11px system-ui";
  g.fillText("violence", 2, 10);
  g.fillText(`${t0.toFixed(1)} s`, pad, canvas.height - 1);
  g.fillText(`${t1.toFixed(1)} s`, pad + w - 30, canvas.height - 1);
}

let lastStep = 0;
function animate(time) {
  if (state.detail && !$("review-body").hidden) {
    const fps = (state.detail.motion && state.detail.motion.fps) || 20;
    if (time - lastStep >= 1000 / fps) {
      state.frame++;
      lastStep = time;
    }
    drawSkeleton(time);
    drawTimeline();
    state.frames_drawn++;
    $("skeleton").dataset.frame = String(state.frame);
  }
  requestAnimationFrame(animate);
}

// ---------------------------------------------------------------- wiring
$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  signIn($("key").value.trim());
});
$("logout").addEventListener("click", () => signOut(""));
$("confirm").addEventListener("click", () => giveVerdict("confirm"));
$("dismiss").addEventListener("click", () => giveVerdict("dismiss"));
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey || !state.key) return;
  const actions = {c: () => giveVerdict("confirm"), d: () => giveVerdict("dismiss"), j: () => move(1),
                   k: () => move(-1), ArrowDown: () => move(1), ArrowUp: () => move(-1)};
  if (actions[e.key]) {
    e.preventDefault();
    actions[e.key]();
  }
});
requestAnimationFrame(animate);
const saved = sessionStorage.getItem(KEY_SLOT);
if (saved !== null) signIn(saved);
