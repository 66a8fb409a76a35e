// gearbx dashboard: follows GET /v1/gearbx/telemetry (server-sent events of every active stream's
// tokens with entropy and gear) and draws, per stream, the tokens coloured by gear, the entropy
// trace against the model's thresholds (GET /v1/gearbx/thresholds), gear shares, tokens/s and shifts.
"use strict";

const MAX_STREAMS = 8;     // streams kept on the page, newest first
const MAX_POINTS = 400;    // entropy points drawn per stream
const SVG_NS = "http://www.w3.org/2000/svg";
const GEARS = ["low", "mid", "high"];

const streams = new Map(); // stream id -> state
let thresholds = {};       // model id -> {low, high}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function streamFor(event) {
  let s = streams.get(event.stream);
  if (s) return s;
  const card = el("section", "stream running");
  card.dataset.stream = event.stream;
  const title = el("h2");
  title.append(el("span", "id", event.model + " \u00b7 " + event.stream.slice(0, 14)), el("span", "state", "running"));
  const tokens = el("div", "tokens");
  const trace = svg("svg", {class: "trace", viewBox: "0 0 400 110", preserveAspectRatio: "none"});
  const shares = el("div", "shares");
  const stats = el("div", "stats");
  card.append(title, tokens, trace, shares, stats);
  s = {card, tokens, trace, shares, stats, state: title.querySelector(".state"), model: event.model,
       entropies: [], smoothed: [], counts: {low: 0, mid: 0, high: 0}, shifts: 0, stepNanos: 0,
       first: performance.now(), last: performance.now()};
  streams.set(event.stream, s);
  const main = document.getElementById("streams");
  main.prepend(card);
  document.getElementById("empty").hidden = true;
  while (main.children.length > MAX_STREAMS) {
    const old = main.lastElementChild;
    streams.delete(old.dataset.stream);
    old.remove();
  }
  return s;
}

function onToken(s, event) {
  const t = event.gearbx;
  const span = el("span", "tok gear-" + t.gear + (t.shifted ? " shift" : ""), event.text);
  span.title = t.gear.toUpperCase() + ", entropy " + t.entropy.toFixed(3) + " bits";
  s.tokens.append(span);
  s.tokens.scrollTop = s.tokens.scrollHeight;
  s.entropies.push(t.entropy);
  s.smoothed.push(t.smoothed_entropy);
  if (s.entropies.length > MAX_POINTS) { s.entropies.shift(); s.smoothed.shift(); }
  s.counts[t.gear] = (s.counts[t.gear] || 0) + 1;
  if (t.shifted) s.shifts++;
  s.stepNanos += t.step_nanos;
  s.last = performance.now();
}

function onEnd(s, event) {
  s.card.classList.remove("running");
  s.state.textContent = event.finish_reason;
}

function draw(s) {
  const w = 400, h = 110, pad = 4;
  const th = thresholds[s.model];
  const top = Math.max(1e-3, ...s.entropies, th ? th.high * 1.4 : 0);
  const y = v => (h - pad - (v / top) * (h - 2 * pad)).toFixed(1);
  const x = i => (s.entropies.length < 2 ? 0 : (i / (s.entropies.length - 1)) * w).toFixed(1);
  s.trace.replaceChildren();
  if (th) {
    for (const [name, v] of [["low", th.low], ["high", th.high]]) {
      s.trace.append(svg("line", {class: "threshold " + name, x1: 0, x2: w, y1: y(v), y2: y(v)}));
      const label = svg("text", {x: 2, y: Number(y(v)) - 2});
      label.textContent = name + " " + v.toFixed(2) + " bits";
      s.trace.append(label);
    }
  }
  const line = (values, cls) => svg("polyline", {class: cls, points: values.map((v, i) => x(i) + "," + y(v)).join(" ")});
  s.trace.append(line(s.smoothed, "smoothed"), line(s.entropies, "entropy"));

  const total = GEARS.reduce((a, g) => a + (s.counts[g] || 0), 0);
  s.shares.replaceChildren(...GEARS.filter(g => s.counts[g]).map(g => {
    const d = el("div", "gear-" + g);
    d.style.width = (100 * s.counts[g] / total) + "%";
    d.title = g.toUpperCase() + " " + (100 * s.counts[g] / total).toFixed(1) + "%";
    return d;
  }));
  const tps = s.stepNanos > 0 ? total / (s.stepNanos / 1e9) : 0;
  const stat = (label, value, cls) => { const e = el("span", cls); e.append(label + " ", el("b", null, value)); return e; };
  s.stats.replaceChildren(
    stat("tokens", String(total), "count"),
    stat("tok/s", tps.toFixed(1), "tps"),
    stat("shifts", String(s.shifts), "shifts"),
    ...GEARS.filter(g => s.counts[g]).map(g => stat(g.toUpperCase(), (100 * s.counts[g] / total).toFixed(0) + "%", "share-" + g)));
}

// redraw at most once per animation frame
const dirty = new Set();
function schedule(s) {
  if (dirty.size === 0) requestAnimationFrame(() => { dirty.forEach(draw); dirty.clear(); });
  dirty.add(s);
}

function connect() {
  const status = document.getElementById("connection");
  const source = new EventSource("/v1/gearbx/telemetry");
  source.onopen = () => { status.textContent = "live"; status.classList.add("live"); };
  source.onerror = () => { status.textContent = "reconnecting\u2026"; status.classList.remove("live"); };
  source.onmessage = message => {
    const event = JSON.parse(message.data);
    const s = streamFor(event);
    if (event.gearbx) onToken(s, event); else onEnd(s, event);
    schedule(s);
  };
}

async function loadThresholds() {
  try {
    const r = await fetch("/v1/gearbx/thresholds");
    thresholds = await r.json();
    const select = document.getElementById("model");
    select.replaceChildren(...Object.keys(thresholds).map(id => el("option", null, id)));
  } catch (e) {
    console.warn("gearbx dashboard: no thresholds", e);
  }
}

// the form sends a streamed chat request; its tokens show up through the telemetry like any other
document.getElementById("try").addEventListener("submit", async e => {
  e.preventDefault();
  const body = {model: document.getElementById("model").value, stream: true, max_tokens: 96,
                messages: [{role: "user", content: document.getElementById("prompt").value}]};
  const r = await fetch("/v1/chat/completions", {method: "POST", headers: {"Content-Type": "application/json"},
                                                 body: JSON.stringify(body)});
  const reader = r.body.getReader();
  while (!(await reader.read()).done) { /* drained: the dashboard draws from the telemetry */ }
});

loadThresholds().then(connect);
