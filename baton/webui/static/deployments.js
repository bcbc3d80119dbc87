// A deployment's page: the "Run" form made from its parameter schema, posted to create_flow_run, and the "Edit
// deployment" form, sent as a PATCH of the deployment. The "New deployment" form, posted to /deployments/.
"use strict";

(function () {
  /** The parameters the form says, or null after showing the fields whose text cannot be read. */
  function readParameters(form) {
    const parameters = {};
    let readable = true;
    form.querySelectorAll("[data-param]").forEach(function (input) {
      const name = input.dataset.param;
      const kind = input.dataset.kind;
      const error = Array.from(form.querySelectorAll("[data-error-for]")).find(function (element) {
        return element.dataset.errorFor === name;
      });
      const fail = function (message) {
        readable = false;
        input.setAttribute("aria-invalid", "true");
        if (error) error.textContent = message;
      };
      if (kind === "boolean") { parameters[name] = input.checked; return; }
      const text = input.value.trim();
      // An empty optional field is left out, so that the deployment's own value (or the flow's default) applies.
      if (text === "") return;
      if (kind === "number" || kind === "integer") {
        const number = Number(text);
        if (Number.isNaN(number)) { fail("Not a number."); return; }
        parameters[name] = number;
      } else if (kind === "json") {
        try { parameters[name] = JSON.parse(text); } catch (e) { fail("Not valid JSON: " + e.message); }
      } else {
        parameters[name] = input.value;
      }
    });
    return readable ? parameters : null;
  }

  function setUpRunForm(form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      BatonForms.clearErrors(form);
      const parameters = readParameters(form);
      if (parameters === null) { Baton.flash("Some parameters could not be read.", true); return; }
      const path = "/deployments/" + form.dataset.deploymentId + "/create_flow_run";
      const run = await BatonForms.submit(form, "POST", path, { parameters: parameters });
      if (run && run.id) window.location.assign(Baton.url("/runs/flow-run/" + run.id));
    });
  }

  /** The PATCH body the edit form says, or null after showing why the parameters cannot be read. */
  function readDeployment(form) {
    const value = function (name) { return form.querySelector('[name="' + name + '"]').value; };
    let parameters;
    try {
      parameters = JSON.parse(value("parameters") || "{}");
    } catch (error) {
      const input = form.querySelector('[name="parameters"]');
      input.setAttribute("aria-invalid", "true");
      form.querySelector('[data-error-for="parameters"]').textContent = "Not valid JSON: " + error.message;
      return null;
    }
    const options = JSON.parse(form.dataset.concurrencyOptions || "{}") || {};
    options.collision_strategy = value("collision_strategy");
    const tags = value("tags").split(",").map(function (tag) { return tag.trim(); }).filter(Boolean);
    return {
      description: value("description"),
      tags: tags,
      work_pool_name: value("work_pool_name").trim() || null,
      work_queue_name: value("work_queue_name").trim() || null,
      concurrency_limit: BatonForms.numberOrNull(form.querySelector('[name="concurrency_limit"]')),
      concurrency_options: options,
      parameters: parameters,
    };
  }

  function setUpEditForm(form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      BatonForms.clearErrors(form);
      const body = readDeployment(form);
      if (body === null) { Baton.flash("The parameters are not valid JSON.", true); return; }
      const saved = await BatonForms.submit(form, "PATCH", form.dataset.deploymentPath, body);
      if (saved !== null) window.location.reload();
    });
  }

  /** The POST body the new-deployment form says, or null after showing the fields that cannot be read. */
  function readNewDeployment(form) {
    const value = function (name) { return form.querySelector('[name="' + name + '"]').value; };
    const textOrNull = function (name) { return value(name).trim() || null; };
    let parameters;
    const schema = form.dataset.parameterSchema ? JSON.parse(form.dataset.parameterSchema) : null;
    if (schema) {
      parameters = readParameters(form);
      if (parameters === null) return null;
    } else {
      try {
        parameters = JSON.parse(value("parameters") || "{}");
      } catch (error) {
        form.querySelector('[name="parameters"]').setAttribute("aria-invalid", "true");
        form.querySelector('[data-error-for="parameters"]').textContent = "Not valid JSON: " + error.message;
        return null;
      }
    }
    const body = {
      name: value("name").trim(),
      flow_id: value("flow_id"),
      description: textOrNull("description"),
      tags: value("tags").split(",").map(function (tag) { return tag.trim(); }).filter(Boolean),
      work_pool_name: textOrNull("work_pool_name"),
      work_queue_name: textOrNull("work_queue_name"),
      entrypoint: textOrNull("entrypoint"),
      path: textOrNull("path"),
      concurrency_limit: BatonForms.numberOrNull(form.querySelector('[name="concurrency_limit"]')),
      concurrency_options: { collision_strategy: value("collision_strategy") },
      parameters: parameters,
    };
    // The flow's schema goes with the deployment, so that its runs' parameters are checked as the others' are.
    if (schema) body.parameter_openapi_schema = schema;
    return body;
  }

  /** Show `message` under the name field, as the API's own errors are shown. */
  function nameTaken(form, message) {
    form.querySelector('[name="name"]').setAttribute("aria-invalid", "true");
    form.querySelector('[data-error-for="name"]').textContent = message;
    Baton.flash("Name: " + message, true);
  }

  /** The field a 404 of the create call is about: an unknown work pool or queue (the API answers 404, not 422). */
  function missingObjectField(data) {
    const detail = data && typeof data.detail === "string" ? data.detail : "";
    if (/^Work pool/i.test(detail)) return "work_pool_name";
    if (/^Work queue/i.test(detail)) return "work_queue_name";
    return null;
  }

  function setUpNewForm(form) {
    const flow = form.querySelector('[name="flow_id"]');
    flow.addEventListener("change", function () {
      window.location.assign(Baton.url("/deployments/new" + (flow.value ? "?flow=" + encodeURIComponent(flow.value) : "")));
    });
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      BatonForms.clearErrors(form);
      const body = readNewDeployment(form);
      if (body === null) { Baton.flash("Some fields could not be read.", true); return; }
      // POST /deployments/ replaces a deployment of the same flow and name (as Prefect's does): a new one must not.
      if (body.name) {
        const filter = { flows: { id: { any_: [body.flow_id] } }, deployments: { name: { any_: [body.name] } }, limit: 1 };
        const existing = await BatonForms.call("POST", "/deployments/filter", filter);
        if (existing.ok && existing.data.length) {
          nameTaken(form, "The flow already has a deployment named " + body.name + "; edit it on its page.");
          return;
        }
      }
      const button = form.querySelector('[type="submit"]');
      button.disabled = true;
      try {
        const result = await BatonForms.call("POST", "/deployments/", body);
        if (result.ok) { window.location.assign(Baton.url("/deployments/" + result.data.id)); return; }
        const missing = result.status === 404 ? missingObjectField(result.data) : null;
        if (missing) {
          form.querySelector('[name="' + missing + '"]').setAttribute("aria-invalid", "true");
          form.querySelector('[data-error-for="' + missing + '"]').textContent = result.data.detail;
          Baton.flash(result.data.detail, true);
        } else {
          Baton.flash(BatonForms.showErrors(form, result), true);
        }
      } catch (error) {
        Baton.flash(error.message, true);
      } finally {
        button.disabled = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const created = document.getElementById("new-deployment-form");
    if (created) setUpNewForm(created);
    const form = document.getElementById("run-form");
    if (form) setUpRunForm(form);
    const edit = document.getElementById("deployment-form");
    if (edit) setUpEditForm(edit);
  });
})();
