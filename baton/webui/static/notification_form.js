// The notification policy form: state checkboxes, tags, a target block (existing, or a new one whose fields come
// from the channel's block schema), and a message template previewed by the API as it is typed.
"use strict";

(function () {
  const PREVIEW_DELAY_MS = 300;
  let channelTypes = [];

  function byId(id) { return document.getElementById(id); }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(function ([key, value]) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- fields generated from a block schema --------------------------------------------------------------------

  /** How a schema property is edited: enum, boolean, number, list (one per line), json, secret or text. */
  function kindOf(property, definitions) {
    if (Array.isArray(property.enum)) return "enum";
    const types = [property.type];
    (property.anyOf || []).forEach(function (option) {
      if (option.$ref) {
        const name = option.$ref.split("/").pop();
        if (definitions[name] && Array.isArray(definitions[name].enum)) types.push("string");
      }
      types.push(option.type);
    });
    if (types.includes("object")) return "json";
    if (types.includes("array")) return "list";
    if (types.includes("boolean")) return "boolean";
    if (types.includes("number") || types.includes("integer")) return "number";
    if (property.format === "password" || property.writeOnly) return "secret";
    return "text";
  }

  function renderChannelFields(channel) {
    const container = byId("channel-fields");
    container.replaceChildren();
    byId("channel-description").textContent = channel ? channel.description || "" : "";
    byId("blocks-link").href = Baton.url(channel ? "/blocks/new?type=" + encodeURIComponent(channel.slug) : "/blocks");
    if (!channel) return;
    const fields = channel.fields || {};
    const required = fields.required || [];
    const definitions = fields.definitions || {};
    const entries = Object.entries(fields.properties || {}).sort(function (a, b) {
      return (a[1].position ?? 999) - (b[1].position ?? 999);
    });
    entries.forEach(function ([key, property]) {
      const id = "block-field-" + key;
      const kind = kindOf(property, definitions);
      const isRequired = required.includes(key);
      const label = element("label", { for: id }, (property.title || key) + (isRequired ? " *" : ""));
      let input;
      if (kind === "enum") {
        input = element("select", { id: id });
        property.enum.forEach(function (value) {
          input.appendChild(element("option", { value: String(value), selected: value === property.default }, String(value)));
        });
      } else if (kind === "boolean") {
        input = element("input", { id: id, type: "checkbox", checked: property.default === true });
      } else if (kind === "number") {
        input = element("input", { id: id, type: "number", step: "any", value: property.default ?? undefined });
      } else if (kind === "list") {
        input = element("textarea", { id: id, rows: 2, placeholder: "one per line" });
      } else if (kind === "json") {
        input = element("textarea", { id: id, rows: 3, placeholder: property.examples ? String(property.examples[0]) : "{}" });
        if (property.default) input.value = JSON.stringify(property.default, null, 2);
      } else {
        input = element("input", {
          id: id, type: kind === "secret" ? "password" : "text", autocomplete: "off",
          value: typeof property.default === "string" ? property.default : undefined,
          placeholder: property.examples ? String(property.examples[0]) : undefined,
        });
      }
      input.dataset.blockField = key;
      input.dataset.kind = kind;
      if (isRequired) input.dataset.required = "true";
      const cell = element("div");
      cell.appendChild(input);
      if (property.description) cell.appendChild(element("div", { class: "muted small" }, property.description));
      cell.appendChild(element("div", { class: "field-error", "data-block-error": key, role: "alert" }));
      container.append(label, cell);
    });
  }

  /** The block's data from the generated fields; {errors} names fields that do not parse. */
  function channelData() {
    const data = {};
    const errors = {};
    document.querySelectorAll("#channel-fields [data-block-field]").forEach(function (input) {
      const key = input.dataset.blockField;
      const kind = input.dataset.kind;
      if (kind === "boolean") { data[key] = input.checked; return; }
      const raw = input.value.trim();
      if (raw === "") {
        if (input.dataset.required) errors[key] = "This field is required.";
        return;
      }
      if (kind === "number") {
        const value = Number(raw);
        if (Number.isNaN(value)) errors[key] = "Enter a number."; else data[key] = value;
      } else if (kind === "list") {
        data[key] = raw.split(/\r?\n|,/).map(function (item) { return item.trim(); }).filter(Boolean);
      } else if (kind === "json") {
        try { data[key] = JSON.parse(raw); } catch (error) { errors[key] = "Enter a JSON object: " + error.message; }
      } else {
        data[key] = input.value;
      }
    });
    return { data: data, errors: errors };
  }

  function showBlockErrors(errors) {
    document.querySelectorAll("[data-block-error]").forEach(function (node) { node.textContent = ""; });
    Object.entries(errors).forEach(function ([key, message]) {
      const node = document.querySelector('[data-block-error="' + key + '"]') || document.querySelector('[data-block-error="_form"]');
      node.textContent = (node.textContent ? node.textContent + " " : "") + message;
    });
  }

  /** Create the block document; resolves its id, or null after showing why it could not be made. */
  async function createTargetBlock() {
    const channel = channelTypes.find(function (item) { return item.slug === byId("channel-type").value; });
    if (!channel) {
      showBlockErrors({ _form: "No notification block types are registered on this server." });
      return null;
    }
    const name = byId("block-name").value.trim();
    const parsed = channelData();
    if (!name) parsed.errors.__name = "Give the block a name.";
    if (Object.keys(parsed.errors).length) {
      showBlockErrors(parsed.errors);
      Baton.flash("The new notification block has errors; see the fields marked.", true);
      return null;
    }
    const result = await BatonForms.call("POST", "/block_documents/", {
      name: name, block_type_id: channel.id, block_schema_id: channel.block_schema_id, data: parsed.data,
    });
    if (!result.ok) {
      const errors = {};
      const details = result.data && Array.isArray(result.data.exception_detail) ? result.data.exception_detail : [];
      details.forEach(function (detail) {
        const loc = (detail.loc || []).filter(function (part) { return part !== "body" && part !== "data"; });
        // The document's own name has its own field; data.* errors go to the generated fields.
        const key = loc.length ? (detail.loc.includes("data") ? String(loc[0]) : "__" + String(loc[0])) : "_form";
        errors[key] = BatonForms.readable(detail.msg);
      });
      if (!details.length) errors._form = BatonForms.readable(result.data && result.data.detail ? result.data.detail : result.status + " error");
      showBlockErrors(errors);
      Baton.flash("The notification block was not created: " + Object.values(errors).join("; "), true);
      return null;
    }
    showBlockErrors({});
    // From now on the form targets the block just made, so a second submit does not make another.
    const select = byId("policy-target");
    const option = element("option", { value: result.data.id }, name + " (" + channel.name + ")");
    select.appendChild(option);
    select.value = result.data.id;
    document.querySelector('input[name="target_mode"][value="existing"]').disabled = false;
    document.querySelector('input[name="target_mode"][value="existing"]').checked = true;
    showTargetMode();
    return result.data.id;
  }

  function showTargetMode() {
    const mode = document.querySelector('input[name="target_mode"]:checked').value;
    byId("existing-target").hidden = mode !== "existing";
    byId("new-target").hidden = mode !== "new";
  }

  // --- template preview ------------------------------------------------------------------------------------------

  let previewTimer = null;
  let previewSequence = 0;

  async function preview() {
    const template = byId("policy-template").value;
    const sequence = ++previewSequence;
    const result = await BatonForms.call("POST", "/flow_run_notification_policies/preview", {
      message_template: template.trim() === "" ? null : template,
    });
    if (sequence !== previewSequence) return; // a newer preview is on its way
    const errorBox = byId("template-error");
    if (!result.ok) {
      const details = result.data && Array.isArray(result.data.exception_detail) ? result.data.exception_detail : [];
      errorBox.textContent = details.length
        ? details.map(function (detail) { return BatonForms.readable(detail.msg); }).join(" ")
        : BatonForms.readable(result.data && result.data.detail);
      byId("preview-subject").textContent = "";
      byId("preview-message").textContent = "";
      return;
    }
    errorBox.textContent = "";
    byId("preview-subject").textContent = result.data.subject;
    byId("preview-message").textContent = result.data.message;
  }

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
  }

  // --- submit ----------------------------------------------------------------------------------------------------

  function policyBody(form, targetId) {
    const states = Array.from(form.querySelectorAll('input[name="state_names"]:checked')).map(function (box) { return box.value; });
    const tags = form.elements.tags.value.split(",").map(function (tag) { return tag.trim(); }).filter(Boolean);
    const template = form.elements.message_template.value;
    return {
      name: form.elements.name.value.trim() || null,
      state_names: states,
      tags: tags,
      block_document_id: targetId,
      message_template: template.trim() === "" ? null : template,
      is_active: form.elements.is_active.checked,
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = byId("policy-form");
    channelTypes = JSON.parse(byId("channel-types").dataset.types || "[]");
    const requested = new URLSearchParams(window.location.search).get("channel");
    if (requested && channelTypes.some(function (item) { return item.slug === requested; })) byId("channel-type").value = requested;
    const currentChannel = function () {
      return channelTypes.find(function (item) { return item.slug === byId("channel-type").value; });
    };
    renderChannelFields(currentChannel());
    byId("channel-type").addEventListener("change", function () { renderChannelFields(currentChannel()); });
    document.querySelectorAll('input[name="target_mode"]').forEach(function (radio) {
      radio.addEventListener("change", showTargetMode);
    });
    showTargetMode();
    byId("policy-template").addEventListener("input", schedulePreview);
    preview();

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const mode = document.querySelector('input[name="target_mode"]:checked').value;
      let targetId = byId("policy-target").value || null;
      if (mode === "new") {
        targetId = await createTargetBlock();
        if (!targetId) return;
      }
      const policyId = form.dataset.policyId;
      const body = policyBody(form, targetId);
      const saved = policyId
        ? await BatonForms.submit(form, "PATCH", "/flow_run_notification_policies/" + policyId, body)
        : await BatonForms.submit(form, "POST", "/flow_run_notification_policies/", body);
      if (saved) window.location.assign(Baton.url("/notifications"));
    });
  });
})();
