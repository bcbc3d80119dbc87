// The flow run page: state actions through the API, the log filters, and the live stream of its log lines, states,
// task runs and timeline (the task run page uses the same stream for its lines and states).
"use strict";

(function () {
  const MAX_LIVE_LINES = 5000;

  function currentStateId() {
    return document.getElementById("run-state").dataset.stateId || null;
  }

  /** Propose a state; reload when one was written, else say why the server kept the current one. */
  async function proposeState(runId, state, force) {
    const result = await Baton.api("POST", "/flow_runs/" + runId + "/set_state", { state: state, force: force });
    const written = result.status === "ACCEPT" || (result.state && result.state.id !== currentStateId());
    if (written) {
      window.location.reload();
      return;
    }
    const reason = result.details && result.details.reason ? result.details.reason : result.status;
    Baton.flash("The state was not changed: " + reason, true);
  }

  async function runAction(button) {
    const runId = button.dataset.runId;
    const action = button.dataset.runAction;
    let question, state;
    if (action === "cancel") {
      const running = button.dataset.stateType === "RUNNING";
      question = running ? "Cancel this run? Its process will be stopped." : "Cancel this run?";
      state = { type: running ? "CANCELLING" : "CANCELLED", message: "Cancelled from the UI" };
    } else if (action === "retry") {
      question = "Retry this run? It is scheduled again for a worker to pick up.";
      state = { type: "SCHEDULED", name: "AwaitingRetry", message: "Retry from the UI" };
    } else {
      return;
    }
    if (!(await Baton.confirmAction(question))) return;
    button.disabled = true;
    try {
      await proposeState(runId, state, false);
    } catch (error) {
      Baton.flash(error.message, true);
    }
    button.disabled = false;
  }

  function setUpChangeState() {
    const form = document.getElementById("change-state");
    const toggle = document.querySelector("[data-run-action=show-change-state]");
    if (!form || !toggle) return;
    toggle.addEventListener("click", function () {
      form.hidden = !form.hidden;
      toggle.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.querySelector("select").focus();
    });
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const type = form.elements.type.value;
      const message = form.elements.message.value.trim();
      if (!(await Baton.confirmAction("Force this run into the state " + type.toLowerCase() + "?"))) return;
      const submit = form.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        await proposeState(form.dataset.runId, { type: type, message: message || null }, true);
      } catch (error) {
        Baton.flash(error.message, true);
      }
      submit.disabled = false;
    });
  }

  function logLine(line) {
    const row = document.createElement("div");
    row.className = "log-line level-" + line.level;
    row.dataset.id = line.id;
    row.dataset.sort = line.sort;
    const time = document.createElement("time");
    time.setAttribute("datetime", line.timestamp);
    time.dataset.format = "datetime";
    time.textContent = line.timestamp;
    const level = document.createElement("span");
    level.className = "log-level";
    level.textContent = line.level;
    const message = document.createElement("span");
    message.className = "log-message";
    message.title = line.logger;
    message.textContent = line.message;
    row.append(time, level, message);
    Baton.localizeTimes(row);
    return row;
  }

  /** Put a line in its place in time: new lines go last, a late one (stamped before lines shown) among them. */
  function placeLine(box, row) {
    let next = null;
    for (let other = box.lastElementChild; other && other.dataset.sort > row.dataset.sort; other = other.previousElementSibling) {
      next = other;
    }
    box.insertBefore(row, next);
  }

  function appendLines(box, known, lines) {
    const atBottom = box.hidden || box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    let added = 0;
    for (const line of lines) {
      if (known.has(line.id)) continue;
      known.add(line.id);
      placeLine(box, logLine(line));
      added += 1;
    }
    if (!added) return;
    while (box.childElementCount > MAX_LIVE_LINES) box.firstElementChild.remove();
    box.hidden = false;
    const empty = document.getElementById("log-empty");
    if (empty) empty.hidden = true;
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function setTime(id, iso) {
    const cell = document.getElementById(id);
    if (!cell || !iso) return;
    const time = document.createElement("time");
    time.setAttribute("datetime", iso);
    time.dataset.format = "datetime";
    time.textContent = iso;
    cell.replaceChildren(time);
    Baton.localizeTimes(cell);
  }

  /** The same text as the server's `duration`: '1h 2m 3s', '4.2s', '350ms'. */
  function formatDuration(seconds) {
    if (seconds < 1) return Math.round(seconds * 1000) + "ms";
    if (seconds < 60) return seconds.toFixed(1) + "s";
    const whole = Math.floor(seconds);
    const hours = Math.floor(whole / 3600), minutes = Math.floor((whole % 3600) / 60), secs = whole % 60;
    return hours ? hours + "h " + minutes + "m " + secs + "s" : minutes + "m " + secs + "s";
  }

  function showState(state) {
    const holder = document.getElementById("run-state");
    const badge = document.createElement("span");
    badge.className = "badge state-" + String(state.type || "unknown").toLowerCase();
    badge.textContent = state.name || state.type;
    holder.replaceChildren(badge);
    holder.dataset.stateType = state.type;
    holder.dataset.stateId = state.id || "";
    setTime("run-start", state.start_time);
    setTime("run-end", state.end_time);
    if (state.start_time) {
      const end = state.end_time ? new Date(state.end_time) : new Date();
      const seconds = (end.getTime() - new Date(state.start_time).getTime()) / 1000;
      document.getElementById("run-duration").textContent = formatDuration(seconds);
    }
    const runTime = document.getElementById("run-time");
    if (runTime && state.terminal) runTime.textContent = formatDuration(state.total_run_time);
    const totalTime = document.getElementById("run-total-time");
    if (totalTime) totalTime.textContent = formatDuration(state.total_run_time);
    const count = document.getElementById("run-count");
    if (count) count.textContent = String(state.run_count);
    document.querySelectorAll("[data-run-action=cancel]").forEach(function (button) {
      button.dataset.stateType = state.type;
      button.hidden = state.terminal || state.type === "CANCELLING";
    });
    // The "why isn't this run starting?" panel explains the state the page was rendered in, and no later one.
    const blockers = document.getElementById("run-blockers");
    if (blockers && blockers.dataset.stateId !== (state.id || "")) blockers.hidden = true;
  }

  function parseRow(html) {
    const holder = document.createElement("tbody");
    holder.innerHTML = html;
    return holder.firstElementChild;
  }

  /**
   * Show changed task runs in the table: a row already shown is replaced and moved to its place; a new one is added
   * where it sorts on this page (a run that sorts before a later page's first row belongs to an earlier page).
   */
  function updateTaskRunTable(rows) {
    const table = document.getElementById("task-runs");
    if (!table) return;
    const body = table.tBodies[0];
    const page = Number(table.dataset.page), pageSize = Number(table.dataset.pageSize);
    for (const update of rows) {
      const shown = body.querySelector("tr[data-id='" + CSS.escape(update.id) + "']");
      if (shown) shown.remove();
      const first = body.firstElementChild;
      if (!shown && page > 1 && (!first || update.sort < first.dataset.sort)) continue;
      let next = null;
      for (const other of body.rows) {
        if (other.dataset.sort > update.sort) { next = other; break; }
      }
      if (!shown && !next && body.rows.length >= pageSize) continue;
      const row = parseRow(update.html);
      body.insertBefore(row, next);
      Baton.localizeTimes(row);
      while (body.rows.length > pageSize) body.lastElementChild.remove();
    }
    table.hidden = body.rows.length === 0;
    const empty = document.getElementById("task-runs-empty");
    if (empty) empty.hidden = body.rows.length > 0;
  }

  function showTaskRuns(data) {
    updateTaskRunTable(data.rows);
    const count = document.getElementById("tab-count-task-runs");
    if (count) count.textContent = String(data.total);
    const subflows = document.getElementById("tab-count-subflows");
    if (subflows && data.subflows !== null) subflows.textContent = String(data.subflows);
    const states = document.getElementById("task-run-state-counts");
    if (states) states.innerHTML = data.counts_html;
  }

  /**
   * Follow the run through its event stream while the page is visible. A hidden page closes it: browsers allow only
   * six HTTP/1.1 connections per server, so background tabs must not hold them. It resumes after the last line seen.
   */
  function follow() {
    const live = document.getElementById("run-live");
    if (!live || !window.EventSource) return;
    const box = document.getElementById("log-lines");
    const status = document.getElementById("log-live-status");
    const known = new Set();
    if (box) box.querySelectorAll(".log-line").forEach(function (row) { known.add(row.dataset.id); });
    const url = new URL(live.dataset.streamUrl, window.location.href);
    let source = null;
    let ended = false;

    function open() {
      if (source || ended) return;
      source = new EventSource(url.pathname + url.search);
      source.addEventListener("logs", function (event) {
        if (event.lastEventId) url.searchParams.set("after", event.lastEventId);
        if (box) appendLines(box, known, JSON.parse(event.data));
      });
      source.addEventListener("state", function (event) {
        const state = JSON.parse(event.data);
        url.searchParams.set("state", state.id || "");
        showState(state);
      });
      source.addEventListener("task_runs", function (event) {
        showTaskRuns(JSON.parse(event.data));
      });
      source.addEventListener("timeline", function (event) {
        const holder = document.getElementById("run-timeline");
        if (holder) holder.innerHTML = JSON.parse(event.data).html;
      });
      source.addEventListener("end", function () {
        ended = true;
        close();
        if (status) status.textContent = "";
        live.dataset.ended = "true";
      });
    }

    function close() {
      if (source) source.close();
      source = null;
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") close(); else open();
    });
    window.addEventListener("pagehide", close);
    if (document.visibilityState !== "hidden") open();
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-run-action]");
    if (button && (button.dataset.runAction === "cancel" || button.dataset.runAction === "retry")) runAction(button);
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpChangeState();
    const level = document.getElementById("log-level");
    if (level) level.addEventListener("change", function () { level.form.requestSubmit(); });
    const box = document.getElementById("log-lines");
    if (box) box.scrollTop = box.scrollHeight;
    follow();
  });
})();
