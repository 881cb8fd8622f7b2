// The Reports page: tabs, statuses refreshed from the API every few seconds, row actions
// (download, details, stop/start, delete with a confirmation) and the two-step Create
// Report form, whose fields follow the options the API derives from the report definitions.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const WRITER = document.body.dataset.right === "write";
const REFRESH_MS = 2000;
const LABELS = {
  loyalty_wallet: "Loyalty Wallet",
  partner_vouchers: "Partner Vouchers",
  promo_campaigns: "Promo Campaigns",
};
let options = null;

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

async function api(method, path, body) {
  const init = { method, headers: { "X-CSRF-Token": CSRF } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) window.location = "/signin";
  const data = await response.json().catch(() => ({}));
  return { status: response.status, ok: response.ok, data };
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 6000);
}

// ---------------------------------------------------------------- the list
// 2026-12-02T00:46:32+01:00 -> 2026-12-02 00:46 +01:00 (as the server renders it)
function when(value) {
  return value.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d/, "$1 $2 ");
}

function titleCase(code) {
  return (code || "").replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
}

function actionsOf(report) {
  const cell = el("td", { class: "actions" });
  if (report.downloadable) {
    const link = el("a", { href: `/api/reports/${report.id}/file`, class: "download",
      download: "" }, "Download");
    cell.append(link);
  }
  if (WRITER && report.kind === "recurring" && report.id) {
    const running = report.status === "Active";
    const toggle = el("button", { class: "toggle" }, running ? "Stop" : "Start");
    toggle.addEventListener("click", async () => {
      const result = await api("POST", `/api/reports/${report.id}/${running ? "stop" : "start"}`);
      notice(result.ok ? `${report.name}: ${result.data.status}` : result.data.detail);
      refresh();
    });
    const remove = el("button", { class: "delete danger" }, "Delete");
    remove.addEventListener("click", () => confirmDelete(report));
    cell.append(toggle, remove);
  }
  return cell;
}

function rowOf(report, columns) {
  const row = el("tr", { "data-id": report.id || "", "data-status": report.status });
  for (const col of columns) {
    let value = report[col] || "";
    if (col === "promotion_type") value = LABELS[value] || value;
    if (col === "report_type") value = titleCase(value);
    if (col === "created_on" || col === "next_run") value = when(value);
    const cell = el("td", { "data-col": col }, String(value));
    if (col === "name" && report.id) {
      cell.classList.add("open");
      cell.title = "View its configuration";
      cell.addEventListener("click", () => showDetails(report.id));
    }
    row.append(cell);
  }
  row.append(actionsOf(report));
  return row;
}

const COLUMNS = ["name", "promotion_type", "report_type", "status", "created_by", "created_on"];

function render(reports) {
  for (const kind of ["one_time", "recurring"]) {
    const table = document.querySelector(`table[data-kind="${kind}"]`);
    const columns = kind === "recurring" ? [...COLUMNS, "frequency", "next_run"] : COLUMNS;
    const rows = reports.filter((r) => r.kind === kind).map((r) => rowOf(r, columns));
    table.tBodies[0].replaceChildren(...rows);
    table.parentElement.querySelector(".empty").hidden = rows.length > 0;
  }
}

async function refresh() {
  const result = await api("GET", "/api/reports");
  if (result.ok) render(result.data.reports);
}

function showTab(kind) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.setAttribute("aria-selected", String(tab.dataset.tab === kind));
  }
  for (const panel of document.querySelectorAll('[role="tabpanel"]')) {
    panel.hidden = panel.id !== `tab-${kind}`;
  }
}

async function showDetails(id) {
  const result = await api("GET", `/api/reports/${id}`);
  const dialog = document.getElementById("details");
  const list = document.getElementById("details-body");
  list.replaceChildren();
  if (!result.ok) {
    list.append(el("dd", {}, result.data.detail || "not found"));
  } else {
    const r = result.data;
    document.getElementById("details-title").textContent = r.name;
    const facts = { Status: r.status, "Created by": r.created_by, "Created on": r.created_on,
      Frequency: r.frequency, Location: r.location, Reason: r.reason };
    for (const [key, value] of Object.entries(facts)) {
      if (value) list.append(el("dt", {}, key), el("dd", {}, String(value)));
    }
    const config = el("dd");
    config.append(el("pre", { class: "config" }, JSON.stringify(r.configuration, null, 2)));
    list.append(el("dt", {}, "Configuration"), config);
  }
  dialog.showModal();
}

