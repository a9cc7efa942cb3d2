// The workflow being edited (its steps, the selected one, the server's problems) and saving/activating it.
// The server (workflow services) is the judge: its problems come back as {node_key, field, message}
// and are shown beside the step and the field they concern.
// The views (graph.js, forms.js) subscribe to its changes (main.js wires them): the model imports no view.
import { T, banner, data, el, interpolate, ngettext, root, saveState, showFieldError } from "./dom.js";

export const KEY_RE = /^[-a-zA-Z0-9_]+$/;
export const apps = Object.fromEntries(data.apps.map((a) => [a.slug, a]));
let serial = 0;
export const nextId = () => ++serial;
export const state = {
  name: data.workflow.name,
  description: data.workflow.description,
  nodes: data.workflow.nodes.map((n) => ({ ...n, branches: n.branches || [], _id: nextId() })),
  selected: null, // a node's _id
  problems: [],
  dirty: false,
};
export const badJson = new Set(); // "<_id>:<field>" of JSON textareas that do not parse

// What changed, for the views: {graph, keepFocus, inspector, focusHeading}; changed() redraws both.
const listeners = [];
export function subscribe(listener) {
  listeners.push(listener);
}
export function changed(what = { graph: true, inspector: true }) {
  for (const listener of listeners) listener(what);
}
export function select(id, focusHeading) {
  state.selected = id;
  changed({ graph: true, inspector: true, focusHeading });
}

export const isExpr = (v) => typeof v === "string" && (v.includes("{{") || v.includes("{%"));
export const operationOf = (node) => {
  const app = apps[node.app];
  if (!app) return null;
  return (node.kind === "trigger" ? app.triggers : app.actions).find((op) => op.name === node.operation) || null;
};
export const titleOf = (node) => node.label || (operationOf(node) || {}).label || node.operation;
export const byId = (id) => state.nodes.find((n) => n._id === id);
export const indexOfKey = (key) => state.nodes.findIndex((n) => n.key === key);
export function markDirty() {
  state.dirty = true;
  if (saveState) saveState.textContent = T.unsaved;
}

// Where a node hands over: each branch, then `else`/`next` or the following node (graph.successors).
export function successors(index) {
  const node = state.nodes[index];
  const following = index + 1 < state.nodes.length ? state.nodes[index + 1].key : "";
  const out = [];
  if (node.branches && node.branches.length) {
    node.branches.forEach((b, i) => out.push({ key: b.next, label: `${T.ifShort} ${i + 1}`, branch: true }));
    out.push({ key: node.else || following, label: T.otherwiseShort, branch: true });
  } else {
    out.push({ key: node.next || following, label: "", branch: false });
  }
  return out.filter((t) => t.key && indexOfKey(t.key) >= 0);
}
// Steps that can run before `index` (all paths into it), in list order: what the picker offers.
export function ancestors(index) {
  const found = new Set();
  let changed = true;
  while (changed) {
    changed = false;
    state.nodes.forEach((node, i) => {
      if (found.has(i) || i === index) return;
      if (successors(i).some((t) => { const j = indexOfKey(t.key); return j === index || found.has(j); })) {
        found.add(i);
        changed = true;
      }
    });
  }
  return [...found].sort((a, b) => a - b).map((i) => state.nodes[i]);
}
export const problemCount = (count) => interpolate(ngettext("%(count)s problem", "%(count)s problems", count), { count }, true);
export function problemsOf(node) {
  return state.problems.filter((p) => p.node_key === node.key);
}

// ---- saving and activating -----------------------------------------------------------------
const shellHeaders = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { ...shellHeaders, "Content-Type": "application/json", Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json = {};
  try { json = await response.json(); } catch { json = { message: T.networkError }; }
  return { ok: response.ok, status: response.status, json };
}
function payload() {
  return {
    name: state.name.trim(),
    description: state.description,
    nodes: state.nodes.map(({ _id, ...n }) => ({
      key: n.key, kind: n.kind, app: n.app, operation: n.operation, label: n.label || "", parameters: n.parameters || {},
      position: n.position || null, next: n.next || "", branches: n.branches || [], else: n.else || "", connection: n.connection || null,
    })),
  };
}
function showBanner(message) {
  banner.replaceChildren();
  if (!message) { banner.hidden = true; return; }
  banner.append(el("p", { text: message }));
  const general = state.problems.filter((p) => !p.node_key && p.field !== "name" && p.field !== "description");
  if (general.length) banner.append(el("ul", {}, general.map((p) => el("li", { text: p.message }))));
  banner.hidden = false;
}
function applyProblems(json) {
  state.problems = Array.isArray(json.problems) ? json.problems : [];
  showBanner(json.message ? `${json.message} ${state.problems.length ? T.fixProblems : ""}` : T.networkError);
  for (const field of ["name", "description"]) {
    const container = root.querySelector(`.wf-details [data-error-for="${field}"]`);
    const mine = state.problems.filter((p) => !p.node_key && p.field === field).map((p) => p.message).join(" ");
    if (container) {
      if (!container.querySelector(":scope > .field-error")) container.append(el("p", { class: "field-error", id: `wf-err-${field}`, hidden: true }));
      showFieldError(container, mine);
    }
  }
  const firstNode = state.nodes.find((n) => problemsOf(n).length);
  if (firstNode) select(firstNode._id, false); else changed();
  banner.scrollIntoView({ block: "nearest" });
}
const busy = (on) => document.querySelectorAll(".wf-toolbar [data-action]").forEach((b) => { b.disabled = on; });
export async function save() {
  if (badJson.size) { showBanner(T.invalidJson); return false; }
  busy(true);
  if (saveState) saveState.textContent = T.saving;
  try {
    const { ok, json } = await post(data.urls.save, payload());
    if (!ok) { if (saveState) saveState.textContent = T.unsaved; applyProblems(json); return false; }
    state.dirty = false;
    state.problems = [];
    showBanner("");
    if (!data.workflow.id) { window.location.assign(json.url); return true; }
    if (saveState) saveState.textContent = T.saved;
    document.querySelector("[data-title]").textContent = state.name;
    changed();
    return true;
  } catch {
    showBanner(T.networkError);
    if (saveState) saveState.textContent = T.unsaved;
    return false;
  } finally { busy(false); }
}
export async function activate() {
  if (state.dirty && !(await save())) return;
  busy(true);
  if (saveState) saveState.textContent = T.activating;
  try {
    const { ok, json } = await post(data.urls.activate);
    if (!ok) { if (saveState) saveState.textContent = ""; applyProblems(json); return; }
    window.location.assign(json.url);
  } catch { showBanner(T.networkError); } finally { busy(false); }
}
