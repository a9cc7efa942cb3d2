// The steps drawn as a list of boxes, with SVG arrows for where each one hands over (branches jump aside).
import { T, canWrite, canvas, el, svg } from "./dom.js";
import { apps, indexOfKey, operationOf, problemCount, problemsOf, select, state, successors, titleOf } from "./state.js";
import { move, openPicker, remove } from "./steps.js";

export function renderGraph() {
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
    class: ["wf-node", `kind-${node.kind}`, node._id === state.selected && "is-selected", mine.length && "has-error"]
      .filter(Boolean).join(" "),
    "data-id": node._id, "data-key": node.key,
  });
  const main = el("button", {
    type: "button", class: "wf-node-main", "aria-pressed": node._id === state.selected ? "true" : "false",
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

export function renderGraphKeepFocus() {
  const active = document.activeElement;
  renderGraph();
  if (active && !canvas.contains(active)) active.focus();
}
