// Forms that post to the JSON API and show its 422 errors next to the fields they name (data-error-for="field").
"use strict";

const BatonForms = (function () {
  /** Call the page's API at path (see Baton.apiUrl); resolves {ok, status, data} whatever the status (network failures reject). */
  async function call(method, path, body) {
    const response = await fetch(Baton.apiUrl(path), {
      method: method,
      headers: Baton.requestHeaders(method, body),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (e) { data = text; } }
    return { ok: response.ok, status: response.status, data: data };
  }

  /** pydantic's "Value error, X" says X; the API's own messages pass unchanged. */
  function readable(message) {
    return String(message || "").replace(/^Value error, /, "").replace(/^Assertion failed, /, "");
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (element) { element.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (element) { element.removeAttribute("aria-invalid"); });
  }

  function labelOf(form, field) {
    const input = form.querySelector('[name="' + field + '"]');
    const label = input && input.id ? form.querySelector('label[for="' + input.id + '"]') : null;
    // "Message template (optional)" and "URL *" are named without their hints.
    const text = label ? label.textContent.replace(/\s*\(.*\)\s*$/, "").replace(/\s*\*$/, "").trim() : "";
    return text || field.replace(/_/g, " ");
  }

  /**
   * Show an API error in `form`: each 422 detail under the field its location names (the first part after "body"
   * that the form has), the rest in the form's data-error-for="_form" element. Returns one line for a flash message.
   */
  function showErrors(form, result) {
    clearErrors(form);
    const data = result.data || {};
    const details = Array.isArray(data.exception_detail) ? data.exception_detail : [];
    const lines = [];
    const general = form.querySelector('[data-error-for="_form"]');
    details.forEach(function (detail) {
      const loc = (detail.loc || []).filter(function (part) { return part !== "body"; });
      const field = loc.find(function (part) { return form.querySelector('[data-error-for="' + part + '"]'); });
      const message = readable(detail.msg);
      const target = field !== undefined ? form.querySelector('[data-error-for="' + field + '"]') : general;
      const label = field !== undefined ? labelOf(form, String(field)) : loc.join(".");
      if (field !== undefined) {
        const input = form.querySelector('[name="' + field + '"]');
        if (input) input.setAttribute("aria-invalid", "true");
      }
      if (target) target.textContent = (target.textContent ? target.textContent + " " : "") + message;
      lines.push((label ? label + ": " : "") + message);
    });
    if (!details.length) {
      const detail = data && data.detail ? data.detail : result.status + " error";
      const message = readable(typeof detail === "string" ? detail : JSON.stringify(detail));
      if (general) general.textContent = message;
      lines.push(message);
    }
    return lines.join("; ");
  }

  /** Send `body` for `form`; on failure show the errors (and flash them) and resolve null, else the response data. */
  async function submit(form, method, path, body) {
    const button = form.querySelector('[type="submit"]');
    if (button) button.disabled = true;
    try {
      const result = await call(method, path, body);
      if (!result.ok) {
        Baton.flash(showErrors(form, result), true);
        return null;
      }
      clearErrors(form);
      return result.data === null ? {} : result.data;
    } catch (error) {
      Baton.flash(error.message, true);
      return null;
    } finally {
      if (button) button.disabled = false;
    }
  }

  /** A number input's value: null when empty, NaN stays NaN (the API says what is wrong with it). */
  function numberOrNull(input) {
    return input.value.trim() === "" ? null : Number(input.value);
  }

  return { call: call, submit: submit, showErrors: showErrors, clearErrors: clearErrors, readable: readable, numberOrNull: numberOrNull };
})();
