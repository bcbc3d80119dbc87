// A deployment's page: the "Run" form made from its parameter schema, posted to create_flow_run, and the "Edit
// deployment" form, sent as a PATCH of the deployment.
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
      if (run && run.id) window.location.assign("/runs/flow-run/" + run.id);
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

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("run-form");
    if (form) setUpRunForm(form);
    const edit = document.getElementById("deployment-form");
    if (edit) setUpEditForm(edit);
  });
})();
