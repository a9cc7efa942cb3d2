// The visual workflow editor: draws the steps as boxes and arrows (graph.js), edits one step at a time in a
// form generated from its action's parameter schema (forms.js, picker.js), and posts the whole definition
// back as JSON (state.js). Loaded as a native ES module: no build step.
import { T, canWrite, root } from "./dom.js";
import { renderInspector } from "./forms.js";
import { renderGraph, renderGraphKeepFocus } from "./graph.js";
import { activate, changed, markDirty, save, state, subscribe } from "./state.js";

// Imports go one way: main -> graph, forms -> steps, picker -> state -> dom (schema.js imports nothing).
// The views learn of changes through state's subscribe hook, the graph first (as the list is drawn first).
subscribe(({ graph, keepFocus }) => { if (graph) (keepFocus ? renderGraphKeepFocus : renderGraph)(); });
subscribe(({ inspector, focusHeading }) => { if (inspector) renderInspector(focusHeading); });

for (const input of root.querySelectorAll("[data-workflow-field]")) {
  input.addEventListener("input", () => { state[input.dataset.workflowField] = input.value; markDirty(); });
}
const saveButton = document.querySelector('[data-action="save"]');
if (saveButton) saveButton.addEventListener("click", save);
const activateButton = document.querySelector('[data-action="activate"]');
if (activateButton) activateButton.addEventListener("click", activate);
window.addEventListener("beforeunload", (e) => { if (state.dirty) { e.preventDefault(); e.returnValue = T.leave; } });
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "s" && canWrite) { e.preventDefault(); save(); }
});
changed();
root.dataset.ready = "true";
