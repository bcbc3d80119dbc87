// The block create/edit form: reads each generated input by its kind, checks it, and sends the document to the API.
"use strict";

(function () {
  const form = document.getElementById("block-form");
  if (!form) return;
  const editing = form.dataset.mode === "edit";

  function setError(key, message) {
    const slot = form.querySelector('[data-error-for="' + CSS.escape(key) + '"]');
    if (slot) slot.textContent = (slot.textContent ? slot.textContent + " " : "") + message;
    const input = form.querySelector('[name="' + CSS.escape(key) + '"]');
    if (input) input.setAttribute("aria-invalid", "true");
    return Boolean(slot);
  }

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (slot) { slot.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
  }

  const SKIP = {};

  /** The value to send for one input, SKIP to leave the field out, or throws an Error with a readable message. */
  function readInput(input) {
    const kind = input.dataset.kind;
    const required = input.dataset.required === "true";
    const nullable = input.dataset.nullable === "true";
    if (kind === "boolean") return input.checked;
    if (kind === "number" || kind === "integer") {
      if (input.validity && input.validity.badInput) throw new Error(kind === "integer" ? "Enter a whole number." : "Enter a number.");
    }
    const raw = kind === "password" ? input.value : input.value.trim();
    if (raw === "") {
      if (kind === "password" && input.dataset.secretSet === "true") return SKIP;  // keeps the stored secret
      if (required) throw new Error("This field is required.");
      return editing && nullable ? null : SKIP;
    }
    switch (kind) {
      case "password":
      case "text":
        return raw;
      case "number":
      case "integer": {
        const number = Number(raw);
        if (!Number.isFinite(number)) throw new Error("Enter a number.");
        if (kind === "integer" && !Number.isInteger(number)) throw new Error("Enter a whole number.");
        return number;
      }
      case "select":
        return JSON.parse(raw);
      case "json": {
        let value;
        try {
          value = JSON.parse(raw);
        } catch (error) {
          throw new Error("This is not valid JSON (" + error.message + "). Text needs double quotes, e.g. \"hello\"; an object looks like {\"key\": \"value\"}.");
        }
        const wanted = input.dataset.jsonType;
        if (wanted === "object" && (value === null || typeof value !== "object" || Array.isArray(value))) {
          if (value === null && nullable) return null;
          throw new Error("Enter a JSON object, e.g. {\"key\": \"value\"}.");
        }
        if (wanted === "array" && !Array.isArray(value)) {
          if (value === null && nullable) return null;
          throw new Error("Enter a JSON list, e.g. [\"a\", \"b\"].");
        }
        return value;
      }
      default:
        return raw;
    }
  }

  /** The API's 422 details next to the inputs they name; returns the first message for the flash box. */
  function showApiErrors(result) {
    const body = result.data || {};
    const details = Array.isArray(body.exception_detail) ? body.exception_detail : [];
    const messages = [];
    details.forEach(function (detail) {
      const loc = (detail.loc || []).filter(function (part) { return part !== "body"; });
      const message = BatonForms.readable(detail.msg);
      const key = loc[0] === "data" && loc.length > 1 ? "data." + loc[1] : String(loc[0]);
      if (!setError(key, message)) setError("_form", loc.join(".") + ": " + message);
      messages.push(message);
    });
    if (!details.length) {
      const message = BatonForms.readable(typeof body.detail === "string" ? body.detail : result.status + " error");
      // 409: the name is taken.
      setError(result.status === 409 && !editing ? "name" : "_form", message);
      messages.push(message);
    }
    return messages.join(" ");
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    clearErrors();
    const data = {};
    let invalid = 0;
    form.querySelectorAll("[data-kind]").forEach(function (input) {
      const field = input.name.slice("data.".length);
      try {
        const value = readInput(input);
        if (value !== SKIP) data[field] = value;
      } catch (error) {
        setError(input.name, error.message);
        invalid += 1;
      }
    });
    const nameInput = document.getElementById("block-name");
    if (!editing && !nameInput.value.trim()) {
      setError("name", "Give the block a name.");
      invalid += 1;
    }
    if (invalid) {
      Baton.flash(invalid === 1 ? "One field needs attention." : invalid + " fields need attention.", true);
      const first = form.querySelector("[aria-invalid]");
      if (first) first.focus();
      return;
    }
    const button = form.querySelector('[type="submit"]');
    button.disabled = true;
    try {
      let result;
      let documentId = form.dataset.documentId;
      if (editing) {
        result = await BatonForms.call("PATCH", "/block_documents/" + documentId, { data: data, merge_existing_data: true });
      } else {
        result = await BatonForms.call("POST", "/block_documents/", {
          name: nameInput.value.trim(),
          block_type_id: form.dataset.blockTypeId,
          block_schema_id: form.dataset.blockSchemaId,
          data: data,
        });
        if (result.ok) documentId = result.data.id;
      }
      if (!result.ok) {
        Baton.flash(showApiErrors(result), true);
        return;
      }
      window.location.assign(Baton.url("/blocks/" + documentId));
    } catch (error) {
      Baton.flash(error.message, true);
    } finally {
      button.disabled = false;
    }
  });
})();
