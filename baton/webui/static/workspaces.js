// The Workspaces pages: create, rename and delete a workspace and set its members' roles through the JSON API
// (/api/workspaces, a global route: see Baton.apiUrl).
"use strict";

(function () {
  function on(selector, handler) {
    document.querySelectorAll(selector).forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        handler(form);
      });
    });
  }

  on("#new-workspace-form", async function (form) {
    const body = { name: form.elements["name"].value.trim(), description: form.elements["description"].value.trim() };
    const created = await BatonForms.submit(form, "POST", "/workspaces/", body);
    if (created !== null) window.location.assign(Baton.url("/workspace-settings/" + created.id));
  });

  on(".rename-workspace-form", async function (form) {
    const body = { name: form.elements["name"].value.trim() };
    if (form.elements["description"]) body.description = form.elements["description"].value.trim();
    if ((await BatonForms.submit(form, "PATCH", form.dataset.path, body)) !== null) window.location.reload();
  });

  on(".member-role-form", async function (form) {
    if ((await BatonForms.submit(form, "PUT", form.dataset.path, { role: form.elements["role"].value })) !== null) {
      window.location.reload();
    }
  });

  on("#add-member-form", async function (form) {
    const path = form.dataset.path + encodeURIComponent(form.elements["account"].value);
    if ((await BatonForms.submit(form, "PUT", path, { role: form.elements["role"].value })) !== null) {
      window.location.reload();
    }
  });

  on("#delete-workspace-form", async function (form) {
    BatonForms.clearErrors(form);
    const typed = form.elements["confirm_name"];
    if (typed.value.trim() !== form.dataset.name) {
      typed.setAttribute("aria-invalid", "true");
      form.querySelector('[data-error-for="confirm_name"]').textContent = "Type the workspace's name exactly to delete it.";
      typed.focus();
      return;
    }
    if ((await BatonForms.submit(form, "DELETE", form.dataset.path)) !== null) {
      window.location.assign(Baton.url("/workspaces"));
    }
  });
})();
