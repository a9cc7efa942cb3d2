// The visual workflow editor: draws the steps as boxes and arrows, edits one step at a time in a
// form generated from its action's parameter schema, and posts the whole definition back as JSON.
// The server (workflow services) is the judge: its problems come back as {node_key, field, message}
// and are shown beside the step and the field they concern.
const data = JSON.parse(document.getElementById("wf-editor-data").textContent);
const T = data.text;
// Django's JavaScript catalog (/jsi18n/, loaded first by base.html) translates the words built here.
const gettext = window.gettext || ((text) => text);
const ngettext = window.ngettext || ((one, many, count) => (count === 1 ? one : many));
const interpolate = window.interpolate || ((text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => values[name]));
const root = document.querySelector("[data-editor]");
const canvas = root.querySelector("[data-canvas]");
const inspector = root.querySelector("[data-inspector]");
const announcer = root.querySelector("[data-announce]");
const banner = document.querySelector("[data-banner]");
const saveState = document.querySelector("[data-save-state]");
const canWrite = data.canWrite;
const SVG = "http://www.w3.org/2000/svg";
const KEY_RE = /^[-a-zA-Z0-9_]+$/;
const LONG_TEXT = ["message", "body", "text", "html", "instructions", "description"];

const apps = Object.fromEntries(data.apps.map((a) => [a.slug, a]));
let serial = 0;
const state = {
  name: data.workflow.name,
  description: data.workflow.description,
  nodes: data.workflow.nodes.map((n) => ({ ...n, branches: n.branches || [], _id: ++serial })),
};
let selected = null; // a node's _id
let problems = [];
let dirty = false;
let lastField = null; // the text field the variable picker inserts into
const badJson = new Set(); // "<_id>:<field>" of JSON textareas that do not parse

// ---- small helpers -------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}
const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
const isExpr = (v) => typeof v === "string" && (v.includes("{{") || v.includes("{%"));
const operationOf = (node) => {
  const app = apps[node.app];
  if (!app) return null;
  return (node.kind === "trigger" ? app.triggers : app.actions).find((op) => op.name === node.operation) || null;
};
const titleOf = (node) => node.label || (operationOf(node) || {}).label || node.operation;
const byId = (id) => state.nodes.find((n) => n._id === id);
const indexOfKey = (key) => state.nodes.findIndex((n) => n.key === key);
function announce(text) {
  announcer.textContent = "";
  window.setTimeout(() => { announcer.textContent = text; }, 30);
}
function markDirty() {
  dirty = true;
  if (saveState) saveState.textContent = T.unsaved;
}

