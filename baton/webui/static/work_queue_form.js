// A pool's queue form: adds a queue, or, after a row's Edit button, changes that queue (name, description,
// priority, limit, paused) through the work queue API.
"use strict";

(function () {
  const form = document.getElementById("queue-form");
  if (!form) return;
  const poolPath = form.dataset.poolPath;
  const title = document.getElementById("queue-form-title");
  const button = document.getElementById("save-queue");
  let editing = null;  // the name of the queue being edited

  function startAdding() {
    editing = null;
    title.textContent = "Add a queue";
    button.textContent = "Add queue";
    BatonForms.clearErrors(form);
  }

  document.querySelectorAll('[data-queue-action="edit"]').forEach(function (edit) {
    edit.addEventListener("click", function () {
      const queue = JSON.parse(edit.dataset.queue);
      editing = queue.name;
      title.textContent = "Edit queue " + queue.name;
      button.textContent = "Save queue";
      form.elements.name.value = queue.name;
      form.elements.description.value = queue.description || "";
      form.elements.priority.value = queue.priority === null ? "" : String(queue.priority);
      form.elements.concurrency_limit.value = queue.concurrency_limit === null ? "" : String(queue.concurrency_limit);
      form.elements.is_paused.checked = queue.is_paused;
      BatonForms.clearErrors(form);
      form.elements.name.focus();
    });
  });

  form.addEventListener("reset", startAdding);

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    BatonForms.clearErrors(form);
    const name = form.elements.name.value.trim();
    if (!name) {
      form.querySelector('[data-error-for="name"]').textContent = "Give the queue a name.";
      form.elements.name.setAttribute("aria-invalid", "true");
      return;
    }
    const body = {
      name: name,
      description: form.elements.description.value.trim(),
      priority: BatonForms.numberOrNull(form.elements.priority),
      concurrency_limit: BatonForms.numberOrNull(form.elements.concurrency_limit),
      is_paused: form.elements.is_paused.checked,
    };
    if (editing !== null && body.priority === null) delete body.priority;
    const data = editing === null
      ? await BatonForms.submit(form, "POST", poolPath + "/queues", body)
      : await BatonForms.submit(form, "PATCH", poolPath + "/queues/" + encodeURIComponent(editing), body);
    if (data === null) {
      const nameError = form.querySelector('[data-error-for="name"]');
      const general = form.querySelector('[data-error-for="_form"]');
      // A 409 (the name is taken) belongs to the name field.
      if (general.textContent && /already exists|taken/i.test(general.textContent)) {
        nameError.textContent = general.textContent;
        general.textContent = "";
        form.elements.name.setAttribute("aria-invalid", "true");
      }
      return;
    }
    window.location.reload();
  });
})();