function confirmDelete(report) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent =
    `Delete the recurring report "${report.name}"? Its schedule stops now; ` +
    "files it already delivered stay.";
  const yes = document.getElementById("confirm-yes");
  const no = document.getElementById("confirm-no");
  const close = () => dialog.close();
  no.onclick = close;
  yes.onclick = async () => {
    close();
    const result = await api("DELETE", `/api/reports/${report.id}`);
    notice(result.ok ? `Deleted: ${report.name}` : result.data.detail);
    refresh();
  };
  dialog.showModal();
}

// ---------------------------------------------------------------- the form
const form = document.getElementById("create-form");
const $ = (id) => document.getElementById(id);

function fill(select, items, placeholder) {
  select.replaceChildren();
  if (placeholder) select.append(el("option", { value: "" }, placeholder));
  for (const item of items) select.append(el("option", { value: item.value }, item.label));
}

function reportType() {
  return options.report_types.find((t) => t.value === $("f-report").value);
}

function filterField(filter) {
  const wrap = el("div", { class: "field", "data-field": `filters.${filter.key}` });
  const id = `f-${filter.key}`;
  wrap.append(el("label", { for: id }, filter.label));
  if (filter.multiple) {
    const box = el("div", { class: "checks", id });
    for (const item of options[filter.choices]) {
      const label = el("label", { class: "check" });
      const input = el("input", { type: "checkbox", name: filter.key, value: item.value });
      input.checked = true; // all selected by default
      label.append(input, document.createTextNode(` ${item.label}`));
      box.append(label);
    }
    wrap.append(box);
  } else {
    const select = el("select", { id, name: filter.key });
    wrap.append(select);
  }
  wrap.append(el("p", { class: "error" }));
  return wrap;
}

function fillChoices() {
  const wallets = $("f-wallet_id");
  if (wallets) {
    const many = options.wallets.length !== 1;
    fill(wallets, options.wallets.map((w) => ({ value: w.id, label: w.name })),
      many ? "Select a wallet" : null);
  }
  const campaigns = $("f-campaign_id");
  if (campaigns) {
    fill(campaigns, options.campaigns.map((c) => ({ value: c.id,
      label: `${c.name} (${(c.status || "").toLowerCase()})` })), "Select a campaign");
  }
  const partners = $("f-partner_id");
  if (partners) {
    fill(partners, options.partners.map((p) => ({ value: p.id, label: p.name })),
      "Select a partner");
    partners.addEventListener("change", fillListTags);
    fillListTags();
  }
}

function fillListTags() {
  const partner = options.partners.find((p) => p.id === $("f-partner_id").value);
  const tags = partner ? partner.list_tags : [];
  fill($("f-list_tag"), tags.map((t) => ({ value: t.tag, label: t.name })),
    partner ? "Select a list" : "Select a partner first");
}

function onPromotionType() {
  const promotion = options.promotion_types.find((p) => p.value === $("f-promotion").value);
  const types = options.report_types.filter((t) => promotion && t.promotion_type === promotion.value);
  fill($("f-report"), types, "Select a report type");
  onReportType();
}

function onReportType() {
  const type = reportType();
  $("filters").replaceChildren(...(type ? type.filters.map(filterField) : []));
  fillChoices();
  onDelivery();
}

function onDelivery() {
  const type = reportType();
  const frequency = $("f-frequency").value;
  const recurring = frequency !== "one_time";
  const destinations = options.destinations.filter((d) => !recurring || d.recurring);
  // keep a destination the user picked; one the form had to pick (recurring: the cloud
  // only) goes back to the first choice when it is no longer forced
  const picked = $("f-destination").dataset.picked;
  fill($("f-destination"), destinations);
  if (destinations.some((d) => d.value === picked)) $("f-destination").value = picked;
  const destination = options.destinations.find((d) => d.value === $("f-destination").value);
  for (const field of form.querySelectorAll(".field.cloud")) {
    const name = field.dataset.field.split(".")[1];
    field.hidden = !destination || !destination.fields.includes(name);
  }
  form.querySelector('[data-field="frequency.delivery_day"]').hidden = frequency !== "weekly";
  // no date range for a snapshot (user ledger summary) nor for recurring reports
  form.querySelector('[data-field="date_range"]').hidden = recurring || !type || !type.date_range;
  form.querySelector(".custom").hidden = $("f-preset").value !== "custom";
}

