// Runs tables (the Runs page, its Task runs tab, a flow's and a deployment's page): date filters in local time, and
// bulk actions (cancel, set a state, delete) on the selected runs or on every run matching the filter. What the table
// lists (its API resource, filter and id fields, noun) comes from its section's data attributes (run_table.html).
"use strict";

(function () {
  // The terminal state types and the Late name come from the server (baton/states.py), on the page's body.
  const FINISHED = document.body.dataset.terminalStates.split(",");
  const LATE = document.body.dataset.lateState;
  // Runs with infrastructure (a deployment or a process) are asked to cancel, so that whatever runs them stops them;
  // runs without are cancelled at once, as the Prefect UI does.
  const ASK_TO_CANCEL = ["PENDING", "RUNNING", "PAUSED"];

  function pad(number) { return String(number).padStart(2, "0"); }

  /** A UTC ISO time as the value of a datetime-local input, in the browser's time zone. */
  function toLocalInput(iso) {
    const date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function setUpFilters(form) {
    const hidden = function (name) { return form.querySelector('input[type=hidden][name="' + name + '"]'); };
    form.querySelectorAll("input[data-utc-field]").forEach(function (input) {
      const field = hidden(input.dataset.utcField);
      if (field && field.value) input.value = toLocalInput(field.value);
    });
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[data-utc-field]").forEach(function (input) {
        const field = hidden(input.dataset.utcField);
        if (!field) return;
        if (!input.value) { field.value = ""; return; }
        const date = new Date(input.value);  // a datetime-local value without an offset is local time
        // "Until 12:00" includes the whole minute.
        if ("endOfMinute" in input.dataset) date.setTime(date.getTime() + 59999);
        field.value = date.toISOString();
      });
      // Empty fields stay out of the URL, so that a shared filter link is short.
      form.querySelectorAll("input[name], select[name]").forEach(function (element) {
        if (!element.value) { element.disabled = true; element.dataset.emptyOnSubmit = ""; }
      });
    });
    // Coming back to this page from the results restores the fields as they were.
    window.addEventListener("pageshow", function () {
      form.querySelectorAll("[data-empty-on-submit]").forEach(function (element) {
        element.disabled = false;
        delete element.dataset.emptyOnSubmit;
      });
    });
  }

  function selectedRows(table) {
    return Array.from(table.querySelectorAll("tbody tr")).filter(function (row) {
      const box = row.querySelector("input[data-select-run]");
      return box && box.checked;
    });
  }

  function badge(state) {
    const element = document.createElement("span");
    const type = (state.type || "unknown").toLowerCase();
    element.className = "badge state-" + (type === "scheduled" && state.name === LATE ? "late" : type);
    element.textContent = state.name || state.type;
    return element;
  }

  /** What a table lists, from its section: `api` ("/flow_runs"), `filterField`, `idField`, `noun`, `deletedAlong`. */
  function kindOf(section) {
    return {
      api: section.dataset.api, filterField: section.dataset.filterField, idField: section.dataset.idField,
      noun: section.dataset.noun, deletedAlong: section.dataset.deletedAlong,
    };
  }

  function plural(count, noun) { return count + " " + noun + (count === 1 ? "" : "s"); }

  function title(type) { return type.charAt(0) + type.slice(1).toLowerCase(); }

  /** The words of an action's question and answer: "Delete all 3 runs?", "Set 3 task runs to Failed." */
  function wording(kind, action, stateType) {
    if (action === "state") return { verb: "Set", past: "Set", suffix: " to " + title(stateType), warning: "" };
    if (action === "delete") return { verb: "Delete", past: "Deleted", suffix: "", warning: " " + kind.deletedAlong };
    return { verb: "Cancel", past: "Cancelled", suffix: "", warning: "" };
  }

  function proposedState(stateType) {
    return { type: stateType, name: title(stateType), message: "Set from the Task runs page" };
  }

  /** Cancel one run; resolves with its new state, rejects with the reason it was not cancelled. */
  async function cancelRun(kind, row) {
    const current = row.dataset.stateType;
    if (FINISHED.includes(current)) throw new Error("it has already finished");
    const ask = ASK_TO_CANCEL.includes(current) && row.dataset.hasInfra === "true";
    const proposed = ask ? { type: "CANCELLING", name: "Cancelling" } : { type: "CANCELLED", name: "Cancelled" };
    const result = await Baton.api("POST", kind.api + "/" + row.dataset.runId + "/set_state", {
      state: Object.assign(proposed, { message: "Cancelled from the Runs page" }),
    });
    const state = result && result.state;
    // A rejection that still ends cancelled (a scheduled run has nothing to stop) is a success.
    if (state && (result.status === "ACCEPT" || ["CANCELLED", "CANCELLING"].includes(state.type))) return state;
    const reason = result && result.details && result.details.reason;
    throw new Error(reason || "the server answered " + (result ? result.status : "nothing"));
  }

  /** Force one run into `stateType` (as Prefect's "Change state" does); resolves with its new state. */
  async function setRunState(kind, row, stateType) {
    const result = await Baton.api("POST", kind.api + "/" + row.dataset.runId + "/set_state",
      { state: proposedState(stateType), force: true });
    if (result && result.state && result.state.type === stateType) return result.state;
    const reason = result && result.details && result.details.reason;
    throw new Error(reason || "the server answered " + (result ? result.status : "nothing"));
  }

  async function deleteRun(kind, row) {
    await Baton.api("DELETE", kind.api + "/" + row.dataset.runId);
  }

  async function bulk(kind, table, action, stateType, updateSelection) {
    const rows = selectedRows(table);
    if (!rows.length) return;
    const words = wording(kind, action, stateType);
    const what = rows.length === 1 ? "the " + kind.noun + " " + rows[0].dataset.runName
      : plural(rows.length, kind.noun);
    if (!(await Baton.confirmAction(words.verb + " " + what + words.suffix + "?" + words.warning))) return;
    const failures = [];
    let done = 0;
    for (const row of rows) {
      try {
        if (action === "delete") {
          await deleteRun(kind, row);
          row.remove();
        } else {
          const state = action === "state" ? await setRunState(kind, row, stateType) : await cancelRun(kind, row);
          row.dataset.stateType = state.type;
          row.querySelector("[data-state]").replaceChildren(badge(state));
          row.querySelector("input[data-select-run]").checked = false;
        }
        done += 1;
      } catch (error) {
        failures.push(row.dataset.runName + ": " + error.message);
      }
    }
    let message = words.past + " " + plural(done, kind.noun) + words.suffix + ".";
    if (failures.length) message += " Not " + words.past.toLowerCase() + ": " + failures.join("; ");
    Baton.flash(message, failures.length > 0);
    updateSelection();
  }

  /**
   * Propose `proposed` to every run matching `filter`, `limit` runs a call, until `count` runs moved into one of the
   * `accepted` state types or a call moved none (it would only meet the same runs again). Marks the moved rows and
   * records why the others did not move in `failures`; resolves with how many moved.
   */
  async function proposeToMatching(kind, table, filter, proposed, force, accepted, count, limit, failures, show) {
    let moved = 0;
    while (moved < count) {
      const answer = await Baton.api("POST", kind.api + "/bulk_set_state",
        { [kind.filterField]: filter, state: proposed, force: force, limit: Math.min(limit, count - moved) });
      let movedNow = 0;
      answer.results.forEach(function (result) {
        const id = result[kind.idField];
        const now = result.state;
        if (now && accepted.includes(now.type)) {
          movedNow += 1;
          failures.delete(id);
          const row = table.querySelector('tr[data-run-id="' + id + '"]');
          if (row) {
            row.dataset.stateType = now.type;
            row.querySelector("[data-state]").replaceChildren(badge(now));
          }
        } else {
          const reason = result.details && result.details.reason;
          failures.set(id, reason || "the server answered " + result.status);
        }
      });
      moved += movedNow;
      show(moved);
      if (!movedNow) break;
    }
    return moved;
  }

  /**
   * Act on every run matching the page's filter through the bulk endpoints, which take the filter (never a list of
   * ids) and at most `limit` runs a call: call again until none is left, or until `count` runs (the number the user
   * confirmed) were handled, so runs made meanwhile are not touched beyond that.
   */
  async function bulkMatching(kind, banner, table, action, stateType, count) {
    const limit = Number(banner.dataset.limit);
    const progress = banner.querySelector("[data-select-matching-text]");
    const words = wording(kind, action, stateType);
    const question = words.verb + " all " + plural(count, kind.noun) + " matching this filter" + words.suffix + "?" +
      words.warning;
    if (!(await Baton.confirmAction(question))) return false;
    const past = words.past;
    let done = 0;
    const failures = new Map();
    function show() { progress.textContent = past + " " + done + " of " + plural(count, kind.noun) + "…"; }
    show();
    try {
      if (action === "delete") {
        const filter = JSON.parse(banner.dataset.filter);
        while (done < count) {
          const result = await Baton.api("POST", kind.api + "/bulk_delete",
            { [kind.filterField]: filter, limit: Math.min(limit, count - done) });
          if (!result.deleted.length) break;
          done += result.deleted.length;
          result.deleted.forEach(function (id) {
            const row = table.querySelector('tr[data-run-id="' + id + '"]');
            if (row) row.remove();
          });
          show();
        }
      } else if (action === "state") {
        // Only the runs not in that state yet, so that the runs moved drop out of the filter.
        const filter = JSON.parse(banner.dataset.stateFilters)[stateType];
        if (filter) {
          done = await proposeToMatching(kind, table, filter, proposedState(stateType), true, [stateType], count,
            limit, failures, function (moved) { done = moved; show(); });
        }
      } else {
        // First ask runs with infrastructure to cancel, then cancel the rest at once.
        const passes = [
          [banner.dataset.askFilter, { type: "CANCELLING", name: "Cancelling" }],
          [banner.dataset.cancelFilter, { type: "CANCELLED", name: "Cancelled" }],
        ];
        for (const [filterText, proposed] of passes) {
          if (!filterText || done >= count) continue;
          const state = Object.assign({ message: "Cancelled from the Runs page" }, proposed);
          const before = done;
          done += await proposeToMatching(kind, table, JSON.parse(filterText), state, false,
            ["CANCELLED", "CANCELLING"], count - before, limit, failures,
            function (moved) { done = before + moved; show(); });
        }
      }
    } catch (error) {
      Baton.flash(past + " " + plural(done, kind.noun) + words.suffix + ", then: " + error.message, true);
      return true;
    }
    let message = past + " " + plural(done, kind.noun) + " matching this filter" + words.suffix + ".";
    if (failures.size) {
      const reasons = Array.from(new Set(failures.values()));
      message += " Not " + past.toLowerCase() + ": " + plural(failures.size, kind.noun) +
        " (" + reasons.join("; ") + ")";
    }
    Baton.flash(message, failures.size > 0);
    return true;
  }

  function setUpTable(section) {
    const kind = kindOf(section);
    const table = section.querySelector("table.run-table");
    const stateChoice = section.querySelector("select[data-bulk-state]");
    const buttons = section.querySelectorAll("button[data-bulk]");
    const counter = section.querySelector("[data-selected-count]");
    const all = section.querySelector("input[data-select-all]");
    if (!table) {
      buttons.forEach(function (button) { button.hidden = true; });
      if (counter) counter.hidden = true;
      if (stateChoice) stateChoice.hidden = true;
      return;
    }
    // Every run matching the filter is selected (the banner's offer taken): its count, else null.
    const banner = section.querySelector("[data-select-matching]");
    let matching = null;
    let offerAsked = 0;
    function updateSelection() {
      const count = selectedRows(table).length;
      const total = table.querySelectorAll("tbody tr").length;
      if (count === 0 || count < total) matching = null;
      buttons.forEach(function (button) { button.disabled = count === 0; });
      if (counter) {
        counter.textContent = matching !== null ? "All " + matching + " matching selected"
          : count ? count + " selected" : "None selected";
      }
      if (all) { all.checked = total > 0 && count === total; all.indeterminate = count > 0 && count < total; }
      if (banner && !(total > 0 && count === total)) banner.hidden = true;
    }
    /** With every run on the page selected, offer to select all that match the filter, when there are more. */
    async function offerMatching() {
      const asked = ++offerAsked;
      const filter = JSON.parse(banner.dataset.filter);
      let total;
      try {
        total = await Baton.api("POST", kind.api + "/count", { [kind.filterField]: filter });
      } catch (error) {
        Baton.flash(error.message, true);
        return;
      }
      const onPage = table.querySelectorAll("tbody tr").length;
      if (asked !== offerAsked || !all.checked || total <= onPage) return;
      const text = banner.querySelector("[data-select-matching-text]");
      const button = banner.querySelector("[data-select-matching-button]");
      text.textContent = "All " + plural(onPage, kind.noun) + " on this page are selected.";
      button.textContent = "Select all " + plural(total, kind.noun) + " matching this filter";
      button.dataset.count = String(total);
      button.hidden = false;
      banner.hidden = false;
    }
    if (banner) {
      const button = banner.querySelector("[data-select-matching-button]");
      button.addEventListener("click", function () {
        if (matching === null) {
          matching = Number(button.dataset.count);
          updateSelection();
          banner.querySelector("[data-select-matching-text]").textContent =
            "All " + plural(matching, kind.noun) + " matching this filter are selected.";
          button.textContent = "Clear selection";
        } else {
          table.querySelectorAll("input[data-select-run]").forEach(function (box) { box.checked = false; });
          updateSelection();
        }
      });
    }
    table.addEventListener("change", function (event) {
      if (event.target === all) {
        table.querySelectorAll("input[data-select-run]").forEach(function (box) { box.checked = all.checked; });
      }
      updateSelection();
      if (event.target === all && all.checked && banner) offerMatching();
    });
    buttons.forEach(function (button) {
      button.addEventListener("click", async function () {
        buttons.forEach(function (other) { other.disabled = true; });
        try {
          const stateType = stateChoice ? stateChoice.value : null;
          if (matching !== null) {
            const count = matching;
            if (await bulkMatching(kind, banner, table, button.dataset.bulk, stateType, count)) {
              table.querySelectorAll("input[data-select-run]").forEach(function (box) { box.checked = false; });
            }
          } else {
            await bulk(kind, table, button.dataset.bulk, stateType, updateSelection);
          }
        } finally { updateSelection(); }
      });
    });
    updateSelection();
  }

  /** Saves the page's current filter (its URL parameters) as a saved search of the name typed, then reloads. */
  function setUpSaveSearch(form) {
    const names = form.dataset.parameters.split(",");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const params = new URLSearchParams(window.location.search);
      const filters = [];
      names.forEach(function (name) {
        const values = params.getAll(name).filter(function (value) { return value !== ""; });
        if (!values.length) return;
        filters.push({
          object: "flow_run", property: name, type: "string",
          operation: values.length > 1 ? "any" : "equals", value: values.length > 1 ? values : values[0],
        });
      });
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const name = form.elements["saved-search-name"].value.trim();
        await Baton.api("PUT", "/saved_searches/", { name: name, filters: filters });
        window.location.reload();
      } catch (error) {
        Baton.flash(error.message, true);
        button.disabled = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("run-filters");
    if (form) setUpFilters(form);
    const save = document.getElementById("save-search");
    if (save) setUpSaveSearch(save);
    document.querySelectorAll("section.run-list").forEach(setUpTable);
  });
})();
