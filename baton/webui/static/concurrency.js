// The Concurrency page: create and edit global and tag limits through the JSON API (reset and delete are
// data-api buttons handled by baton.js).
"use strict";

(function () {
  function byId(id) { return document.getElementById(id); }

  function globalBody(form) {
    return {
      name: form.elements.name.value.trim(),
      limit: BatonForms.numberOrNull(form.elements.limit),
      slot_decay_per_second: BatonForms.numberOrNull(form.elements.slot_decay_per_second) || 0,
      active: form.elements.active.checked,
    };
  }

  function openDialog(dialog, form) {
    BatonForms.clearErrors(form);
    dialog.showModal();
  }

  document.addEventListener("DOMContentLoaded", function () {
    const createGlobal = byId("create-global-limit");
    createGlobal.addEventListener("submit", async function (event) {
      event.preventDefault();
      const created = await BatonForms.submit(createGlobal, "POST", "/v2/concurrency_limits/", globalBody(createGlobal));
      if (created) window.location.reload();
    });

    const createTag = byId("create-tag-limit");
    createTag.addEventListener("submit", async function (event) {
      event.preventDefault();
      const body = {
        tag: createTag.elements.tag.value.trim(),
        concurrency_limit: BatonForms.numberOrNull(createTag.elements.concurrency_limit),
      };
      const created = await BatonForms.submit(createTag, "POST", "/concurrency_limits/", body);
      if (created) window.location.reload();
    });

    const globalDialog = byId("edit-global-dialog");
    const editGlobal = byId("edit-global-limit");
    const tagDialog = byId("edit-tag-dialog");
    const editTag = byId("edit-tag-limit");

    document.addEventListener("click", function (event) {
      const globalButton = event.target.closest("[data-edit-global]");
      if (globalButton) {
        editGlobal.dataset.id = globalButton.dataset.id;
        editGlobal.elements.name.value = globalButton.dataset.name;
        editGlobal.elements.limit.value = globalButton.dataset.limit;
        editGlobal.elements.slot_decay_per_second.value = globalButton.dataset.decay;
        editGlobal.elements.active.checked = globalButton.dataset.active === "true";
        openDialog(globalDialog, editGlobal);
        return;
      }
      const tagButton = event.target.closest("[data-edit-tag]");
      if (tagButton) {
        editTag.elements.tag.value = tagButton.dataset.tag;
        editTag.elements.concurrency_limit.value = tagButton.dataset.limit;
        openDialog(tagDialog, editTag);
        return;
      }
      const close = event.target.closest("[data-close-dialog]");
      if (close) close.closest("dialog").close();
    });

    editGlobal.addEventListener("submit", async function (event) {
      event.preventDefault();
      const path = "/v2/concurrency_limits/" + editGlobal.dataset.id;
      const saved = await BatonForms.submit(editGlobal, "PATCH", path, globalBody(editGlobal));
      if (saved) window.location.reload();
    });

    editTag.addEventListener("submit", async function (event) {
      event.preventDefault();
      const body = {
        tag: editTag.elements.tag.value,
        concurrency_limit: BatonForms.numberOrNull(editTag.elements.concurrency_limit),
      };
      const saved = await BatonForms.submit(editTag, "POST", "/concurrency_limits/", body);
      if (saved) window.location.reload();
    });
  });
})();
