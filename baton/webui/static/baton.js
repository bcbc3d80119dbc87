// Baton UI behaviour shared by every page: local times, theme, confirmations, copy buttons and calls to the JSON API.
"use strict";

const Baton = (function () {
  const prefs = {
    get clock() { return localStorage.getItem("baton.clock") || "24"; },
    set clock(value) { localStorage.setItem("baton.clock", value); },
    get theme() { return document.documentElement.getAttribute("data-theme") || "light"; },
    set theme(value) { localStorage.setItem("baton.theme", value); document.documentElement.setAttribute("data-theme", value); },
  };
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function formatTime(date) {
    return new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
      hourCycle: prefs.clock === "12" ? "h12" : "h23", timeZoneName: "short",
    }).format(date);
  }

  function formatRelative(date) {
    const seconds = Math.round((date.getTime() - Date.now()) / 1000);
    const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
    const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size || unit === "second") return format.format(Math.round(seconds / size), unit);
    }
    return "";
  }

  /** Turn every <time data-format> under `root` into the reader's local time; the UTC text stays as a tooltip. */
  function localizeTimes(root) {
    (root || document).querySelectorAll("time[data-format]").forEach(function (element) {
      const date = new Date(element.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      element.title = date.toISOString();
      element.textContent = element.dataset.format === "relative" ? formatRelative(date) : formatTime(date);
    });
  }

  function flash(message, isError) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.textContent = message;
    box.classList.toggle("error", Boolean(isError));
    box.hidden = false;
  }

  /** Ask for confirmation in the page's dialog; resolves true when the user confirms. */
  function confirmAction(message) {
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(message));
    document.getElementById("confirm-message").textContent = message;
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function once() {
        dialog.removeEventListener("close", once);
        resolve(dialog.returnValue === "confirm");
      });
      dialog.showModal();
    });
  }

  /**
   * The headers of an API request: JSON when there is a body, and for a write the page's CSRF token (from the
   * layout's <meta name="csrf-token">), which a signed-in browser's writes need.
   */
  function requestHeaders(method, body) {
    const headers = body === undefined ? {} : { "Content-Type": "application/json" };
    const meta = document.querySelector('meta[name="csrf-token"]');
    const token = meta ? meta.getAttribute("content") : "";
    if (token && !["GET", "HEAD", "OPTIONS"].includes(String(method).toUpperCase())) headers["X-CSRF-Token"] = token;
    return headers;
  }

  function firstSegment(path) {
    return path.split(/[?#]/, 1)[0].replace(/^\/+/, "").split("/", 1)[0];
  }

  function listed(attribute, path) {
    return (document.body.dataset[attribute] || "").split(" ").includes(firstSegment(path));
  }

  /**
   * The address of an API path (`/flows/`, relative to /api): the page's workspace's API (<body data-api-base>),
   * or /api for a global route (users, roles, workspaces...: <body data-global-api>), under the server's sub-path.
   */
  function apiUrl(path) {
    const root = listed("globalApi", path) ? "/api" : document.body.dataset.apiBase || "/api";
    return (document.body.dataset.basePath || "") + root + path;
  }

  /**
   * The address of an application path (`/runs`, `/api/flows/`) under the server's sub-path, which the layout puts
   * in <body data-base-path> (BATON_SERVER_BASE_PATH; empty when the server answers at /). A page of a workspace
   * stays in its workspace (<body data-workspace-path>) unless the path is a global page (<body data-global-pages>);
   * an /api path goes to the workspace's API.
   */
  function url(path) {
    if (path === "/api" || path.startsWith("/api/")) return apiUrl(path.slice(4));
    const workspace = listed("globalPages", path) ? "" : document.body.dataset.workspacePath || "";
    return (document.body.dataset.basePath || "") + workspace + path;
  }

  /** Call the JSON API; resolves with the parsed body, rejects with an Error whose message is the API's detail. */
  async function api(method, path, body) {
    const response = await fetch(apiUrl(path), {
      method: method,
      headers: requestHeaders(method, body),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (e) { data = text; } }
    if (!response.ok) {
      const detail = data && data.detail ? data.detail : response.status + " " + response.statusText;
      throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    }
    return data;
  }

  /**
   * Copy `text` to the clipboard and say so; without clipboard access (a plain-http address other than localhost)
   * select `node`'s text for Ctrl+C instead. `what` names the copied thing in the message ("The key").
   */
  async function copyText(text, node, what) {
    try {
      await navigator.clipboard.writeText(text);
      flash(what + " was copied to the clipboard.");
    } catch (error) {
      if (node) {
        const range = document.createRange();
        range.selectNodeContents(node);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
      }
      flash("Press Ctrl+C (or Cmd+C) to copy the selected text.");
    }
  }

  /**
   * Buttons with data-api-method and data-api-path call the API (after data-confirm, if set), then reload the page
   * or go to data-then. data-api-body holds a JSON body.
   */
  async function onApiButton(button) {
    const question = button.dataset.confirm;
    if (question && !(await confirmAction(question))) return;
    button.disabled = true;
    try {
      const body = button.dataset.apiBody ? JSON.parse(button.dataset.apiBody) : undefined;
      await api(button.dataset.apiMethod, button.dataset.apiPath, body);
      if (button.dataset.then) window.location.assign(button.dataset.then); else window.location.reload();
    } catch (error) {
      flash(error.message, true);
      button.disabled = false;
    }
  }

  document.addEventListener("click", function (event) {
    const target = event.target.closest("[data-action], [data-api-path], [data-copy]");
    if (!target) return;
    if (target.dataset.copy !== undefined) {
      // A "Copy id" button: it copies its data-copy value; the text it selects otherwise is its sibling <code>.
      const shown = target.parentElement ? target.parentElement.querySelector("code") : null;
      copyText(target.dataset.copy, shown, target.dataset.copyLabel || "The id");
    } else if (target.dataset.action === "toggle-theme") {
      prefs.theme = prefs.theme === "dark" ? "light" : "dark";
    } else if (target.dataset.apiPath) {
      event.preventDefault();
      onApiButton(target);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    localizeTimes(document);
    const label = document.getElementById("timezone-label");
    if (label) label.textContent = timeZone;
    document.querySelectorAll("[data-timezone]").forEach(function (element) { element.textContent = timeZone; });
    const theme = document.getElementById("pref-theme");
    const clock = document.getElementById("pref-clock");
    if (theme) { theme.value = prefs.theme; theme.addEventListener("change", function () { prefs.theme = theme.value; }); }
    if (clock) {
      clock.value = prefs.clock;
      clock.addEventListener("change", function () { prefs.clock = clock.value; localizeTimes(document); });
    }
  });

  return { url: url, apiUrl: apiUrl, api: api, copyText: copyText, requestHeaders: requestHeaders, flash: flash, confirmAction: confirmAction, localizeTimes: localizeTimes, formatTime: formatTime, prefs: prefs };
})();
