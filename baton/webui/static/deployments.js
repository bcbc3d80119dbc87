// A deployment's page: the "Run" form made from its parameter schema, posted to create_flow_run.
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

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("run-form");
    if (form) setUpRunForm(form);
  });
})();
