// The variable form: checks that the value is JSON before sending, and shows the API's messages by their field.
"use strict";

(function () {
  const form = document.getElementById("variable-form");
  if (!form) return;
  const variableId = form.dataset.variableId;

  function fieldError(name, message) {
    const slot = form.querySelector('[data-error-for="' + name + '"]');
    if (slot) slot.textContent = message;
    const input = form.querySelector('[name="' + name + '"]');
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  /** The textarea's JSON, or throws an Error saying where and how it is broken. */
  function parseValue(text) {
    if (!text.trim()) throw new Error("Enter a value: any JSON, e.g. \"text\", 42, true, [1, 2] or {\"key\": \"value\"}.");
    try {
      return JSON.parse(text);
    } catch (error) {
      const hint = /^[A-Za-z]/.test(text.trim()) ? " Text needs double quotes: \"" + text.trim().slice(0, 40) + "\"." : "";
      throw new Error("The value is not valid JSON: " + error.message + "." + hint);
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    BatonForms.clearErrors(form);
    const name = form.elements.name.value.trim();
    if (!name) { fieldError("name", "Give the variable a name."); return; }
    let value;
    try {
      value = parseValue(form.elements.value.value);
    } catch (error) {
      fieldError("value", error.message);
      return;
    }
    const tags = form.elements.tags.value.split(",").map(function (tag) { return tag.trim(); }).filter(Boolean);
    const body = { name: name, value: value, tags: tags };
    const button = form.querySelector('[type="submit"]');
    button.disabled = true;
    try {
      const result = variableId
        ? await BatonForms.call("PATCH", "/variables/" + variableId, body)
        : await BatonForms.call("POST", "/variables/", body);
      if (!result.ok) {
        if (result.status === 409) {
          const message = BatonForms.readable(result.data && result.data.detail) || "That name is taken.";
          fieldError("name", message);
          Baton.flash(message, true);
        } else {
          Baton.flash(BatonForms.showErrors(form, result), true);
        }
        return;
      }
      window.location.assign(Baton.url("/variables?q=" + encodeURIComponent(name)));
    } catch (error) {
      Baton.flash(error.message, true);
    } finally {
      button.disabled = false;
    }
  });
})();
