// Live view of one execution: follows the SSE stream, survives reconnects (the browser
// resends Last-Event-ID by itself) and keeps an ordered, de-duplicated event list.
(function () {
  "use strict";
  const root = document.querySelector("[data-stream-url]");
  if (!root) return;
  const list = root.querySelector("[data-events]");
  const bar = root.querySelector("progress");
  const status = root.querySelector("[data-status]");
  const seen = new Set();
  const TERMINAL = ["execution.completed", "execution.failed", "execution.canceled"];
  const TYPES = [
    "execution.created", "execution.status_changed", "execution.progress", "preflight.completed",
    "step.started", "step.completed", "step.failed", "execution.completed", "execution.failed",
    "execution.canceled", "signature.requested", "signature.signed", "signature.declined",
    "signature.completed", "approval.requested", "approval.decided", "log.appended", "stream.reset",
  ];
  const source = new EventSource(root.dataset.streamUrl, { withCredentials: true });

  function show(type, payload, id) {
    if (id && seen.has(id) && type !== "stream.reset") return;
    if (id) seen.add(id);
    const item = document.createElement("li");
    item.dataset.type = type;
    item.dataset.id = id || "";
    const step = payload.current_step && payload.current_step.label ? " · " + payload.current_step.label : "";
    item.textContent = type + step;
    list.appendChild(item);
    if (typeof payload.progress === "number") bar.value = payload.progress;
    if (payload.status) status.textContent = payload.status;
    if (TERMINAL.includes(type)) {
      source.close();
      root.dataset.done = "true";
    }
  }

  TYPES.forEach(function (type) {
    source.addEventListener(type, function (event) {
      show(type, JSON.parse(event.data), event.lastEventId);
    });
  });
  source.onerror = function () { root.dataset.reconnecting = "true"; };
  source.onopen = function () { root.dataset.reconnecting = "false"; };
})();
