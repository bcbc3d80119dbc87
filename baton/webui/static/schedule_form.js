// A deployment's schedule form: add or edit an interval, cron or rrule schedule through the API, with the next run
// times (computed by the server from the schedule as typed) shown in the viewer's time zone.
"use strict";

(function () {
  const PREVIEW_DELAY_MS = 300;
  const KINDS = ["interval", "cron", "rrule"];

  function field(form, name) { return form.querySelector('[name="' + name + '"]'); }

  /** The schedule JSON the form says, in the shape the API takes. */
  function readSchedule(form) {
    const kind = field(form, "kind").value;
    const zone = field(form, "timezone").value.trim();
    const schedule = {};
    if (kind === "interval") {
      schedule.interval = BatonForms.numberOrNull(field(form, "interval"));
      const anchor = field(form, "anchor_date").value;
      if (anchor) schedule.anchor_date = anchor;
    } else if (kind === "cron") {
      schedule.cron = field(form, "cron").value.trim();
      schedule.day_or = field(form, "day_or").checked;
    } else {
      schedule.rrule = field(form, "rrule").value.trim();
    }
    schedule.timezone = zone === "" ? null : zone;
    return schedule;
  }

  function showKind(form) {
    const kind = field(form, "kind").value;
    form.querySelectorAll("[data-kind-field]").forEach(function (element) {
      element.hidden = element.dataset.kindField !== kind;
    });
  }

  function renderPreview(list, times) {
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
    list.replaceChildren();
    times.forEach(function (text) {
      const item = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = text;
      time.textContent = format.format(new Date(text));
      item.appendChild(time);
      list.appendChild(item);
    });
    if (!times.length) {
      const item = document.createElement("li");
      item.className = "muted";
      item.textContent = "No more runs.";
      list.appendChild(item);
    }
  }

  let previewNumber = 0;
  async function preview(form) {
    const list = document.getElementById("schedule-preview");
    const number = ++previewNumber;
    const query = "?count=5&schedule=" + encodeURIComponent(JSON.stringify(readSchedule(form)));
    let result;
    try { result = await BatonForms.call("GET", "/ui/schedules/preview" + query); } catch (error) { return; }
    if (number !== previewNumber) return; // a later edit's answer is the one to show
    if (result.ok) {
      BatonForms.clearErrors(form);
      renderPreview(list, result.data.times);
    } else {
      list.replaceChildren();
      BatonForms.showErrors(form, result);
    }
  }

  function setUp(form) {
    const panel = document.getElementById("schedule-panel");
    const button = document.getElementById("save-schedule");
    let editing = null; // the schedule id being edited, or null when adding
    let timer = null;
    const schedulePreview = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { preview(form); }, PREVIEW_DELAY_MS);
    };
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) field(form, "timezone").value = zone;

    field(form, "kind").addEventListener("change", function () { showKind(form); schedulePreview(); });
    form.addEventListener("input", schedulePreview);
    form.addEventListener("change", schedulePreview);
    panel.addEventListener("toggle", function () { if (panel.open) { showKind(form); preview(form); } });

    document.querySelectorAll("[data-edit-schedule]").forEach(function (edit) {
      edit.addEventListener("click", function () {
        const row = edit.closest("tr");
        const schedule = JSON.parse(row.dataset.schedule);
        const kind = KINDS.find(function (name) { return name in schedule; }) || "cron";
        field(form, "kind").value = kind;
        if (kind === "interval") {
          field(form, "interval").value = schedule.interval;
          field(form, "anchor_date").value = "";
        } else if (kind === "cron") {
          field(form, "cron").value = schedule.cron;
          field(form, "day_or").checked = schedule.day_or !== false;
        } else {
          field(form, "rrule").value = schedule.rrule;
        }
        field(form, "timezone").value = schedule.timezone || "UTC";
        field(form, "active").checked = row.dataset.active === "true";
        editing = row.dataset.scheduleId;
        button.textContent = "Save schedule";
        panel.open = true;
        showKind(form);
        preview(form);
        panel.scrollIntoView({ block: "nearest" });
      });
    });

    document.getElementById("cancel-schedule").addEventListener("click", function () {
      editing = null;
      button.textContent = "Add schedule";
      BatonForms.clearErrors(form);
      panel.open = false;
    });

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const body = { schedule: readSchedule(form), active: field(form, "active").checked };
      const path = form.dataset.schedulesPath;
      const saved = editing === null
        ? await BatonForms.submit(form, "POST", path, [body])
        : await BatonForms.submit(form, "PATCH", path + "/" + editing, body);
      if (saved !== null) window.location.reload();
    });
    showKind(form);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("schedule-form");
    if (form) setUp(form);
  });
})();