// Where a node hands over: each branch, then `else`/`next` or the following node (graph.successors).
function successors(index) {
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
function ancestors(index) {
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
const problemCount = (count) => interpolate(ngettext("%(count)s problem", "%(count)s problems", count), { count }, true);
function problemsOf(node) {
  return problems.filter((p) => p.node_key === node.key);
}

// ---- the graph -----------------------------------------------------------------------------
function renderGraph() {
  canvas.replaceChildren();
  const arrows = svg("svg", { class: "wf-arrows", "aria-hidden": "true" });
  const list = el("ol", { class: "wf-nodes", "aria-labelledby": "wf-graph-title" });
  state.nodes.forEach((node, index) => list.append(nodeBox(node, index)));
  // Room on the right for the arrows that jump over steps (branches, explicit "then go to").
  const jumps = state.nodes.reduce((sum, _, i) => sum + successors(i).filter((t) => t.branch || indexOfKey(t.key) !== i + 1).length, 0);
  canvas.style.setProperty("--wf-gutter", jumps ? `${Math.min(24 + jumps * 9, 110)}px` : "0px");
  canvas.append(arrows, list);
  if (!state.nodes.length) canvas.append(el("p", { class: "empty", text: T.empty }));
  if (canWrite) {
    const hasTrigger = state.nodes.some((n) => n.kind === "trigger");
    canvas.append(el("button", {
      type: "button", class: "button wf-add", "data-action": "add-step",
      text: hasTrigger ? `+ ${T.addStep}` : `+ ${T.addTrigger}`, onclick: () => openPicker(),
    }));
  }
  window.requestAnimationFrame(drawArrows);
}

function nodeBox(node, index) {
  const op = operationOf(node);
  const app = apps[node.app];
  const mine = problemsOf(node);
  const flowId = `wf-flow-${node._id}`;
  const box = el("li", {
    class: ["wf-node", `kind-${node.kind}`, node._id === selected && "is-selected", mine.length && "has-error"]
      .filter(Boolean).join(" "),
    "data-id": node._id, "data-key": node.key,
  });
  const main = el("button", {
    type: "button", class: "wf-node-main", "aria-pressed": node._id === selected ? "true" : "false",
    "aria-describedby": flowId, onclick: () => select(node._id, true),
  },
  el("span", { class: "wf-node-kind", text: `${node.kind === "trigger" ? T.trigger : `${T.step} ${index + (state.nodes[0].kind === "trigger" ? 0 : 1)}`} · ${app ? app.name : node.app}` }),
  el("span", { class: "wf-node-title", text: titleOf(node) }),
  el("code", { class: "wf-node-key", text: node.key }));
  box.append(main);
  if (canWrite) {
    const first = index === 0 || node.kind === "trigger" || (index === 1 && state.nodes[0].kind === "trigger");
    const last = index === state.nodes.length - 1 || node.kind === "trigger";
    const moves = node.kind === "trigger" ? [] : [
      el("button", { type: "button", class: "button-quiet", "data-tool": "up", "aria-label": `${T.moveUp}: ${titleOf(node)}`, title: T.moveUp, disabled: first, onclick: () => move(node._id, -1) }, "↑"),
      el("button", { type: "button", class: "button-quiet", "data-tool": "down", "aria-label": `${T.moveDown}: ${titleOf(node)}`, title: T.moveDown, disabled: last, onclick: () => move(node._id, 1) }, "↓")];
    box.append(el("div", { class: "wf-node-tools" }, moves,
      el("button", { type: "button", class: "button-quiet wf-remove", "data-tool": "remove", "aria-label": `${T.remove}: ${titleOf(node)}`, title: T.remove, onclick: () => remove(node._id) }, "✕")));
  }
  box.append(el("p", { class: "wf-node-flow", id: flowId, text: flowText(index) }));
  if (mine.length) box.append(el("p", { class: "wf-node-errors", text: problemCount(mine.length) }));
  if (!op && node.app) box.classList.add("has-error");
  return box;
}

function flowText(index) {
  const node = state.nodes[index];
  const name = (key) => { const j = indexOfKey(key); return j >= 0 ? titleOf(state.nodes[j]) : key; };
  if (node.branches && node.branches.length) {
    const parts = node.branches.map((b) => `${T.ifShort} ${b.when || "…"} → ${b.next ? name(b.next) : "…"}`);
    const following = state.nodes[index + 1];
    const otherwise = node.else || (following ? following.key : "");
    parts.push(`${T.otherwiseShort} → ${otherwise ? name(otherwise) : T.end}`);
    return parts.join(" · ");
  }
  const targets = successors(index);
  return targets.length ? `→ ${name(targets[0].key)}` : `→ ${T.end}`;
}

function drawArrows() {
  const arrows = canvas.querySelector(".wf-arrows");
  if (!arrows) return;
  const base = canvas.getBoundingClientRect();
  arrows.setAttribute("width", base.width);
  arrows.setAttribute("height", base.height);
  arrows.replaceChildren();
  const defs = svg("defs", {});
  for (const [id, cls] of [["wf-head", "plain"], ["wf-head-branch", "branch"]]) {
    const marker = svg("marker", { id, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse", class: cls });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z" }));
    defs.append(marker);
  }
  arrows.append(defs);
  const boxes = [...canvas.querySelectorAll(".wf-node")].map((b) => {
    const r = b.getBoundingClientRect();
    return { left: r.left - base.left, right: r.right - base.left, top: r.top - base.top, bottom: r.bottom - base.top, mid: (r.top + r.bottom) / 2 - base.top };
  });
  const gutter = Math.max(0, ...boxes.map((b) => b.right));
  let lane = 0;
  const incoming = {};
  state.nodes.forEach((node, i) => {
    const from = boxes[i];
    const targets = successors(i);
    targets.forEach((target, k) => {
      const j = indexOfKey(target.key);
      const to = boxes[j];
      const cls = target.branch ? "wf-arrow branch" : "wf-arrow";
      const head = target.branch ? "url(#wf-head-branch)" : "url(#wf-head)";
      if (j === i + 1 && !target.branch) {
        const x = from.left + 28;
        arrows.append(svg("path", { class: cls, d: `M${x},${from.bottom} V${to.top - 1}`, "marker-end": head }));
        return;
      }
      lane += 1;
      const x = Math.min(gutter + 10 + lane * 9, base.width - 4);
      const y0 = from.top + 16 + k * 15;
      incoming[j] = (incoming[j] || 0) + 1;
      const y1 = to.top + 2 + incoming[j] * 10;
      arrows.append(svg("path", { class: cls, d: `M${from.right},${y0} H${x} V${y1} H${to.right + 1}`, "marker-end": head }));
      if (target.label) {
        const text = svg("text", { x: from.right + 4, y: y0 - 3, class: "wf-arrow-label" });
        text.textContent = target.label;
        arrows.append(text);
      }
    });
  });
}
new ResizeObserver(() => window.requestAnimationFrame(drawArrows)).observe(canvas);

// ---- editing the list ----------------------------------------------------------------------
function uniqueKey(base) {
  const slug = (base || "step").toLowerCase().replace(/[^a-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "") || "step";
  let key = slug;
  for (let n = 2; state.nodes.some((x) => x.key === key); n++) key = `${slug}_${n}`;
  return key;
}
function defaults(op) {
  const params = {};
  const schema = op.parameters || {};
  for (const name of schema.required || []) {
    const prop = (schema.properties || {})[name] || {};
    if (fieldKind(prop) === "kv") params[name] = {};
  }
  return params;
}
function addNode(app, op, kind) {
  const node = {
    key: uniqueKey(op.name), kind, app: app.slug, operation: op.name, label: "", parameters: defaults(op),
    position: null, next: "", branches: app.slug === "core" && op.name === "branch" ? [{ when: "", next: "" }] : [],
    else: "", connection: null, _id: ++serial,
  };
  if (kind === "trigger") state.nodes.unshift(node);
  else {
    const at = selected ? state.nodes.findIndex((n) => n._id === selected) + 1 : state.nodes.length;
    state.nodes.splice(Math.max(at, state.nodes[0] && state.nodes[0].kind === "trigger" ? 1 : 0), 0, node);
  }
  markDirty();
  select(node._id, true);
  announce(T.added);
}
function move(id, delta) {
  const i = state.nodes.findIndex((n) => n._id === id);
  const j = i + delta;
  if (j < 0 || j >= state.nodes.length || state.nodes[j].kind === "trigger" || state.nodes[i].kind === "trigger") return;
  [state.nodes[i], state.nodes[j]] = [state.nodes[j], state.nodes[i]];
  markDirty();
  renderGraph();
  const tool = canvas.querySelector(`[data-id="${id}"] [data-tool="${delta < 0 ? "up" : "down"}"]`);
  const fallback = canvas.querySelector(`[data-id="${id}"] .wf-node-main`);
  (tool && !tool.disabled ? tool : fallback).focus();
  announce(T.moved);
}
function remove(id) {
  const i = state.nodes.findIndex((n) => n._id === id);
  const gone = state.nodes[i];
  state.nodes.splice(i, 1);
  for (const node of state.nodes) {
    if (node.next === gone.key) node.next = "";
    if (node.else === gone.key) node.else = "";
    for (const b of node.branches || []) if (b.next === gone.key) b.next = "";
  }
  problems = problems.filter((p) => p.node_key !== gone.key);
  if (selected === id) selected = null;
  markDirty();
  renderGraph();
  renderInspector();
  const neighbour = state.nodes[Math.min(i, state.nodes.length - 1)];
  const target = neighbour ? canvas.querySelector(`[data-id="${neighbour._id}"] .wf-node-main`) : canvas.querySelector(".wf-add");
  if (target) target.focus();
  announce(T.removed);
}
function renameKey(node, key, slot) {
  if (key === node.key) return;
  if (!KEY_RE.test(key) || state.nodes.some((n) => n !== node && n.key === key)) {
    showFieldError(slot, T.keyHelp);
    return;
  }
  const old = node.key;
  const ref = new RegExp(`steps\\.${old.replace(/[-]/g, "\\-")}(?![\\w-])`, "g");
  const rewrite = (value) => {
    if (typeof value === "string") return value.replace(ref, `steps.${key}`);
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]));
    return value;
  };
  for (const other of state.nodes) {
    if (other.next === old) other.next = key;
    if (other.else === old) other.else = key;
    for (const b of other.branches || []) { if (b.next === old) b.next = key; b.when = rewrite(b.when); }
    other.parameters = rewrite(other.parameters);
  }
  for (const p of problems) if (p.node_key === old) p.node_key = key;
  node.key = key;
  markDirty();
  renderGraph();
}

