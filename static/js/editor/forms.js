// The selected step's settings: a form generated from its action's parameter schema (JSON Schema).
import { T, canWrite, data, el, gettext, inspector, interpolate, showFieldError } from "./dom.js";
import { forgetField, picker } from "./picker.js";
import { fieldKind } from "./schema.js";
import { apps, badJson, byId, changed, isExpr, markDirty, operationOf, problemCount, problemsOf, state, titleOf } from "./state.js";
import { renameKey } from "./steps.js";

const LONG_TEXT = ["message", "body", "text", "html", "instructions", "description"];

function slot(field, ...children) {
  const id = `wf-err-${state.selected}-${field.replace(/[^\w-]/g, "_")}`;
  return el("div", { class: "wf-field", "data-error-for": field }, ...children, el("p", { class: "field-error", id, hidden: true }));
}
function describedBy(field, helpId) {
  return [helpId, `wf-err-${state.selected}-${field.replace(/[^\w-]/g, "_")}`].filter(Boolean).join(" ");
}
function clearProblem(node, field) {
  const before = state.problems.length;
  state.problems = state.problems.filter((p) => !(p.node_key === node.key && p.field === field));
  if (before !== state.problems.length) changed({ graph: true });
}

// Drawn again on every change of the model (main.js subscribes it to state.js); `focusHeading` moves the
// keyboard to the selected step's heading (on a narrow screen the inspector sits below the graph).
export function renderInspector(focusHeading = false) {
  drawInspector();
  const heading = focusHeading && inspector.querySelector("h2");
  if (heading) {
    heading.focus();
    if (window.matchMedia("(max-width: 899px)").matches) inspector.scrollIntoView({ block: "start" });
  }
}
function drawInspector() {
  inspector.replaceChildren();
  forgetField();
  const node = byId(state.selected);
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
      oninput: (e) => { node.label = e.target.value; markDirty(); changed({ graph: true, keepFocus: true }); inspector.querySelector("h2").textContent = titleOf(node); } })));
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
      el("select", { id: `${pre}-next`, "aria-describedby": describedBy("next"), onchange: (e) => { node.next = e.target.value; markDirty(); clearProblem(node, "next"); changed({ graph: true }); } },
        options(node.next, index + 1 < state.nodes.length ? T.nextDefault : T.end))));
    return wrap;
  }
  const list = el("div", { class: "wf-branches" });
  (node.branches || []).forEach((branch, i) => {
    const id = `${pre}-b${i}`;
    list.append(el("fieldset", { class: "wf-branch" }, el("legend", { text: `${T.ifShort} ${i + 1}` }),
      el("label", { for: `${id}-when`, text: T.branchWhen }),
      el("input", { id: `${id}-when`, value: branch.when || "", "data-expr": "true", placeholder: "{{ trigger.amount > 1000 }}", autocomplete: "off",
        oninput: (e) => { branch.when = e.target.value; markDirty(); changed({ graph: true, keepFocus: true }); } }),
      el("label", { for: `${id}-next`, text: T.branchNext }),
      el("select", { id: `${id}-next`, onchange: (e) => { branch.next = e.target.value; markDirty(); clearProblem(node, "branches"); changed({ graph: true }); } }, options(branch.next, "—")),
      el("button", { type: "button", class: "button-quiet", onclick: () => { node.branches.splice(i, 1); markDirty(); changed(); } }, T.removeBranch)));
  });
  wrap.append(slot("branches", el("h3", { text: T.branches }), list,
    el("button", { type: "button", class: "button-quiet", onclick: () => { node.branches.push({ when: "", next: "" }); markDirty(); changed(); inspector.querySelector(`#${pre}-b${node.branches.length - 1}-when`).focus(); } }, `+ ${T.addBranch}`)));
  wrap.append(slot("else", el("label", { for: `${pre}-else`, text: T.otherwise }),
    el("select", { id: `${pre}-else`, "aria-describedby": describedBy("else"), onchange: (e) => { node.else = e.target.value; markDirty(); clearProblem(node, "else"); changed({ graph: true }); } },
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
