// The automation form: a trigger made from one of the common forms (the JSON Prefect's own UI makes for it) or
// written as JSON, and a list of action cards. It submits the automation to the API and shows the API's 422 next to
// the field (or the action) it names.
"use strict";

(function () {
  const FLOW_RUN = "prefect.flow-run.";
  // The events Prefect emits for each status of a work pool, work queue or deployment.
  const STATUS_EVENTS = {
    "work-pool": { not_ready: ["prefect.work-pool.not-ready", "prefect.work-pool.not_ready"], others: ["prefect.work-pool.ready", "prefect.work-pool.paused"] },
    "work-queue": { not_ready: ["prefect.work-queue.not-ready"], others: ["prefect.work-queue.ready", "prefect.work-queue.paused"] },
    deployment: { not_ready: ["prefect.deployment.not-ready"], others: ["prefect.deployment.ready"] },
  };
  const SELECTED = {
    "run-deployment": "deployment_id", "pause-deployment": "deployment_id", "resume-deployment": "deployment_id",
    "pause-work-pool": "work_pool_id", "resume-work-pool": "work_pool_id",
    "pause-work-queue": "work_queue_id", "resume-work-queue": "work_queue_id",
    "pause-automation": "automation_id", "resume-automation": "automation_id",
  };
  const TARGET_GROUPS = { deployment_id: "deployment", work_pool_id: "work-pool", work_queue_id: "work-queue", automation_id: "automation" };

  let choices = {};
  let form = null;
  let cardCount = 0;

  function byId(id) { return document.getElementById(id); }
  function field(name) { return form.elements[name]; }
  function commaList(text) { return String(text || "").split(",").map(function (part) { return part.trim(); }).filter(Boolean); }
  function selectedValues(select) { return Array.from(select.selectedOptions).map(function (option) { return option.value; }); }
  function setSelected(select, values) {
    Array.from(select.options).forEach(function (option) { option.selected = values.includes(option.value); });
  }
  function toArray(value) { return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]; }
  function idsWithPrefix(patterns, prefix) {
    return toArray(patterns).filter(function (each) { return each.startsWith(prefix) && !each.endsWith("*"); })
      .map(function (each) { return each.slice(prefix.length); });
  }

  function fillChoices(select) {
    const kind = select.dataset.choicesOf;
    if (select.dataset.emptyChoice !== undefined) select.appendChild(new Option(select.dataset.emptyChoice, ""));
    (choices[kind] || []).forEach(function (item) {
      let label = item.name;
      if (item.work_pool_name) label = item.work_pool_name + " / " + item.name;
      if (item.type_name) label = item.name + " (" + item.type_name + ")";
      select.appendChild(new Option(label, item.id));
    });
  }

  // --- the trigger forms: each makes Prefect's trigger JSON and reads it back -----------------------------------------

  /** A match_related specification of resources in one role (Prefect UI's shape), or null when none are chosen. */
  function relatedSpec(role, ids) {
    if (!ids.length) return null;
    return { "prefect.resource.role": role, "prefect.resource.id": ids.map(function (id) { return "prefect." + role + "." + id; }) };
  }

  function eventTrigger(values) {
    return Object.assign({
      type: "event", match: {}, match_related: {}, after: [], expect: [], for_each: [], posture: "Reactive",
      threshold: 1, within: 0,
    }, values);
  }

  const TRIGGER_FORMS = {
    "flow-run-state": {
      make: function () {
        const states = Array.from(form.querySelectorAll('input[name="flow_run_states"]:checked')).map(function (box) { return FLOW_RUN + box.value; });
        const stateEvents = states.length ? states : [FLOW_RUN + "*"];
        const specs = [
          relatedSpec("flow", selectedValues(field("flow_run_flows"))),
          relatedSpec("deployment", selectedValues(field("flow_run_deployments"))),
          relatedSpec("tag", commaList(field("flow_run_tags").value)),
        ].filter(Boolean);
        // One kind of related resource is Prefect UI's object; several must all hold, which a list says.
        const related = specs.length === 0 ? {} : specs.length === 1 ? specs[0] : specs;
        const common = { match: { "prefect.resource.id": FLOW_RUN + "*" }, match_related: related, for_each: ["prefect.resource.id"] };
        if (field("flow_run_posture").value === "Proactive") {
          return eventTrigger(Object.assign(common, { posture: "Proactive", after: stateEvents, expect: [FLOW_RUN + "*"], within: Number(field("flow_run_within").value) }));
        }
        return eventTrigger(Object.assign(common, { expect: stateEvents }));
      },
      read: function (trigger) {
        const proactive = trigger.posture === "Proactive";
        const states = toArray(proactive ? trigger.after : trigger.expect).filter(function (each) { return each !== FLOW_RUN + "*"; })
          .map(function (each) { return each.slice(FLOW_RUN.length); });
        form.querySelectorAll('input[name="flow_run_states"]').forEach(function (box) { box.checked = states.includes(box.value); });
        const specs = Array.isArray(trigger.match_related) ? trigger.match_related : [trigger.match_related || {}];
        const ids = [].concat.apply([], specs.map(function (spec) { return toArray(spec["prefect.resource.id"]); }));
        setSelected(field("flow_run_flows"), idsWithPrefix(ids, "prefect.flow."));
        setSelected(field("flow_run_deployments"), idsWithPrefix(ids, "prefect.deployment."));
        field("flow_run_tags").value = idsWithPrefix(ids, "prefect.tag.").join(", ");
        field("flow_run_posture").value = proactive ? "Proactive" : "Reactive";
        if (proactive) field("flow_run_within").value = trigger.within;
      },
    },
    "not-ready": {
      make: function () {
        const kind = field("not_ready_kind").value;
        const select = form.querySelector("#not-ready-" + kind);
        const ids = selectedValues(select);
        const prefix = "prefect." + kind + ".";
        const match = { "prefect.resource.id": ids.length ? ids.map(function (id) { return prefix + id; }) : prefix + "*" };
        const events = STATUS_EVENTS[kind];
        if (field("not_ready_posture").value === "Proactive") {
          return eventTrigger({ match: match, for_each: ["prefect.resource.id"], posture: "Proactive", after: events.not_ready.slice(), expect: events.others.slice(), within: Number(field("not_ready_within").value) });
        }
        return eventTrigger({ match: match, for_each: ["prefect.resource.id"], expect: events.not_ready.slice() });
      },
      read: function (trigger) {
        const ids = toArray((trigger.match || {})["prefect.resource.id"]);
        const kind = ["work-pool", "work-queue", "deployment"].find(function (each) { return ids.length && ids[0].startsWith("prefect." + each + "."); }) || "work-pool";
        field("not_ready_kind").value = kind;
        setSelected(form.querySelector("#not-ready-" + kind), idsWithPrefix(ids, "prefect." + kind + "."));
        field("not_ready_posture").value = trigger.posture === "Proactive" ? "Proactive" : "Reactive";
        if (trigger.posture === "Proactive") field("not_ready_within").value = trigger.within;
      },
    },
    "missing-event": {
      make: function () {
        const resource = field("missing_resource").value.trim();
        return eventTrigger({
          match: resource ? { "prefect.resource.id": resource } : {},
          posture: "Proactive",
          expect: commaList(field("missing_expect").value),
          after: commaList(field("missing_after").value),
          for_each: commaList(field("missing_for_each").value),
          threshold: Number(field("missing_threshold").value),
          within: Number(field("missing_within").value),
        });
      },
      read: function (trigger) {
        field("missing_resource").value = toArray((trigger.match || {})["prefect.resource.id"]).join(", ");
        field("missing_expect").value = toArray(trigger.expect).join(", ");
        field("missing_after").value = toArray(trigger.after).join(", ");
        field("missing_for_each").value = toArray(trigger.for_each).join(", ");
        field("missing_threshold").value = trigger.threshold;
        field("missing_within").value = trigger.within;
      },
    },
    metric: {
      make: function () {
        const deployment = field("metric_deployment").value;
        return {
          type: "metric",
          match: { "prefect.resource.id": FLOW_RUN + "*" },
          match_related: relatedSpec("deployment", deployment ? [deployment] : []) || {},
          posture: "Metric",
          metric: {
            name: field("metric_name").value,
            operator: field("metric_operator").value,
            threshold: BatonForms.numberOrNull(field("metric_threshold")),
            range: Number(field("metric_range").value),
            firing_for: Number(field("metric_firing_for").value),
          },
        };
      },
      read: function (trigger) {
        const related = Array.isArray(trigger.match_related) ? trigger.match_related[0] || {} : trigger.match_related || {};
        const ids = idsWithPrefix(related["prefect.resource.id"], "prefect.deployment.");
        field("metric_deployment").value = ids[0] || "";
        const metric = trigger.metric || {};
        ["name", "operator", "threshold", "range", "firing_for"].forEach(function (key) { field("metric_" + key).value = metric[key]; });
      },
    },
  };

  /** Compare triggers whatever their key order, the order of label lists, and the id the server gave. */
  function canonical(value) {
    if (Array.isArray(value)) {
      const items = value.map(canonical);
      return items.every(function (item) { return typeof item === "string"; }) ? items.slice().sort() : items;
    }
    if (value && typeof value === "object") {
      const result = {};
      Object.keys(value).sort().forEach(function (key) { if (key !== "id") result[key] = canonical(value[key]); });
      return result;
    }
    return value;
  }
  function same(a, b) { return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b)); }

  /** The form that makes exactly `trigger` (after filling it from the trigger), or "custom". */
  function formFor(trigger) {
    for (const kind of Object.keys(TRIGGER_FORMS)) {
      try {
        TRIGGER_FORMS[kind].read(trigger);
        if (same(TRIGGER_FORMS[kind].make(), trigger)) return kind;
      } catch (error) {
        // not this form's shape
      }
    }
    return "custom";
  }

  function showTriggerForm() {
    const kind = field("trigger_kind").value;
    form.querySelectorAll("[data-trigger-form]").forEach(function (node) { node.hidden = node.dataset.triggerForm !== kind; });
    form.querySelectorAll("[data-when-proactive]").forEach(function (node) {
      node.hidden = field(node.dataset.whenProactive).value !== "Proactive";
    });
    const notReady = field("not_ready_kind").value;
    form.querySelectorAll("[data-not-ready-objects]").forEach(function (node) {
      const shown = node.dataset.notReadyObjects === notReady;
      node.hidden = !shown;
      node.previousElementSibling.hidden = !shown;
    });
  }

  function writeTriggerJson() {
    const kind = field("trigger_kind").value;
    if (kind === "custom") return;
    field("trigger").value = JSON.stringify(TRIGGER_FORMS[kind].make(), null, 2);
  }

  // --- action cards ------------------------------------------------------------------------------------------------

  function cardField(card, name) { return card.querySelector('[data-field="' + name + '"]'); }

  function showActionFields(card) {
    const type = cardField(card, "type").value;
    const target = SELECTED[type];
    const inferred = cardField(card, "source").value === "inferred";
    const groups = new Set();
    if (target) { groups.add("selected"); if (!inferred) groups.add(TARGET_GROUPS[target]); }
    groups.add(type);
    if (type === "send-notification" || type === "call-webhook") groups.add("templates");
    card.querySelectorAll("[data-shown-for]").forEach(function (node) { node.hidden = !groups.has(node.dataset.shownFor); });
  }

  const PHASES = ["actions", "actions_on_trigger", "actions_on_resolve"];

  function addActionCard(action, phase) {
    const card = byId("action-card-template").content.firstElementChild.cloneNode(true);
    const index = cardCount++;
    card.querySelectorAll("[data-field]").forEach(function (input) {
      input.id = "action-" + index + "-" + input.dataset.field;
      const label = card.querySelector('label[data-for="' + input.dataset.field + '"]');
      if (label) label.htmlFor = input.id;
    });
    card.querySelectorAll("select[data-choices-of]").forEach(fillChoices);
    byId("action-cards").appendChild(card);
    cardField(card, "phase").value = phase || "actions";
    if (action) readAction(card, action);
    showActionFields(card);
    return card;
  }

  function readAction(card, action) {
    cardField(card, "type").value = action.type;
    const target = SELECTED[action.type];
    if (target) {
      cardField(card, "source").value = action.source || "selected";
      if (action[target]) cardField(card, target).value = action[target];
    }
    if (action.type === "run-deployment" && action.parameters) cardField(card, "parameters").value = JSON.stringify(action.parameters, null, 2);
    if (action.type === "change-flow-run-state") {
      cardField(card, "state").value = action.state;
      cardField(card, "name").value = action.name || "";
      cardField(card, "message").value = action.message || "";
    }
    if (action.type === "send-notification") {
      cardField(card, "notification_block").value = action.block_document_id;
      cardField(card, "subject").value = action.subject;
      cardField(card, "body").value = action.body;
    }
    if (action.type === "call-webhook") {
      cardField(card, "webhook_block").value = action.block_document_id;
      cardField(card, "payload").value = action.payload || "";
    }
    // Fields the form has no input for (job variables, schedule_after, ...) are kept as they were.
    card.dataset.original = JSON.stringify(action);
  }

  /** The action of a card; throws an Error naming the field that does not parse. */
  function makeAction(card) {
    const type = cardField(card, "type").value;
    const original = card.dataset.original ? JSON.parse(card.dataset.original) : {};
    const action = original.type === type ? Object.assign({}, original) : { type: type };
    const target = SELECTED[type];
    if (target) {
      action.source = cardField(card, "source").value;
      action[target] = action.source === "selected" ? cardField(card, target).value || null : null;
    }
    if (type === "run-deployment") {
      const text = cardField(card, "parameters").value.trim();
      try { action.parameters = text ? JSON.parse(text) : null; } catch (error) { throw new Error("The parameters are not JSON: " + error.message); }
    } else if (type === "change-flow-run-state") {
      action.state = cardField(card, "state").value;
      action.name = cardField(card, "name").value.trim() || null;
      action.message = cardField(card, "message").value.trim() || null;
    } else if (type === "send-notification") {
      action.block_document_id = cardField(card, "notification_block").value || null;
      action.subject = cardField(card, "subject").value;
      action.body = cardField(card, "body").value;
    } else if (type === "call-webhook") {
      action.block_document_id = cardField(card, "webhook_block").value || null;
      action.payload = cardField(card, "payload").value;
    }
    return action;
  }

  async function checkTemplates(card) {
    const type = cardField(card, "type").value;
    const names = type === "send-notification" ? ["subject", "body"] : ["payload"];
    const result = card.querySelector("[data-template-result]");
    let good = true;
    for (const name of names) {
      const box = card.querySelector('[data-template-error="' + name + '"]');
      const answer = await BatonForms.call("POST", "/templates/validate", cardField(card, name).value);
      if (answer.ok) { box.textContent = ""; continue; }
      good = false;
      const error = answer.data && answer.data.error ? answer.data.error : { message: BatonForms.readable(answer.data && answer.data.detail) };
      box.textContent = (error.line ? "Line " + error.line + ": " : "") + error.message;
    }
    result.textContent = good ? "The template is valid." : "The template has errors.";
  }

  // --- submit ------------------------------------------------------------------------------------------------------

  /** Each 422 detail next to what it names: a field, the trigger, or the action card at its index. */
  function showApiErrors(result) {
    const general = BatonForms.showErrors(form, result);
    form.querySelectorAll("[data-action-error]").forEach(function (node) { node.textContent = ""; });
    const details = result.data && Array.isArray(result.data.exception_detail) ? result.data.exception_detail : [];
    details.forEach(function (detail) {
      const loc = (detail.loc || []).filter(function (part) { return part !== "body"; });
      const card = PHASES.includes(loc[0]) && typeof loc[1] === "number"
        ? form.querySelector('[data-action-card][data-error-key="' + loc[0] + "." + loc[1] + '"]') : null;
      if (card) {
        const box = card.querySelector("[data-action-error]");
        const where = loc.slice(2).filter(function (part) { return !SELECTED[part] && !String(part).includes("-"); }).join(".");
        box.textContent = (box.textContent ? box.textContent + " " : "") + (where ? where + ": " : "") + BatonForms.readable(detail.msg);
        form.querySelector('[data-error-for="actions"]').textContent = "";
      }
    });
    return general;
  }

  function automationBody() {
    const cards = Array.from(form.querySelectorAll("[data-action-card]"));
    const phases = { actions: [], actions_on_trigger: [], actions_on_resolve: [] };
    let broken = false;
    cards.forEach(function (card) {
      const box = card.querySelector("[data-action-error]");
      const phase = cardField(card, "phase").value;
      // The API names an action by its list and its index there (actions_on_resolve.0).
      card.dataset.errorKey = phase + "." + phases[phase].length;
      try { phases[phase].push(makeAction(card)); box.textContent = ""; } catch (error) { box.textContent = error.message; broken = true; }
    });
    let trigger;
    try {
      trigger = JSON.parse(field("trigger").value);
    } catch (error) {
      form.querySelector('[data-error-for="trigger"]').textContent = "The trigger is not JSON: " + error.message;
      broken = true;
    }
    if (broken) return null;
    return {
      name: field("name").value.trim(),
      description: field("description").value,
      enabled: field("enabled").checked,
      tags: commaList(field("tags").value),
      trigger: trigger,
      actions: phases.actions,
      actions_on_trigger: phases.actions_on_trigger,
      actions_on_resolve: phases.actions_on_resolve,
    };
  }

  async function submit(event) {
    event.preventDefault();
    BatonForms.clearErrors(form);
    const body = automationBody();
    if (!body) { Baton.flash("The automation has errors; see the fields marked.", true); return; }
    const id = form.dataset.automationId;
    const button = form.querySelector('[type="submit"]');
    button.disabled = true;
    try {
      const result = id ? await BatonForms.call("PUT", "/automations/" + id, body) : await BatonForms.call("POST", "/automations/", body);
      if (!result.ok) { Baton.flash(showApiErrors(result), true); return; }
      window.location.assign(Baton.url("/automations/" + (id || result.data.id)));
    } catch (error) {
      Baton.flash(error.message, true);
    } finally {
      button.disabled = false;
    }
  }

  function load(automation) {
    field("name").value = automation.name;
    field("description").value = automation.description || "";
    field("tags").value = (automation.tags || []).join(", ");
    field("enabled").checked = automation.enabled;
    const kind = formFor(automation.trigger);
    field("trigger_kind").value = kind;
    if (kind !== "custom") {
      TRIGGER_FORMS[kind].read(automation.trigger);
      writeTriggerJson();
    } else {
      // The server gives every trigger a fresh id on save, so the stored one is left out.
      const shown = Object.assign({}, automation.trigger);
      delete shown.id;
      field("trigger").value = JSON.stringify(shown, null, 2);
    }
    PHASES.forEach(function (phase) {
      (automation[phase] || []).forEach(function (action) { addActionCard(action, phase); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = byId("automation-form");
    choices = JSON.parse(form.dataset.choices || "{}");
    form.querySelectorAll("select[data-choices-of]").forEach(fillChoices);
    if (form.dataset.automation) {
      load(JSON.parse(form.dataset.automation));
    } else {
      const deployment = form.dataset.preselectedDeployment;
      if (deployment) setSelected(field("flow_run_deployments"), [deployment]);
      form.querySelectorAll('input[name="flow_run_states"]').forEach(function (box) { box.checked = ["Failed", "Crashed"].includes(box.value); });
      addActionCard({ type: "do-nothing" }, "actions");
      writeTriggerJson();
    }
    showTriggerForm();
    form.addEventListener("input", function (event) {
      if (event.target === field("trigger")) { field("trigger_kind").value = "custom"; showTriggerForm(); return; }
      if (event.target.closest("[data-trigger-form]") || event.target === field("trigger_kind")) { showTriggerForm(); writeTriggerJson(); }
    });
    form.addEventListener("change", function (event) {
      const card = event.target.closest("[data-action-card]");
      if (card) { showActionFields(card); return; }
      if (event.target.closest("[data-trigger-form]") || event.target === field("trigger_kind")) { showTriggerForm(); writeTriggerJson(); }
    });
    form.addEventListener("click", function (event) {
      const remove = event.target.closest("[data-remove-action]");
      if (remove) { remove.closest("[data-action-card]").remove(); return; }
      const check = event.target.closest("[data-check-templates]");
      if (check) checkTemplates(check.closest("[data-action-card]"));
    });
    byId("add-action").addEventListener("click", function () { addActionCard(null, "actions"); });
    form.addEventListener("submit", submit);
  });
})();
