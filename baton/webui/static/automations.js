// The Automations list: each row's switch turns its automation on or off through the API (delete is a data-api
// button handled by baton.js).
"use strict";

(function () {
  async function toggle(input) {
    const enabled = input.checked;
    const label = input.parentElement.querySelector("[data-switch-label]");
    input.disabled = true;
    try {
      await Baton.api("PATCH", "/automations/" + input.dataset.automationSwitch, { enabled: enabled });
      label.textContent = enabled ? "On" : "Off";
      Baton.flash("The automation is " + (enabled ? "on" : "off") + ".");
    } catch (error) {
      input.checked = !enabled;
      Baton.flash(error.message, true);
    } finally {
      input.disabled = false;
    }
  }

  document.addEventListener("change", function (event) {
    const input = event.target.closest("[data-automation-switch]");
    if (input) toggle(input);
  });
})();
