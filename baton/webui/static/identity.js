// The identity pages (My account, Users, Service accounts, Roles): their forms write through the JSON API, and a
// new API key is shown once, with a copy button.
"use strict";

(function () {
  /** A datetime-local value read as UTC (the forms say so), or null when empty. */
  function utcOrNull(input) {
    return input && input.value ? input.value + (input.value.length === 16 ? ":00Z" : "Z") : null;
  }

  function showKey(key) {
    const box = document.getElementById("new-key");
    if (!box) return;
    document.getElementById("new-key-value").textContent = key;
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  function copyKey() {
    const shown = document.getElementById("new-key-value");
    Baton.copyText(shown.textContent, shown, "The key");
  }

  function on(selector, handler) {
    document.querySelectorAll(selector).forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        handler(form);
      });
    });
  }

  on("#password-form", async function (form) {
    BatonForms.clearErrors(form);
    if (form.elements["new_password"].value !== form.elements["confirm_password"].value) {
      form.querySelector('[data-error-for="confirm_password"]').textContent = "The two new passwords differ.";
      return;
    }
    const body = { current_password: form.elements["current_password"].value, new_password: form.elements["new_password"].value };
    if ((await BatonForms.submit(form, "POST", "/me/password", body)) !== null) {
      form.reset();
      Baton.flash("Your password was changed; your other sessions were signed out.");
    }
  });

  on("#new-key-form", async function (form) {
    const body = { name: form.elements["name"].value.trim(), expires_at: utcOrNull(form.elements["expires_at"]) };
    const created = await BatonForms.submit(form, "POST", "/me/api_keys", body);
    if (created !== null) { form.reset(); showKey(created.api_key); }
  });

  on("#new-user-form", async function (form) {
    const body = { name: form.elements["name"].value.trim(), role: form.elements["role"].value, password: form.elements["password"].value };
    if ((await BatonForms.submit(form, "POST", "/users/", body)) !== null) window.location.reload();
  });

  on("#new-service-account-form", async function (form) {
    const body = { name: form.elements["name"].value.trim(), role: form.elements["role"].value, expires_at: utcOrNull(form.elements["expires_at"]) };
    const created = await BatonForms.submit(form, "POST", "/service_accounts/", body);
    if (created !== null) { form.reset(); showKey(created.api_key); }
  });

  on(".role-form", async function (form) {
    if ((await BatonForms.submit(form, "PATCH", form.dataset.path, { role: form.elements["role"].value })) !== null) {
      window.location.reload();
    }
  });

  on(".password-reset-form", async function (form) {
    if ((await BatonForms.submit(form, "PATCH", form.dataset.path, { password: form.elements["password"].value })) !== null) {
      form.reset();
      Baton.flash("The password was reset; that user's sessions were signed out.");
    }
  });

  on("#role-form", async function (form) {
    const permissions = Array.from(form.querySelectorAll('input[name="permission"]:checked')).map(function (box) {
      return box.value;
    });
    const description = form.elements["description"].value.trim();
    const name = form.dataset.roleName;
    const saved = name
      ? await BatonForms.submit(form, "PATCH", "/roles/" + encodeURIComponent(name), { description: description, permissions: permissions })
      : await BatonForms.submit(form, "POST", "/roles/", { name: form.elements["name"].value.trim(), description: description, permissions: permissions });
    if (saved !== null) window.location.assign(Baton.url("/roles"));
  });

  document.addEventListener("click", async function (event) {
    const target = event.target.closest("#copy-key, #key-done, [data-rotate-path]");
    if (!target) return;
    if (target.id === "copy-key") { copyKey(); return; }
    if (target.id === "key-done") { window.location.reload(); return; }
    if (!(await Baton.confirmAction(target.dataset.confirm))) return;
    target.disabled = true;
    try {
      const rotated = await Baton.api("POST", target.dataset.rotatePath);
      showKey(rotated.api_key);
    } catch (error) {
      Baton.flash(error.message, true);
    } finally {
      target.disabled = false;
    }
  });
})();
