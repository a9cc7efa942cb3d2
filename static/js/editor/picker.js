// The variable picker: what earlier steps and the trigger provide, inserted as {{ … }} into the focused field.
import { T, announce, data, el, fmt, inspector } from "./dom.js";
import { ancestors, operationOf, titleOf } from "./state.js";

let lastField = null; // the text field the variable picker inserts into
// A new form has new fields: the one remembered is gone.
export function forgetField() {
  lastField = null;
}

export function picker(node, index) {
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