function specOfForm() {
  const type = reportType();
  const spec = {
    name: $("f-name").value,
    promotion_type: $("f-promotion").value || undefined,
    report_type: $("f-report").value || undefined,
    filters: {},
  };
  for (const filter of type ? type.filters : []) {
    if (filter.multiple) {
      spec.filters[filter.key] = [...form.querySelectorAll(`input[name="${filter.key}"]:checked`)]
        .map((i) => i.value);
    } else if ($(`f-${filter.key}`).value) {
      spec.filters[filter.key] = $(`f-${filter.key}`).value;
    }
  }
  // a configured destination is `{destination: cloud, name}`; download has no keys
  const choice = options.destinations.find((d) => d.value === $("f-destination").value);
  spec.delivery = { destination: choice ? choice.destination : $("f-destination").value };
  if (choice && choice.name) spec.delivery.name = choice.name;
  if (choice && choice.fields.includes("prefix") && $("f-prefix").value) {
    spec.delivery.prefix = $("f-prefix").value;
  }
  const frequency = $("f-frequency").value;
  spec.frequency = frequency === "one_time" ? "one_time"
    : frequency === "weekly" ? { interval: "weekly", delivery_day: $("f-day").value }
      : { interval: frequency };
  if (!form.querySelector('[data-field="date_range"]').hidden) {
    spec.date_range = $("f-preset").value === "custom"
      ? { start: $("f-start").value, end: $("f-end").value }
      : { preset: $("f-preset").value };
  }
  return spec;
}

function showStep(step) {
  for (const set of form.querySelectorAll("fieldset")) set.hidden = set.dataset.step !== step;
  for (const item of form.querySelectorAll(".steps li")) {
    item.classList.toggle("current", item.dataset.step === step);
  }
  $("back").hidden = step === "1";
  $("next").hidden = step === "2";
  $("export").hidden = step === "1";
}

function clearErrors() {
  for (const p of form.querySelectorAll(".error")) p.textContent = "";
}

function showErrors(errors) {
  clearErrors();
  let step = "2";
  for (const error of errors) {
    // the closest field: filters.transaction_sources[0] -> filters.transaction_sources
    let key = error.field.replace(/\[\d+\]$/, "");
    // the destination's name (or an older spec's bucket) is chosen in the destination list
    if (key === "delivery.name" || key === "delivery.bucket") key = "delivery.destination";
    let field = form.querySelector(`[data-field="${key}"]`);
    while (!field && key.includes(".")) {
      key = key.slice(0, key.lastIndexOf("."));
      field = form.querySelector(`[data-field="${key}"]`);
    }
    const where = field ? (field.querySelector(".error") || field) : $("form-error");
    where.textContent = [where.textContent, error.message].filter(Boolean).join("; ");
    if (field && field.closest('fieldset[data-step="1"]')) step = "1";
  }
  showStep(step);
}

async function submit(event) {
  event.preventDefault();
  const result = await api("POST", "/api/reports", specOfForm());
  if (result.status === 422) return showErrors(result.data.errors);
  if (!result.ok) return showErrors([{ field: "spec", message: result.data.detail }]);
  $("create-dialog").close();
  notice("Report export created");
  showTab(result.data.kind);
  refresh();
}

async function openForm() {
  if (!options) {
    const result = await api("GET", "/api/options");
    if (!result.ok) return notice(result.data.detail || "cannot load the form's options");
    options = result.data;
    fill($("f-promotion"), options.promotion_types, "Select a promotion type");
    fill($("f-frequency"), options.frequencies);
    fill($("f-day"), options.weekdays);
    fill($("f-preset"), [...options.presets, { value: "custom", label: "Custom range" }]);
  }
  form.reset();
  delete $("f-destination").dataset.picked;
  clearErrors();
  onPromotionType();
  showStep("1");
  $("create-dialog").showModal();
}

function setUp() {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }
  if (form) {
    $("create-report").addEventListener("click", openForm);
    $("f-promotion").addEventListener("change", onPromotionType);
    $("f-report").addEventListener("change", onReportType);
    $("f-destination").addEventListener("change", () => {
      $("f-destination").dataset.picked = $("f-destination").value;
    });
    for (const id of ["f-frequency", "f-destination", "f-preset"]) {
      $(id).addEventListener("change", onDelivery);
    }
    $("next").addEventListener("click", () => showStep("2"));
    $("back").addEventListener("click", () => showStep("1"));
    $("cancel").addEventListener("click", () => $("create-dialog").close());
    form.addEventListener("submit", submit);
  }
  refresh();
  setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
}

setUp();
