// The cluster view: polls /state.json (4 times a second) and draws the picture.
// Live: the server polls the cluster; replay: this page keeps the play clock and asks
// the server for the recording at that virtual time.
"use strict";

const POLL_MS = 250;
const $ = (id) => document.getElementById(id);
const replay = { on: false, playing: true, speed: 2, t: null, start: 0, end: 0, last: 0 };
let updates = 0;

// One colour per master, from its id, so a new master (a failover) gets a new colour.
function colour(id) {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360}, ${55 + (h >> 9) % 25}%, ${48 + (h >> 17) % 14}%)`;
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function short(id) { return id ? id.slice(0, 8) : "-"; }

function seconds(ms) { return (ms / 1000).toFixed(1) + " s"; }

function renderSlots(p, byId) {
  const strip = $("slots");
  strip.dataset.covered = p.covered;
  strip.innerHTML = p.segments.map(([start, end, owner]) => {
    const n = byId[owner];
    const failing = n && n.flags.includes("fail") ? " failing" : "";
    const left = (start / 16384) * 100, width = ((end - start + 1) / 16384) * 100;
    const title = `${start}-${end} (${end - start + 1} slots): ${n ? n.addr : "?"} ${short(owner)}`;
    return `<div class="seg${failing}" data-start="${start}" data-end="${end}" data-owner="${esc(owner)}"
      style="left:${left}%;width:${width}%;background:${colour(owner)}" title="${esc(title)}"></div>`;
  }).join("");
  $("legend").innerHTML = p.masters.map((m) =>
    `<span class="legend-item" data-id="${esc(m.id)}"><span class="swatch" style="background:${colour(m.id)}"></span>` +
    `${esc(m.addr)} <span class="id">${esc(short(m.id))}</span> ${m.slots}</span>`).join("");
}

function flagBadges(n) {
  const out = n.flags.map((f) => {
    const cls = f === "fail?" ? "pfail" : f;
    const text = f === "fail?" ? "PFAIL" : f === "fail" ? "FAIL" : f;
    return `<span class="flag flag-${cls}">${esc(text)}</span>`;
  });
  if (!n.flags.includes("fail") && !n.flags.includes("fail?") && n.pfail_by)
    out.push(`<span class="flag flag-pfail" title="views that suspect it">PFAIL ${n.pfail_by}/${n.observers}</span>`);
  if (n.fail_by && n.flags.includes("fail"))
    out.push(`<span class="id" title="views that mark it FAIL">${n.fail_by}/${n.observers}</span>`);
  return out.join("");
}

function renderNodes(p, byId) {
  // Masters in address order, each followed by its replicas.
  const rows = [];
  const masters = p.nodes.filter((n) => n.role === "master");
  const replicasOf = {};
  p.nodes.filter((n) => n.role === "replica").forEach((n) => (replicasOf[n.master] ||= []).push(n));
  masters.forEach((m) => { rows.push(m); (replicasOf[m.id] || []).forEach((r) => rows.push(r)); delete replicasOf[m.id]; });
  Object.values(replicasOf).forEach((list) => list.forEach((r) => rows.push(r)));
  $("nodes").tBodies[0].innerHTML = rows.map((n) => {
    const classes = ["node", n.role];
    if (n.flags.includes("fail")) classes.push("fail");
    else if (n.flags.includes("fail?") || n.pfail_by) classes.push("pfail");
    if (!n.answering) classes.push("silent");
    const owner = n.role === "master" ? n.id : n.master;
    const role = n.role === "master" ? "master"
      : `replica of ${esc(byId[n.master] ? byId[n.master].addr : short(n.master))}` +
        (n.master_link ? ` <span class="id">link ${esc(n.master_link)}</span>` : "");
    const open = n.migrating.map(([s, to]) => `${s}&rarr;${esc(short(to))}`)
      .concat(n.importing.map(([s, from]) => `${s}&larr;${esc(short(from))}`)).join(" ");
    const links = n.links_to === null ? "-" : `${n.links_to}/${n.links_from}`;
    return `<tr class="${esc(classes.join(" "))}" data-id="${esc(n.id)}" data-addr="${esc(n.addr)}" data-role="${esc(n.role)}"
        data-flags="${esc(n.flags.join(","))}" data-answering="${n.answering}">
      <td><span class="swatch" style="background:${owner ? colour(owner) : "#ccc"}"></span>${esc(n.addr || "noaddr")}
        <span class="id">${esc(short(n.id))}</span></td>
      <td>${role}</td><td>${flagBadges(n)}${n.answering ? "" : ' <span class="id">no answer</span>'}</td>
      <td class="num">${n.config_epoch}</td><td class="num">${n.current_epoch ?? "-"}</td>
      <td class="num">${n.offset ?? "-"}</td>
      <td class="num" title="outbound/inbound; connected in ${n.connected_by} of ${n.observers} views">${links}
        <span class="id">${n.connected_by}/${n.observers}</span></td>
      <td class="num">${n.slots || ""}</td><td>${open}</td><td>${esc(n.cluster_state ?? "-")}</td></tr>`;
  }).join("");
}

function renderTimeline(events) {
  $("timeline").innerHTML = events.slice().reverse().map((e) =>
    `<li class="event" data-kind="${esc(e.kind)}" data-node="${esc(e.node)}"><span class="t">${seconds(e.t)}</span>${esc(e.text)}</li>`
  ).join("");
}

function render(s) {
  const p = s.picture;
  const byId = {};
  p.nodes.forEach((n) => (byId[n.id] = n));
  const masters = p.nodes.filter((n) => n.role === "master" && n.slots).length;
  $("summary").textContent = `${p.nodes.length} nodes · ${masters} masters with slots · ` +
    `${p.covered}/16384 slots covered · cluster_state ok on ${p.state_ok}/${p.answering} answering`;
  $("summary").dataset.nodes = p.nodes.length;
  $("anchor").textContent = p.anchor ? `(flags as ${p.anchor} sees them)` : "";
  $("source").textContent = s.mode === "live" ? `live from ${s.seed}` :
    `replay of a ${s.header.nodes}-node simulator run (node timeout ${s.header.node_timeout} ms)`;
  $("clock").textContent = (s.mode === "live" ? "t = " : "virtual t = ") + seconds(p.t);
  renderSlots(p, byId);
  renderNodes(p, byId);
  renderTimeline(s.events);
  document.body.dataset.updates = ++updates;
  document.body.dataset.mode = s.mode;
}

function replayClock(s) {
  if (!replay.on) {
    replay.on = true;
    replay.start = s.start; replay.end = s.end; replay.t = s.start; replay.last = performance.now();
    $("controls").hidden = false;
    $("seek").min = s.start; $("seek").max = s.end;
  }
  const now = performance.now();
  if (replay.playing) replay.t = Math.min(replay.end, replay.t + (now - replay.last) * replay.speed);
  replay.last = now;
  if (replay.t >= replay.end && replay.playing) setPlaying(false);
  $("seek").value = replay.t;
  $("position").textContent = `${seconds(replay.t - replay.start)} of ${seconds(replay.end - replay.start)}`;
}

function setPlaying(on) {
  if (on && replay.t >= replay.end) replay.t = replay.start;
  replay.playing = on;
  $("play").textContent = on ? "Pause" : "Play";
}

$("play").addEventListener("click", () => setPlaying(!replay.playing));
$("speed").addEventListener("change", (e) => (replay.speed = Number(e.target.value)));
$("seek").addEventListener("input", (e) => { replay.t = Number(e.target.value); });
replay.speed = Number($("speed").value);

async function poll() {
  try {
    const url = replay.on ? `/state.json?t=${Math.round(replay.t)}` : "/state.json";
    const s = await (await fetch(url, { cache: "no-store" })).json();
    if (s.mode === "replay") replayClock(s);
    render(s);
  } catch (err) {
    $("summary").textContent = "viewer not answering: " + err;
  }
  setTimeout(poll, POLL_MS);
}
poll();