// ---- choosing a trigger or an action -------------------------------------------------------
function openPicker() {
  const needTrigger = !state.nodes.some((n) => n.kind === "trigger");
  const kind = needTrigger ? "trigger" : "action";
  const dialog = el("dialog", { class: "wf-dialog", "aria-labelledby": "wf-dialog-title" });
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.append(el("h2", { id: "wf-dialog-title", text: needTrigger ? T.chooseTrigger : T.chooseAction }));
  for (const app of data.apps) {
    const ops = needTrigger ? app.triggers : app.actions;
    if (!ops.length) continue;
    const group = el("section", { class: "wf-dialog-app" }, el("h3", { text: app.name }));
    if (app.description) group.append(el("p", { class: "field-help", text: app.description }));
    const list = el("div", { class: "wf-dialog-ops" });
    for (const op of ops) {
      list.append(el("button", {
        type: "button", class: "wf-op", "data-app": app.slug, "data-operation": op.name,
        onclick: () => { close(); addNode(app, op, kind); },
      }, el("strong", { text: op.label }), op.description ? el("span", { text: op.description }) : null));
    }
    group.append(list);
    dialog.append(group);
  }
  dialog.append(el("div", { class: "actions wf-dialog-foot" }, el("button", { type: "button", class: "button-quiet", text: T.cancel, onclick: close })));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

// ---- the selected step's form --------------------------------------------------------------
function select(id, focusHeading) {
  selected = id;
  renderGraph();
  renderInspector();
  if (focusHeading) {
    const heading = inspector.querySelector("h2");
    if (heading) {
      heading.focus();
      if (window.matchMedia("(max-width: 899px)").matches) inspector.scrollIntoView({ block: "start" });
    }
  }
}

function fieldKind(schema) {
  if (!schema || typeof schema !== "object") return "any";
  const simple = (s) => s && ["string", "number", "integer"].includes(s.type) && !s.enum;
  if (Array.isArray(schema.enum)) return "enum";
  if (schema.anyOf || schema.oneOf) {
    const variants = schema.anyOf || schema.oneOf;
    return variants.every((v) => simple(v) || (v.type === "array" && simple(v.items))) ? "text" : "json";
  }
  switch (schema.type) {
    case "string": return "text";
    case "number": case "integer": return "number";
    case "boolean": return "boolean";
    case "array": return simple(schema.items) ? "lines" : "json";
    case "object": {
      const extra = schema.additionalProperties;
      const open = extra === true || (extra && typeof extra === "object" && (simple(extra) || !extra.type));
      return !Object.keys(schema.properties || {}).length && open ? "kv" : "json";
    }
    case undefined: return "any";
    default: return "json";
  }
}

function slot(field, ...children) {
  const id = `wf-err-${selected}-${field.replace(/[^\w-]/g, "_")}`;
  return el("div", { class: "wf-field", "data-error-for": field }, ...children, el("p", { class: "field-error", id, hidden: true }));
}
function describedBy(field, helpId) {
  return [helpId, `wf-err-${selected}-${field.replace(/[^\w-]/g, "_")}`].filter(Boolean).join(" ");
}
function showFieldError(container, message) {
  const error = container.querySelector(":scope > .field-error");
  error.textContent = message;
  error.hidden = !message;
  for (const input of container.querySelectorAll("input, select, textarea")) {
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }
}
function clearProblem(node, field) {
  const before = problems.length;
  problems = problems.filter((p) => !(p.node_key === node.key && p.field === field));
  if (before !== problems.length) renderGraph();
}

function renderInspector() {
  inspector.replaceChildren();
  lastField = null;
  const node = byId(selected);
  if (!node) {
    inspector.append(el("p", { class: "muted", text: T.selectStep }));
    return;
  }
  const index = state.nodes.indexOf(node);
  const op = operationOf(node);
  const app = apps[node.app];
  inspector.append(el("h2", { tabindex: "-1", id: "wf-inspector-title", text: titleOf(node) }));
  inspector.append(el("p", { class: "muted wf-inspector-sub", text: `${app ? app.name : node.app} · ${op ? op.label : node.operation}` }));
  if (op && op.description) inspector.append(el("p", { class: "field-help", text: op.description }));
  const general = el("ul", { class: "wf-node-problems field-error", "aria-label": problemCount(problemsOf(node).length) });
  inspector.append(general);
  const form = el("fieldset", { class: "wf-form", disabled: !canWrite }, el("legend", { class: "visually-hidden", text: titleOf(node) }));
  form.addEventListener("submit", (e) => e.preventDefault());
  inspector.append(form);

  const pre = `wf-${node._id}`;
  form.append(slot("label", el("label", { for: `${pre}-label`, text: T.label }),
    el("input", { id: `${pre}-label`, value: node.label || "", maxlength: "200", placeholder: (op || {}).label || "", "aria-describedby": describedBy("label"),
      oninput: (e) => { node.label = e.target.value; markDirty(); renderGraphKeepFocus(); inspector.querySelector("h2").textContent = titleOf(node); } })));
  const keyHelp = `${pre}-key-help`;
  const keySlot = slot("key", el("label", { for: `${pre}-key`, text: T.key }),
    el("input", { id: `${pre}-key`, value: node.key, maxlength: "64", pattern: "[-a-zA-Z0-9_]+", autocomplete: "off", spellcheck: "false", "aria-describedby": describedBy("key", keyHelp),
      onchange: (e) => { showFieldError(keySlot, ""); renameKey(node, e.target.value.trim(), keySlot); } }),
    el("p", { class: "field-help", id: keyHelp, text: T.keyHelp }));
  form.append(keySlot);

  if (app && app.auth !== "none") form.append(connectionField(node, app, pre));

  form.append(el("h3", { text: T.settings }));
  const props = (op && op.parameters && op.parameters.properties) || {};
  const required = (op && op.parameters && op.parameters.required) || [];
  if (!op) form.append(el("p", { class: "field-error", text: `${node.app} · ${node.operation}?` }));
  else if (!Object.keys(props).length) form.append(el("p", { class: "muted", text: T.noSettings }));
  for (const [name, schema] of Object.entries(props)) form.append(paramField(node, name, schema, required.includes(name), pre));

  if (node.kind === "action") form.append(flowFields(node, index, pre));
  if (canWrite && node.kind !== "trigger") inspector.append(picker(node, index));
  showProblems(node, general);
}

function renderGraphKeepFocus() {
  const active = document.activeElement;
  renderGraph();
  if (active && !canvas.contains(active)) active.focus();
}

function connectionField(node, app, pre) {
  const options = data.connections.filter((c) => c.provider === app.slug);
  const select = el("select", { id: `${pre}-connection`, "aria-describedby": describedBy("connection"),
    onchange: (e) => { node.connection = e.target.value || null; markDirty(); clearProblem(node, "connection"); } },
  el("option", { value: "", text: T.chooseConnection }),
  options.map((c) => el("option", { value: c.id, selected: c.id === node.connection, text: c.active ? c.name : interpolate(gettext("%(name)s (not active)"), { name: c.name }, true) })));
  return slot("connection", el("label", { for: `${pre}-connection`, text: T.connection }), select,
    options.length ? null : el("p", { class: "field-help", text: T.noConnection }));
}

function paramField(node, name, schema, isRequired, pre) {
  const field = `parameters.${name}`;
  const id = `${pre}-p-${name}`;
  const helpId = schema.description ? `${id}-help` : null;
  const kind = fieldKind(schema);
  const value = (node.parameters || {})[name];
  const labelText = (schema.title || name.replace(/_/g, " ")).replace(/^./, (c) => c.toUpperCase());
  const label = el("label", { for: id }, labelText, isRequired ? el("span", { class: "wf-req", text: ` (${T.required})` }) : null);
  const help = helpId ? el("p", { class: "field-help", id: helpId, text: schema.description }) : null;
  const described = describedBy(field, helpId);
  const set = (v) => {
    node.parameters = { ...(node.parameters || {}) };
    if (v === undefined) delete node.parameters[name]; else node.parameters[name] = v;
    markDirty();
    clearProblem(node, field);
  };
  let input;
  if (kind === "enum") {
    input = el("select", { id, "aria-describedby": described, onchange: (e) => set(e.target.value === "" ? undefined : schema.enum[Number(e.target.value)]) },
      el("option", { value: "", text: "—" }),
      schema.enum.map((option, i) => el("option", { value: String(i), selected: option === value, text: String(option) })));
  } else if (kind === "boolean") {
    input = el("input", { id, type: "checkbox", checked: value === true, "aria-describedby": described, onchange: (e) => set(e.target.checked) });
    return slot(field, el("div", { class: "wf-check" }, input, el("label", { for: id }, labelText)), help);
  } else if (kind === "kv") {
    return slot(field, el("fieldset", { class: "wf-kv", "aria-describedby": described }, el("legend", {}, labelText, isRequired ? el("span", { class: "wf-req", text: ` (${T.required})` }) : null), kvRows(node, name, value, set, id)), help);
  } else if (kind === "json") {
    const text = value === undefined ? "" : JSON.stringify(value, null, 2);
    const jsonHelp = `${id}-json-help`;
    input = el("textarea", { id, rows: "5", spellcheck: "false", "data-expr": "true", "aria-describedby": `${described} ${jsonHelp}`,
      oninput: (e) => {
        const raw = e.target.value.trim();
        const container = e.target.closest(".wf-field");
        if (!raw) { badJson.delete(`${node._id}:${field}`); showFieldError(container, ""); set(undefined); return; }
        try {
          const parsed = JSON.parse(raw);
          badJson.delete(`${node._id}:${field}`);
          showFieldError(container, "");
          set(parsed);
        } catch {
          badJson.add(`${node._id}:${field}`);
          showFieldError(container, T.invalidJson);
        }
      } });
    input.value = text;
    return slot(field, label, input, help, el("p", { class: "field-help", id: jsonHelp, text: T.jsonHelp }));
  } else if (kind === "lines") {
    input = el("textarea", { id, rows: "3", "data-expr": "true", "aria-describedby": described,
      oninput: (e) => {
        const items = e.target.value.split("\n").map((s) => s.trim()).filter(Boolean);
        const numeric = ["number", "integer"].includes((schema.items || {}).type);
        set(items.length ? items.map((s) => (numeric && !isExpr(s) && s !== "" && Number.isFinite(Number(s)) ? Number(s) : s)) : undefined);
      } });
    input.value = Array.isArray(value) ? value.join("\n") : (value ?? "");
    return slot(field, label, input, help, el("p", { class: "field-help", text: T.linesHelp }));
  } else {
    const long = LONG_TEXT.includes(name) || (schema.maxLength || 0) > 300;
    const shown = Array.isArray(value) ? value.join(", ") : value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
    input = el(long ? "textarea" : "input", { id, "data-expr": "true", "aria-describedby": described, rows: long ? "4" : null,
      inputmode: kind === "number" ? "decimal" : null, autocomplete: "off",
      oninput: (e) => set(parseValue(kind, e.target.value)) });
    input.value = shown;
  }
  return slot(field, label, input, help);
}

function parseValue(kind, raw) {
  if (raw.trim() === "") return undefined;
  if (isExpr(raw)) return raw;
  if (kind === "number") {
    const n = Number(raw.trim().replace(",", "."));
    return Number.isFinite(n) ? n : raw;
  }
  if (kind === "any") {
    const t = raw.trim();
    if (/^[[{]/.test(t) || ["true", "false", "null"].includes(t) || /^-?\d+(\.\d+)?$/.test(t)) {
      try { return JSON.parse(t); } catch { return raw; }
    }
  }
  return raw;
}

function kvRows(node, name, value, set, id) {
  const box = el("div", { class: "wf-kv-rows" });
  const entries = value && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
  const collect = () => {
    const out = {};
    for (const row of box.querySelectorAll(".wf-kv-row")) {
      const k = row.querySelector("[data-kv=name]").value.trim();
      if (k) out[k] = row.querySelector("[data-kv=value]").value;
    }
    set(out);
  };
  const addRow = (k, v) => {
    const n = box.querySelectorAll(".wf-kv-row").length + 1;
    const row = el("div", { class: "wf-kv-row" },
      el("div", {}, el("label", { for: `${id}-k${n}`, class: "wf-small", text: T.rowName }),
        el("input", { id: `${id}-k${n}`, "data-kv": "name", value: k, autocomplete: "off", spellcheck: "false", oninput: collect })),
      el("div", {}, el("label", { for: `${id}-v${n}`, class: "wf-small", text: T.rowValue }),
        el("input", { id: `${id}-v${n}`, "data-kv": "value", "data-expr": "true", value: typeof v === "string" ? v : JSON.stringify(v), autocomplete: "off", oninput: collect })),
      el("button", { type: "button", class: "button-quiet", "aria-label": `${T.removeRow} ${n}`, title: T.removeRow, onclick: () => { row.remove(); collect(); } }, "✕"));
    box.append(row);
    return row;
  };
  entries.forEach(([k, v]) => addRow(k, v));
  if (!entries.length) addRow("", "");
  return [box, el("button", { type: "button", class: "button-quiet wf-kv-add", onclick: () => addRow("", "").querySelector("input").focus() }, `+ ${T.addRow}`)];
}

function flowFields(node, index, pre) {
  const wrap = el("div", { class: "wf-flow" });
  const others = state.nodes.filter((n) => n !== node && n.kind !== "trigger");
  const options = (current, emptyText) => [el("option", { value: "", text: emptyText }),
    ...others.map((n) => el("option", { value: n.key, selected: n.key === current, text: `${titleOf(n)} (${n.key})` }))];
  const isBranch = node.app === "core" && node.operation === "branch";
  if (!isBranch) {
    wrap.append(slot("next", el("label", { for: `${pre}-next`, text: T.next }),
      el("select", { id: `${pre}-next`, "aria-describedby": describedBy("next"), onchange: (e) => { node.next = e.target.value; markDirty(); clearProblem(node, "next"); renderGraph(); } },
        options(node.next, index + 1 < state.nodes.length ? T.nextDefault : T.end))));
    return wrap;
  }
  const list = el("div", { class: "wf-branches" });
  (node.branches || []).forEach((branch, i) => {
    const id = `${pre}-b${i}`;
    list.append(el("fieldset", { class: "wf-branch" }, el("legend", { text: `${T.ifShort} ${i + 1}` }),
      el("label", { for: `${id}-when`, text: T.branchWhen }),
      el("input", { id: `${id}-when`, value: branch.when || "", "data-expr": "true", placeholder: "{{ trigger.amount > 1000 }}", autocomplete: "off",
        oninput: (e) => { branch.when = e.target.value; markDirty(); renderGraphKeepFocus(); } }),
      el("label", { for: `${id}-next`, text: T.branchNext }),
      el("select", { id: `${id}-next`, onchange: (e) => { branch.next = e.target.value; markDirty(); clearProblem(node, "branches"); renderGraph(); } }, options(branch.next, "—")),
      el("button", { type: "button", class: "button-quiet", onclick: () => { node.branches.splice(i, 1); markDirty(); renderGraph(); renderInspector(); } }, T.removeBranch)));
  });
  wrap.append(slot("branches", el("h3", { text: T.branches }), list,
    el("button", { type: "button", class: "button-quiet", onclick: () => { node.branches.push({ when: "", next: "" }); markDirty(); renderGraph(); renderInspector(); inspector.querySelector(`#${pre}-b${node.branches.length - 1}-when`).focus(); } }, `+ ${T.addBranch}`)));
  wrap.append(slot("else", el("label", { for: `${pre}-else`, text: T.otherwise }),
    el("select", { id: `${pre}-else`, "aria-describedby": describedBy("else"), onchange: (e) => { node.else = e.target.value; markDirty(); clearProblem(node, "else"); renderGraph(); } },
      options(node.else, index + 1 < state.nodes.length ? T.nextDefault : T.end))));
  return wrap;
}

function showProblems(node, general) {
  for (const problem of problemsOf(node)) {
    const container = inspector.querySelector(`[data-error-for="${CSS.escape(problem.field)}"]`);
    if (container) {
      const error = container.querySelector(":scope > .field-error");
      showFieldError(container, error.textContent ? `${error.textContent} ${problem.message}` : problem.message);
    } else {
      general.append(el("li", { text: problem.message }));
    }
  }
}

// ---- the variable picker -------------------------------------------------------------------
function picker(node, index) {
  const earlier = ancestors(index);
  const box = el("details", { class: "wf-picker", open: true }, el("summary", { text: T.insertValue }),
    el("p", { class: "field-help", text: T.insertHelp }));
  const chip = (path) => el("button", { type: "button", class: "wf-chip", "data-insert": path, onclick: () => insert(path) }, path);
  const trigger = earlier.find((n) => n.kind === "trigger");
  if (!trigger && !earlier.length) box.append(el("p", { class: "muted", text: T.nothingEarlier }));
  if (trigger) {
    const op = operationOf(trigger) || {};
    const paths = new Set(Object.keys((op.output || {}).properties || {}).map((k) => `trigger.${k}`));
    for (const [k, inner] of Object.entries(data.sample || {})) {
      paths.add(`trigger.${k}`);
      if (inner && typeof inner === "object") for (const kk of Object.keys(inner)) paths.add(`trigger.${k}.${kk}`);
    }
    const otherId = `wf-other-${node._id}`;
    const other = el("input", { id: otherId, placeholder: "customer.email", autocomplete: "off", spellcheck: "false" });
    box.append(el("section", { class: "wf-picker-group" }, el("h3", { text: T.triggerData }),
      el("div", { class: "wf-chips" }, chip("trigger"), [...paths].map(chip)),
      el("div", { class: "wf-other" }, el("label", { for: otherId, class: "wf-small", text: T.otherField }), other,
        el("button", { type: "button", class: "button-quiet", onclick: () => { const v = other.value.trim().replace(/^trigger\./, ""); if (v) insert(`trigger.${v}`); } }, T.insert))));
  }
  for (const step of earlier.filter((n) => n.kind !== "trigger")) {
    const op = operationOf(step) || {};
    const fields = new Set(Object.keys((op.output || {}).properties || {}));
    if (step.app === "core" && step.operation === "set_variables") Object.keys((step.parameters || {}).variables || {}).forEach((k) => fields.add(k));
    box.append(el("section", { class: "wf-picker-group" }, el("h3", { text: fmt(T.fromStep, { step: titleOf(step) }) }),
      el("div", { class: "wf-chips" }, chip(`steps.${step.key}`), [...fields].map((f) => chip(`steps.${step.key}.${f}`)))));
  }
  return box;
}
inspector.addEventListener("focusin", (e) => {
  if (e.target.matches("[data-expr]")) lastField = e.target;
});
function insert(path) {
  if (!lastField || !inspector.contains(lastField)) {
    announce(T.pickFieldFirst);
    const first = inspector.querySelector("[data-expr]");
    if (!first) return;
    lastField = first;
  }
  const text = `{{ ${path} }}`;
  const field = lastField;
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? field.value.length;
  field.value = field.value.slice(0, start) + text + field.value.slice(end);
  field.focus();
  field.setSelectionRange(start + text.length, start + text.length);
  field.dispatchEvent(new Event("input", { bubbles: true }));
  announce(fmt(T.inserted, { value: text }));
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
  const general = problems.filter((p) => !p.node_key && p.field !== "name" && p.field !== "description");
  if (general.length) banner.append(el("ul", {}, general.map((p) => el("li", { text: p.message }))));
  banner.hidden = false;
}
function applyProblems(json) {
  problems = Array.isArray(json.problems) ? json.problems : [];
  showBanner(json.message ? `${json.message} ${problems.length ? T.fixProblems : ""}` : T.networkError);
  for (const field of ["name", "description"]) {
    const container = root.querySelector(`.wf-details [data-error-for="${field}"]`);
    const mine = problems.filter((p) => !p.node_key && p.field === field).map((p) => p.message).join(" ");
    if (container) {
      if (!container.querySelector(":scope > .field-error")) container.append(el("p", { class: "field-error", id: `wf-err-${field}`, hidden: true }));
      showFieldError(container, mine);
    }
  }
  const firstNode = state.nodes.find((n) => problemsOf(n).length);
  if (firstNode) select(firstNode._id, false); else { renderGraph(); renderInspector(); }
  banner.scrollIntoView({ block: "nearest" });
}
const busy = (on) => document.querySelectorAll(".wf-toolbar [data-action]").forEach((b) => { b.disabled = on; });
async function save() {
  if (badJson.size) { showBanner(T.invalidJson); return false; }
  busy(true);
  if (saveState) saveState.textContent = T.saving;
  try {
    const { ok, json } = await post(data.urls.save, payload());
    if (!ok) { if (saveState) saveState.textContent = T.unsaved; applyProblems(json); return false; }
    dirty = false;
    problems = [];
    showBanner("");
    if (!data.workflow.id) { window.location.assign(json.url); return true; }
    if (saveState) saveState.textContent = T.saved;
    document.querySelector("[data-title]").textContent = state.name;
    renderGraph();
    renderInspector();
    return true;
  } catch {
    showBanner(T.networkError);
    if (saveState) saveState.textContent = T.unsaved;
    return false;
  } finally { busy(false); }
}
async function activate() {
  if (dirty && !(await save())) return;
  busy(true);
  if (saveState) saveState.textContent = T.activating;
  try {
    const { ok, json } = await post(data.urls.activate);
    if (!ok) { if (saveState) saveState.textContent = ""; applyProblems(json); return; }
    window.location.assign(json.url);
  } catch { showBanner(T.networkError); } finally { busy(false); }
}

// ---- wiring --------------------------------------------------------------------------------
for (const input of root.querySelectorAll("[data-workflow-field]")) {
  input.addEventListener("input", () => { state[input.dataset.workflowField] = input.value; markDirty(); });
}
const saveButton = document.querySelector('[data-action="save"]');
if (saveButton) saveButton.addEventListener("click", save);
const activateButton = document.querySelector('[data-action="activate"]');
if (activateButton) activateButton.addEventListener("click", activate);
window.addEventListener("beforeunload", (e) => { if (dirty) { e.preventDefault(); e.returnValue = T.leave; } });
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "s" && canWrite) { e.preventDefault(); save(); }
});
renderGraph();
renderInspector();
root.dataset.ready = "true";
