// The Notifications list: "Send test" calls the policy's test endpoint and shows what the service answered
// (pause, resume and delete are data-api buttons handled by baton.js).
"use strict";

(function () {
  async function sendTest(button) {
    const policyId = button.dataset.sendTest;
    const output = document.querySelector('[data-test-result="' + policyId + '"]');
    button.disabled = true;
    output.textContent = "Sending…";
    output.classList.remove("field-error");
    try {
      const result = await Baton.api("POST", "/flow_run_notification_policies/" + policyId + "/test");
      const code = result.response_code ? " (HTTP " + result.response_code + ")" : "";
      const message = result.sent ? "Test message sent" + code + "." : "Test message not sent" + code + ": " + result.error;
      output.textContent = message;
      output.classList.toggle("field-error", !result.sent);
      Baton.flash(message, !result.sent);
    } catch (error) {
      output.textContent = error.message;
      output.classList.add("field-error");
      Baton.flash(error.message, true);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-send-test]");
    if (button) sendTest(button);
  });
})();
