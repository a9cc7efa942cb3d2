// docg's one dashboard script: the live run page, live rows on the runs list, and the JSON editor.
// Live pages follow Server-Sent Events; EventSource resends Last-Event-ID by itself when it
// reconnects, and the server replays what was missed (or sends stream.reset with the current state).
(function () {
  "use strict";

  const TERMINAL_EVENTS = ["execution.completed", "execution.failed", "execution.canceled"];
  const TERMINAL_STATUSES = ["completed", "failed", "canceled"];
  const EVENT_TYPES = [
    "execution.created", "execution.status_changed", "execution.progress", "preflight.completed",
    "step.started", "step.completed", "step.failed", "execution.completed", "execution.failed",
    "execution.canceled", "signature.requested", "signature.viewed", "signature.signed", "signature.declined",
    "signature.completed", "approval.requested", "approval.decided", "log.appended", "stream.reset",
  ];
  // Events after which the server-rendered parts (timeline, controls, problem, timings) are stale.
  const REFRESHING = new Set(EVENT_TYPES.filter(function (t) {
    return t !== "execution.progress" && t !== "log.appended";
  }));

  // Django's JavaScript catalog (/jsi18n/, loaded first by base.html) translates the words written here.
  const gettext = window.gettext || function (text) { return text; };

  function readJson(id) {
    const node = document.getElementById(id);
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  }
  const statusLabels = readJson("status-labels");
  const eventLabels = readJson("event-labels");

  // A step that finished into a wait is said as what the run waits for, not "Step finished".
  function eventLabel(type, payload) {
    const data = payload.data || {};
    if (type === "step.completed" && data.waiting && eventLabels["step.waiting." + data.waiting]) {
      return eventLabels["step.waiting." + data.waiting];
    }
    if (type === "step.completed" && data.resume_at && eventLabels["step.waiting.until"]) {
      const at = new Date(data.resume_at);
      const time = at.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
      return eventLabels["step.waiting.until"].replace("%(time)s", time);
    }
    return eventLabels[type] || type;
  }

  function csrfHeaders() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { return {}; }
  }

  function setBadge(badge, status) {
    if (!badge || !status) return;
    badge.className = badge.className.replace(/\b(queued|running|needs_review|ready|sending|sent|signing|signed|completed|failed|canceled|paused)\b/g, "").trim() + " " + status;
    badge.textContent = statusLabels[status] || status;
    if (badge.hasAttribute("data-status")) badge.dataset.status = status;
    if (badge.hasAttribute("data-run-status")) badge.dataset.runStatus = status;
  }

  function setProgress(bar, text, value) {
    if (!bar || typeof value !== "number") return;
    // Progress never goes back within a run: a late, older event must not move the bar backwards.
    const next = Math.max(Number(bar.getAttribute("value")) || 0, value);
    bar.value = next;
    bar.setAttribute("value", String(next));
    bar.textContent = next + " %";
    if (text) text.textContent = next + " %";
  }

  // --- one run, live -------------------------------------------------------------------
  function liveRun(root) {
    const list = root.querySelector("[data-events]");
    const empty = root.querySelector("[data-events-empty]");
    const bar = root.querySelector("#run-progress");
    const barText = root.querySelector("[data-progress-text]");
    const status = root.querySelector("[data-status]");
    const current = root.querySelector("[data-current-step]");
    const currentLabel = root.querySelector("[data-current-label]");
    const note = root.querySelector("[data-reconnecting-note]");
    const seen = new Set();
    let source = null;
    let lastId = "";
    let refreshTimer = null;
    let retryDelay = 500;

    function refreshParts() {
      if (!window.htmx || !root.dataset.partsUrl) return;
      clearTimeout(refreshTimer);
      // Several events often arrive together: one request for the lot.
      refreshTimer = setTimeout(function () {
        window.htmx.ajax("GET", root.dataset.partsUrl, { source: root, target: root, swap: "none" });
      }, 150);
    }

    function show(type, payload, id) {
      if (id && seen.has(id) && type !== "stream.reset") return;
      if (id) { seen.add(id); lastId = id; }
      const item = document.createElement("li");
      item.dataset.type = type;
      item.dataset.id = id || "";
      const time = document.createElement("time");
      const at = payload.timestamp ? new Date(payload.timestamp) : new Date();
      time.dateTime = at.toISOString();
      time.textContent = at.toLocaleTimeString(document.documentElement.lang || undefined);
      const label = document.createElement("span");
      let detail = "";
      if (type.indexOf("step.") === 0 && payload.current_step && payload.current_step.label) detail = payload.current_step.label;
      else if (type === "execution.status_changed" && payload.status) detail = statusLabels[payload.status] || payload.status;
      else if (type === "execution.progress" && typeof payload.progress === "number") detail = payload.progress + " %";
      label.textContent = eventLabel(type, payload) + (detail ? " · " + detail : "");
      item.append(time, " ", label);
      list.appendChild(item);
      if (empty) empty.hidden = true;
      if (typeof payload.progress === "number") setProgress(bar, barText, payload.progress);
      if (payload.status) setBadge(status, payload.status);
      if (current && payload.current_step && payload.current_step.label) current.textContent = payload.current_step.label;
      if (REFRESHING.has(type)) refreshParts();
      const ended = TERMINAL_EVENTS.includes(type) || (type === "stream.reset" && TERMINAL_STATUSES.includes(payload.status));
      if (ended) finish();
    }

    function finish() {
      if (source) source.close();
      if (currentLabel && currentLabel.dataset.doneText) currentLabel.textContent = currentLabel.dataset.doneText;
      root.dataset.done = "true";
      root.dataset.reconnecting = "false";
      if (note) note.hidden = true;
    }

    function streamUrl(token) {
      const params = new URLSearchParams();
      if (token) params.set("token", token);
      // A fresh EventSource has no Last-Event-ID of its own: pass ours so nothing is missed or repeated.
      if (lastId) params.set("last_event_id", lastId);
      const query = params.toString();
      return root.dataset.streamUrl + (query ? "?" + query : "");
    }

    function open() {
      if (root.dataset.done === "true") return;
      if (!root.dataset.tokenUrl) { connect(streamUrl("")); return; }
      // With several organizations the session names none: a short-lived token names the run.
      fetch(root.dataset.tokenUrl, { method: "POST", credentials: "same-origin", headers: csrfHeaders() })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (body) { connect(streamUrl(body.token)); })
        .catch(reopenLater);
    }

    function reopenLater() {
      root.dataset.reconnecting = "true";
      if (note) note.hidden = false;
      setTimeout(open, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    }

    function connect(url) {
      source = new EventSource(url, { withCredentials: true });
      EVENT_TYPES.forEach(function (type) {
        source.addEventListener(type, function (event) {
          let payload = {};
          try { payload = JSON.parse(event.data); } catch (e) { payload = {}; }
          show(type, payload, event.lastEventId);
        });
      });
      source.onopen = function () {
        retryDelay = 500;
        root.dataset.reconnecting = "false";
        if (note) note.hidden = true;
      };
      source.onerror = function () {
        if (root.dataset.done === "true") return;
        root.dataset.reconnecting = "true";
        if (note) note.hidden = false;
        // CONNECTING: the browser retries by itself. CLOSED (an error answer, an expired token): we do.
        if (source.readyState === EventSource.CLOSED) { source.close(); reopenLater(); }
      };
    }

    // A finished run too: its events replay once into the activity list, then the stream ends.
    open();
  }

  // --- the runs list: live badges and progress from the organization stream ------------
  function liveList(root) {
    const indicator = root.querySelector("[data-live-indicator]");
    let refreshTimer = null;
    let polling = null;

    function refreshRows() {
      if (!window.htmx) return;
      // Fresh rows would drop the runs ticked for a bulk action: the badges still update in place.
      if (root.querySelector("[data-select-run]:checked, [data-select-page]:checked, [data-scope-filter]:checked")) return;
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () {
        // The address bar holds the current filters (the filter form pushes them there).
        const url = window.location.pathname + window.location.search;
        window.htmx.ajax("GET", url || root.dataset.rowsUrl, { source: root, target: "#run-rows", swap: "outerHTML" });
      }, 300);
    }

    function update(type, payload) {
      const row = root.querySelector('tr[data-execution-id="' + payload.execution_id + '"]');
      if (!row) { if (type === "execution.created") refreshRows(); return; }
      setBadge(row.querySelector("[data-run-status]"), payload.status);
      setProgress(row.querySelector("[data-run-progress]"), row.querySelector("[data-run-progress-text]"), payload.progress);
    }

    // EventSource sends no X-Organization-ID: name the page's organization in the URL, so a user
    // of several organizations gets this organization's runs live (the server checks membership).
    function orgStreamUrl() {
      const organization = root.dataset.organization || csrfHeaders()["X-Organization-ID"] || "";
      if (!organization) return root.dataset.orgStream;
      const joiner = root.dataset.orgStream.indexOf("?") === -1 ? "?" : "&";
      return root.dataset.orgStream + joiner + "organization=" + encodeURIComponent(organization);
    }

    const source = new EventSource(orgStreamUrl(), { withCredentials: true });
    EVENT_TYPES.forEach(function (type) {
      source.addEventListener(type, function (event) {
        let payload = {};
        try { payload = JSON.parse(event.data); } catch (e) { return; }
        if (type === "stream.reset") { refreshRows(); return; }
        update(type, payload);
      });
    });
    source.onopen = function () { root.dataset.live = "on"; if (indicator) indicator.dataset.state = "on"; };
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) { root.dataset.live = "reconnecting"; return; }
      // The stream refused us (e.g. the session ended, or membership was removed): refresh the rows now and then.
      root.dataset.live = "polling";
      if (indicator) indicator.dataset.state = "polling";
      if (!polling) polling = setInterval(refreshRows, 15000);
    };
  }

  // --- the runs list: tick runs, or all on this page, for a bulk retry or cancel -----------
  // Delegated, so rows swapped in by htmx (filters, pages, live refreshes) need nothing more.
  function revealSelection(scope) {
    scope.querySelectorAll("[data-select-page-label]").forEach(function (label) { label.hidden = false; });
  }

  function countSelection(form) {
    const boxes = Array.from(form.querySelectorAll("[data-select-run]"));
    const ticked = boxes.filter(function (box) { return box.checked; }).length;
    const all = form.querySelector("[data-select-page]");
    if (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    const count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = String(ticked);
  }

  document.addEventListener("change", function (event) {
    const form = event.target.closest && event.target.closest("form[data-run-select]");
    if (!form) return;
    const target = event.target;
    if (target.matches("[data-select-page]")) {
      form.querySelectorAll("[data-select-run]").forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-select-page], [data-select-run]")) {
      // Ticking runs means "these runs", not every run that matches.
      const selected = form.querySelector("[data-scope-selected]");
      if (selected) selected.checked = true;
      countSelection(form);
    }
  });
  document.addEventListener("htmx:load", function (event) { revealSelection(event.target); });

  // --- a bulk operation's progress, live from the organization stream -----------------------
  function liveBulk(root) {
    const operation = root.dataset.operationId;
    const statusLabels = readJson("bulk-status-labels");
    let source = null;
    let refreshTimer = null;

    function text(selector, value) {
      const node = root.querySelector(selector);
      if (node && value !== undefined && value !== null) node.textContent = String(value);
    }

    // The server-rendered card (failures, the cancel button): read again when the operation ends or the stream reset.
    function refreshCard() {
      if (!window.htmx) return;
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () {
        window.htmx.ajax("GET", window.location.pathname, { source: root, target: root.querySelector("[data-bulk-body]"), select: "[data-bulk-body]", swap: "outerHTML" });
      }, 100);
    }

    function update(payload) {
      if (payload.bulk_operation_id !== operation) return;
      const card = root.querySelector("[data-bulk-operation]");
      const handled = (payload.done || 0) + (payload.failed || 0) + (payload.canceled || 0);
      const percent = payload.total ? Math.round((100 * handled) / payload.total) : 100;
      const bar = root.querySelector("[data-bulk-progress]");
      if (bar) { bar.value = percent; bar.setAttribute("value", String(percent)); bar.textContent = percent + "%"; }
      text("[data-total]", payload.total);
      text("[data-done]", payload.done);
      text("[data-failed]", payload.failed);
      text("[data-canceled]", payload.canceled);
      text("[data-pending]", payload.pending);
      if (card && payload.status) card.dataset.status = payload.status;
      text("[data-bulk-status]", statusLabels[payload.status]);
      if (payload.status !== "queued" && payload.status !== "running") {
        source.close();
        root.dataset.live = "done";
        refreshCard();
      }
    }

    source = new EventSource(root.dataset.bulkStream, { withCredentials: true });
    source.addEventListener("bulk_operation.progress", function (event) {
      try { update(JSON.parse(event.data)); } catch (e) { /* not ours */ }
    });
    // The stream could not replay from where the page was rendered: read the current counts.
    source.addEventListener("stream.reset", refreshCard);
    source.onopen = function () { root.dataset.live = "on"; };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { root.dataset.live = "off"; refreshCard(); }
    };
  }

  // --- the JSON editor on the run form ---------------------------------------------------
  function jsonEditor(area) {
    const form = area.form;
    const status = form ? form.querySelector("[data-json-status]") : null;
    const tidy = form ? form.querySelector("[data-json-format]") : null;

    function check() {
      const text = area.value.trim();
      if (!text) { area.removeAttribute("aria-invalid"); if (status) { status.textContent = ""; status.classList.remove("field-error"); } return true; }
      try {
        const value = JSON.parse(text);
        if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(area.dataset.objectMessage || gettext("The data must be a JSON object: fields inside curly braces { }."));
        area.removeAttribute("aria-invalid");
        if (status) { status.textContent = "✓ " + (area.dataset.okMessage || gettext("Valid JSON")); status.classList.remove("field-error"); status.classList.add("ok-text"); }
        return value;
      } catch (error) {
        area.setAttribute("aria-invalid", "true");
        if (status) { status.textContent = error.message; status.classList.add("field-error"); status.classList.remove("ok-text"); }
        return false;
      }
    }

    area.addEventListener("input", check);
    if (tidy) tidy.addEventListener("click", function () {
      const value = check();
      if (value && value !== true) area.value = JSON.stringify(value, null, 2);
    });
  }

  // --- tabs (Live activity / Logs / Audit) ------------------------------------------------
  function tabs(list) {
    const buttons = Array.from(list.querySelectorAll("[role=tab]"));
    function select(button) {
      buttons.forEach(function (b) {
        const on = b === button;
        b.setAttribute("aria-selected", on ? "true" : "false");
        b.tabIndex = on ? 0 : -1;
        const panel = document.getElementById(b.getAttribute("aria-controls"));
        if (!panel) return;
        panel.hidden = !on;
        // Logs and audit are read when shown, so they are current.
        if (on && panel.dataset.src && window.htmx) window.htmx.ajax("GET", panel.dataset.src, { target: panel, swap: "innerHTML" });
      });
    }
    buttons.forEach(function (b, i) {
      b.addEventListener("click", function () { select(b); });
      b.addEventListener("keydown", function (event) {
        const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        const next = buttons[(i + step + buttons.length) % buttons.length];
        next.focus();
        select(next);
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-stream-url]").forEach(liveRun);
    document.querySelectorAll("[data-org-stream]").forEach(liveList);
    document.querySelectorAll("[data-bulk-stream]").forEach(function (root) {
      if (root.dataset.live !== "done") liveBulk(root);
    });
    revealSelection(document);
    document.querySelectorAll("textarea[data-json-editor]").forEach(jsonEditor);
    document.querySelectorAll("[role=tablist]").forEach(tabs);
    // Forms with data-confirm ask first through static/js/confirm.js, which every page loads.
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
