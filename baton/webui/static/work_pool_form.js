// The work pool form: the worker types from the collection view, the chosen type's base job template as a form of
// its variables (their defaults), posted to or patched into the work pool API.
"use strict";

(function () {
  const form = document.getElementById("work-pool-form");
  if (!form) return;
  const poolName = form.dataset.poolName;
  const container = document.getElementById("job-variables");
  const typeSelect = poolName ? null : form.elements.type;
  let templates = {};  // worker type -> default base job template
  let template = poolName ? JSON.parse(form.dataset.template || "{}") : null;

  /** The variable's JSON type: its `type`, or the first non-null type of an anyOf. */
  function kindOf(schema) {
    let type = schema.type;
    if (!type && Array.isArray(schema.anyOf)) {
      const first = schema.anyOf.find(function (option) { return option.type && option.type !== "null"; });
      type = first ? first.type : undefined;
    }
    if (Array.isArray(type)) type = type.find(function (t) { return t !== "null"; });
    if (type === "array" && schema.items && schema.items.type === "string") return "lines";
    if (type === "string" || type === "integer" || type === "number" || type === "boolean") return type;
    return "json";
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderVariables() {
    container.replaceChildren();
    const properties = (template && template.variables && template.variables.properties) || {};
    Object.keys(properties).forEach(function (name) {
      const schema = properties[name];
      const kind = kindOf(schema);
      const id = "job-variable-" + name;
      const field = "variable." + name;
      const value = schema.default;
      container.appendChild(element("label", { for: id }, (schema.title || name) + (kind === "json" ? " (JSON)" : "")));
      const cell = element("div");
      let input;
      if (kind === "boolean") {
        input = element("input", { id: id, type: "checkbox" });
        input.checked = value === true;
      } else if (kind === "integer" || kind === "number") {
        input = element("input", { id: id, type: "number", step: kind === "integer" ? "1" : "any" });
        input.value = value === undefined || value === null ? "" : String(value);
      } else if (kind === "lines") {
        input = element("textarea", { id: id, rows: "3", spellcheck: "false", placeholder: "One per line" });
        input.value = Array.isArray(value) ? value.join("\n") : "";
      } else if (kind === "json") {
        input = element("textarea", { id: id, rows: "3", spellcheck: "false", placeholder: "JSON" });
        input.value = value === undefined ? "" : JSON.stringify(value, null, 2);
      } else {
        input = element("input", { id: id, type: "text", autocomplete: "off" });
        input.value = value === undefined || value === null ? "" : String(value);
      }
      input.name = field;
      input.dataset.variable = name;
      input.dataset.kind = kind;
      cell.appendChild(input);
      if (schema.description) cell.appendChild(element("div", { class: "muted field-help" }, schema.description));
      cell.appendChild(element("div", { class: "field-error", "data-error-for": field, role: "alert" }));
      container.appendChild(cell);
    });
  }

  /** The template with each variable's default taken from its field; throws {field, message} for bad input. */
  function templateFromFields() {
    const result = JSON.parse(JSON.stringify(template || {}));
    const properties = (result.variables && result.variables.properties) || {};
    container.querySelectorAll("[data-variable]").forEach(function (input) {
      const schema = properties[input.dataset.variable];
      if (!schema) return;
      const kind = input.dataset.kind;
      const text = input.value.trim();
      let value;
      if (kind === "boolean") value = input.checked;
      else if (kind === "lines") value = input.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
      else if (text === "") value = undefined;
      else if (kind === "integer" || kind === "number") {
        value = Number(text);
        if (!Number.isFinite(value) || (kind === "integer" && !Number.isInteger(value))) {
          throw { field: input.name, message: "Enter a" + (kind === "integer" ? " whole" : "") + " number." };
        }
      } else if (kind === "json") {
        try { value = JSON.parse(text); } catch (error) { throw { field: input.name, message: "Not valid JSON: " + error.message }; }
      } else value = input.value;
      if (value === undefined) delete schema.default;
      else schema.default = value;
    });
    return result;
  }

  function fieldError(name, message) {
    const slot = form.querySelector('[data-error-for="' + name + '"]');
    if (slot) slot.textContent = message;
    const input = form.querySelector('[name="' + name + '"]');
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  async function loadTypes() {
    const result = await BatonForms.call("GET", "/collections/views/aggregate-worker-metadata");
    if (!result.ok) { Baton.flash(BatonForms.showErrors(form, result), true); return; }
    typeSelect.replaceChildren();
    const help = {};
    Object.values(result.data || {}).forEach(function (workers) {
      Object.values(workers).forEach(function (worker) {
        templates[worker.type] = worker.default_base_job_configuration || {};
        help[worker.type] = worker.description || "";
        typeSelect.appendChild(element("option", { value: worker.type }, worker.display_name || worker.type));
      });
    });
    function choose() {
      template = templates[typeSelect.value] || {};
      document.getElementById("pool-type-help").textContent = help[typeSelect.value] || "";
      renderVariables();
    }
    typeSelect.addEventListener("change", choose);
    choose();
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    BatonForms.clearErrors(form);
    let baseJobTemplate;
    try {
      baseJobTemplate = templateFromFields();
    } catch (error) {
      fieldError(error.field, error.message);
      return;
    }
    const description = form.elements.description.value.trim();
    const body = {
      description: description || null,
      concurrency_limit: BatonForms.numberOrNull(form.elements.concurrency_limit),
      base_job_template: baseJobTemplate,
    };
    let path;
    if (poolName) {
      body.is_paused = form.elements.is_paused.checked;
      path = "/work_pools/" + encodeURIComponent(poolName);
    } else {
      body.name = form.elements.name.value.trim();
      body.type = typeSelect.value;
      if (!body.name) { fieldError("name", "Give the work pool a name."); return; }
    }
    const button = form.querySelector('[type="submit"]');
    button.disabled = true;
    try {
      const result = await BatonForms.call(poolName ? "PATCH" : "POST", poolName ? path : "/work_pools/", body);
      if (!result.ok) {
        if (result.status === 409 || (result.status === 403 && !poolName)) {
          const message = BatonForms.readable(result.data && result.data.detail) || "That name is taken.";
          fieldError("name", message);
          Baton.flash(message, true);
        } else {
          Baton.flash(BatonForms.showErrors(form, result), true);
        }
        return;
      }
      window.location.assign(Baton.url("/work-pools/" + encodeURIComponent(poolName || body.name)));
    } catch (error) {
      Baton.flash(error.message, true);
    } finally {
      button.disabled = false;
    }
  });

  if (poolName) renderVariables();
  else loadTypes().catch(function (error) { Baton.flash(error.message, true); });
})();
