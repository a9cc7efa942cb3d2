// Changing the list of steps: adding one (through the chooser dialog), moving, removing, renaming its key.
import { T, announce, canvas, data, el, showFieldError } from "./dom.js";
import { fieldKind } from "./schema.js";
import { KEY_RE, changed, markDirty, nextId, select, state } from "./state.js";

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
export function addNode(app, op, kind) {
  const node = {
    key: uniqueKey(op.name), kind, app: app.slug, operation: op.name, label: "", parameters: defaults(op),
    position: null, next: "", branches: app.slug === "core" && op.name === "branch" ? [{ when: "", next: "" }] : [],
    else: "", connection: null, _id: nextId(),
  };
  if (kind === "trigger") state.nodes.unshift(node);
  else {
    const at = state.selected ? state.nodes.findIndex((n) => n._id === state.selected) + 1 : state.nodes.length;
    state.nodes.splice(Math.max(at, state.nodes[0] && state.nodes[0].kind === "trigger" ? 1 : 0), 0, node);
  }
  markDirty();
  select(node._id, true);
  announce(T.added);
}
export function move(id, delta) {
  const i = state.nodes.findIndex((n) => n._id === id);
  const j = i + delta;
  if (j < 0 || j >= state.nodes.length || state.nodes[j].kind === "trigger" || state.nodes[i].kind === "trigger") return;
  [state.nodes[i], state.nodes[j]] = [state.nodes[j], state.nodes[i]];
  markDirty();
  changed({ graph: true });
  const tool = canvas.querySelector(`[data-id="${id}"] [data-tool="${delta < 0 ? "up" : "down"}"]`);
  const fallback = canvas.querySelector(`[data-id="${id}"] .wf-node-main`);
  (tool && !tool.disabled ? tool : fallback).focus();
  announce(T.moved);
}
export function remove(id) {
  const i = state.nodes.findIndex((n) => n._id === id);
  const gone = state.nodes[i];
  state.nodes.splice(i, 1);
  for (const node of state.nodes) {
    if (node.next === gone.key) node.next = "";
    if (node.else === gone.key) node.else = "";
    for (const b of node.branches || []) if (b.next === gone.key) b.next = "";
  }
  state.problems = state.problems.filter((p) => p.node_key !== gone.key);
  if (state.selected === id) state.selected = null;
  markDirty();
  changed();
  const neighbour = state.nodes[Math.min(i, state.nodes.length - 1)];
  const target = neighbour ? canvas.querySelector(`[data-id="${neighbour._id}"] .wf-node-main`) : canvas.querySelector(".wf-add");
  if (target) target.focus();
  announce(T.removed);
}
export function renameKey(node, key, slot) {
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
  for (const p of state.problems) if (p.node_key === old) p.node_key = key;
  node.key = key;
  markDirty();
  changed({ graph: true });
}

// ---- choosing a trigger or an action -------------------------------------------------------
export function openPicker() {
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
