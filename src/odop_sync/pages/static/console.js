// The agency console: sheet upload with per-row results, the catalog, listing health with a
// listing's timeline and a retry, sync status with "sync now", and recent orders. Every call is
// the public API's, with the signed-in key; a partner key is turned away (the API refuses it too).

import { api, download, el, fmt, json, keepLanguageSwitch, label, lang, setState, showProblem, signIn, t, table } from "./app.js";

const STATUSES = ["live", "pending", "submitted", "rejected", "paused", "needs_mapping"];
const RETRYABLE = new Set(["paused", "rejected"]);
const POLL_MS = 700;
let names = { districts: new Map(), producers: new Map() };
const byId = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function statusBadge(status) {
  return el("span", { class: `status status-${status}` }, label("status", status));
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return t("sync.no_lag");
  const s = Math.round(Number(seconds));
  if (s < 90) return t("time.seconds", { n: s });
  if (s < 5400) return t("time.minutes", { n: Math.round(s / 60) });
  if (s < 172800) return t("time.hours", { n: Math.round(s / 3600) });
  return t("time.days", { n: Math.round(s / 86400) });
}

// upload -----------------------------------------------------------------------------------

let chosenFile = null;

function choose(file) {
  chosenFile = file || null;
  byId("chosen").textContent = chosenFile ? t("upload.chosen", { name: chosenFile.name, size: fmt.count(Math.ceil(chosenFile.size / 1024)) }) : "";
}

function issueRows(rows) {
  return rows.filter((r) => r.status === "rejected").flatMap((r) => r.errors.map((e) => ({ row: e.row ?? r.row, sku: r.sku, field: e.field, message: e.message })));
}

function csvCell(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function issuesTable(issues) {
  return table(t("upload.rejected_rows", { n: fmt.count(issues.length) }), [
    { head: t("col.row"), cell: (i) => i.row ?? "—", num: true },
    { head: t("col.sku"), cell: (i) => i.sku || "—" },
    { head: t("col.field"), cell: (i) => i.field || "—" },
    { head: t("col.message"), cell: (i) => i.message },
  ], issues, { empty: t("upload.no_rejects") });
}

function countsLine(counts) {
  return el("p", { class: "counts", dataset: { rejected: counts.rejected, total: counts.total } },
    t("upload.counts", { total: fmt.count(counts.total), created: fmt.count(counts.created), updated: fmt.count(counts.updated), unchanged: fmt.count(counts.unchanged), rejected: fmt.count(counts.rejected) }));
}

function showDryRun(report, file) {
  const issues = [...report.producer_issues.map((i) => ({ ...i, sku: null })), ...issueRows(report.rows)];
  const saveReport = () => {
    const lines = [["row", "sku", "field", "message"], ...issues.map((i) => [i.row, i.sku, i.field, i.message])];
    const blob = new Blob(["\ufeff" + lines.map((l) => l.map(csvCell).join(",")).join("\r\n") + "\r\n"], { type: "text/csv" });
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `dry-run-${file.name}.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  };
  byId("upload-result").replaceChildren(
    el("h3", {}, t("upload.dry_run_done")), countsLine(report.counts), issuesTable(issues),
    el("div", { class: "row-actions" },
      el("button", { type: "button", class: "secondary", id: "download-report", onclick: saveReport }, t("upload.report")),
      el("button", { type: "button", id: "publish", onclick: () => upload(file, false) }, t("upload.publish"))),
  );
}

async function showBatch(batch) {
  const box = byId("upload-result");
  const bar = el("progress", { max: Math.max(1, batch.counts.total), value: batch.counts.processed, "aria-label": t("upload.progress") });
  const line = el("p", { "aria-live": "polite" });
  box.replaceChildren(el("h3", {}, t("upload.batch", { id: batch.id })), bar, line);
  while (batch.status === "queued" || batch.status === "processing") {
    line.textContent = t("upload.processing", { done: fmt.count(batch.counts.processed), total: fmt.count(batch.counts.total) });
    bar.max = Math.max(1, batch.counts.total);
    bar.value = batch.counts.processed;
    await sleep(POLL_MS);
    batch = await api(`/v1/batches/${batch.id}?rows=none`);
  }
  bar.max = Math.max(1, batch.counts.total);
  bar.value = batch.counts.total;
  if (batch.status === "failed") {
    line.textContent = t("upload.failed", { error: batch.error || "" });
    return;
  }
  line.textContent = t("upload.done");
  const rejected = await api(`/v1/batches/${batch.id}?rows=rejected&limit=5000`);
  const issues = [...batch.producer_issues.map((i) => ({ ...i, sku: null })), ...issueRows(rejected.rows || [])];
  box.append(countsLine(batch.counts), issuesTable(issues),
    el("div", { class: "row-actions" },
      el("button", { type: "button", class: "secondary", id: "download-report", onclick: () => download(`/v1/batches/${batch.id}/errors.csv`, `batch-${batch.id}-errors.csv`).catch(showProblem) }, t("upload.report"))));
  loadHealth();
}

async function upload(file, dryRun) {
  const form = new FormData();
  form.append("file", file, file.name);
  const button = byId("upload-submit");
  button.disabled = true;
  showProblem(null);
  try {
    if (dryRun) {
      showDryRun(await api("/v1/batches?dry_run=true", { method: "POST", body: form }), file);
    } else {
      await showBatch(await api("/v1/batches", { method: "POST", body: form, headers: { "Idempotency-Key": newKey() } }));
    }
  } catch (error) {
    showProblem(error);
  } finally {
    button.disabled = false;
  }
}

function wireUpload() {
  const drop = byId("drop");
  const input = byId("sheet");
  input.addEventListener("change", () => choose(input.files[0]));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    choose(event.dataTransfer.files[0]);
  });
  byId("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!chosenFile) {
      showProblem(new Error(t("upload.none")));
      return;
    }
    upload(chosenFile, byId("dry-run").checked);
  });
  byId("template").addEventListener("click", () => download("/v1/batches/template.xlsx", "odop-sync-template.xlsx").catch(showProblem));
}

// catalog ----------------------------------------------------------------------------------

function fillSelect(select, options) {
  select.replaceChildren(select.options[0], ...options.map(([value, text]) => el("option", { value }, text)));
}

async function loadNames() {
  const f = await api("/v1/sales/filters");
  names.districts = new Map(f.districts.map((d) => [d.code, (lang === "hi" && d.name_hi) || d.name_en]));
  names.producers = new Map(f.producers.map((p) => [p.id, (lang === "hi" && p.name_hi) || p.name_en]));
  fillSelect(byId("c-district"), f.districts.map((d) => [d.code, names.districts.get(d.code)]));
  fillSelect(byId("c-craft"), f.crafts.map((c) => [c, label("craft", c)]));
  fillSelect(byId("c-producer"), f.producers.map((p) => [String(p.id), names.producers.get(p.id)]));
}

// On opening, the ten oldest products (the page stays short on a phone); a search shows 50.
async function searchCatalog(limit = 50) {
  const q = new URLSearchParams({ limit: String(limit) });
  for (const [id, param] of [["c-q", "q"], ["c-district", "district"], ["c-craft", "craft"], ["c-producer", "producer_id"]]) {
    const value = byId(id).value.trim();
    if (value) q.set(param, value);
  }
  const page = await api(`/v1/products?${q}`);
  byId("catalog-result").replaceChildren(table(t("catalog.results", { n: fmt.count(page.items.length) }), [
    { head: t("col.sku"), cell: (p) => p.variants.map((v) => v.sku).join(", ") },
    { head: t("col.title"), cell: (p) => el("span", {}, p.title_en, p.title_hi ? el("br") : null, p.title_hi ? el("span", { lang: "hi" }, p.title_hi) : null) },
    { head: t("col.district"), cell: (p) => names.districts.get(p.district_code) || p.district || "—" },
    { head: t("col.craft"), cell: (p) => label("craft", p.craft) },
    { head: t("col.producer"), cell: (p) => names.producers.get(p.producer_id) || p.producer_ref },
    { head: t("col.price"), cell: (p) => p.variants.map((v) => fmt.moneyExact(v.price)).join(", "), num: true },
    { head: t("col.stock"), cell: (p) => p.variants.map((v) => fmt.count(v.stock_on_hand)).join(", "), num: true },
  ], page.items, { empty: t("catalog.none") }));
}

// listing health ---------------------------------------------------------------------------

async function loadHealth() {
  const accounts = await api("/v1/listings/counts");
  byId("health-counts").replaceChildren(table(t("health.counts"), [
    { head: t("col.account"), cell: (a) => `${a.account_name} (${label("marketplace", a.adapter)})` },
    ...STATUSES.map((s) => ({
      head: label("status", s),
      num: true,
      cell: (a) => (a.counts[s] ? el("button", { type: "button", class: "link", dataset: { account: a.account_id, status: s }, onclick: () => showListings(a, s).catch(showProblem) }, fmt.count(a.counts[s])) : "0"),
    })),
  ], accounts, { empty: t("health.no_accounts") }));
}

async function showListings(account, status) {
  const page = await api(`/v1/listings?account_id=${account.account_id}&status=${status}&limit=100`);
  byId("listing-detail").replaceChildren();
  byId("health-list").replaceChildren(table(t("health.list", { status: label("status", status), account: account.account_name }), [
    { head: t("col.sku"), cell: (l) => el("button", { type: "button", class: "link", dataset: { listing: l.id }, onclick: () => showListing(l.id).catch(showProblem) }, l.sku) },
    { head: t("col.status"), cell: (l) => statusBadge(l.status) },
    { head: t("col.price"), cell: (l) => (l.desired_price ? fmt.moneyExact(l.desired_price) : "—"), num: true },
    { head: t("col.quantity"), cell: (l) => l.desired_quantity ?? "—", num: true },
    { head: t("col.latest"), cell: (l) => l.paused_reason || l.held_reason || l.latest_issue?.message || "—" },
  ], page.items));
}

function priceLines(price) {
  const lines = [
    [t("price.canonical"), fmt.moneyExact(price.canonical_price)],
    [t("price.rule"), t("price.rule_text", { percent: price.rule.markup_percent, fixed: fmt.moneyExact(price.rule.markup_fixed), rounding: label("rounding", price.rule.rounding), floor: fmt.moneyExact(price.rule.floor) })],
    [t("price.marked_up"), fmt.moneyExact(price.marked_up)],
    [t("price.rounded"), fmt.moneyExact(price.rounded)],
    [t("price.final"), `${fmt.moneyExact(price.final)}${price.clamped_by ? ` (${t(`price.clamped_${price.clamped_by}`)})` : ""}`],
  ];
  const c = price.conversion;
  if (c) lines.push([t("price.converted"), c.amount ? t("price.conversion", { amount: fmt.amount(c.amount, c.currency), rate: c.rate, source: c.source, date: c.valid_on }) : c.held_reason]);
  return lines;
}

function dl(pairs) {
  return el("dl", {}, ...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

async function showListing(id) {
  const l = await api(`/v1/listings/${id}`);
  const box = byId("listing-detail");
  const s = l.stock;
  const parts = [
    el("h3", {}, t("listing.title", { sku: l.sku, account: l.account_name })),
    dl([
      [t("col.status"), statusBadge(l.status)],
      ...(l.paused_reason ? [[t("listing.paused_reason"), l.paused_reason]] : []),
      ...(l.held_reason ? [[t("listing.held_reason"), l.held_reason]] : []),
      [t("listing.remote_id"), l.remote_id || "—"],
      [t("listing.last_pushed"), fmt.when(l.last_pushed_at)],
      [t("listing.last_confirmed"), fmt.when(l.last_confirmed_at)],
    ]),
  ];
  if (RETRYABLE.has(l.status)) {
    parts.push(el("div", { class: "row-actions" }, el("button", { type: "button", id: "retry", onclick: () => retry(l.id) }, t("listing.retry"))));
  }
  parts.push(el("h4", {}, t("listing.price")), dl(priceLines(l.price)));
  parts.push(el("h4", {}, t("listing.stock")), el("p", { class: "stock" }, t("listing.stock_text", { on_hand: s.on_hand, reserved: s.reserved_by_open_orders, buffer: s.buffer, available: s.available_to_sell })));
  parts.push(el("h4", {}, t("listing.timeline")), l.issues.length
    ? el("ol", { class: "timeline" }, ...l.issues.map((i) => el("li", { class: `sev-${i.severity}` }, el("time", { datetime: i.at }, `${fmt.when(i.at)} · ${label("source", i.source)}${i.code ? ` · ${i.code}` : ""}${i.field ? ` · ${i.field}` : ""}`), i.message)))
    : el("p", { class: "note" }, t("listing.no_issues")));
  box.replaceChildren(el("div", { class: "detail", id: `listing-${l.id}` }, ...parts));
  box.querySelector("h3").scrollIntoView({ block: "nearest" });
}

async function retry(id) {
  const button = byId("retry");
  button.disabled = true;
  try {
    await api(`/v1/listings/${id}/retry`, { method: "POST" });
    await showListing(id);
    await loadHealth();
  } catch (error) {
    showProblem(error);
    button.disabled = false;
  }
}

// sync status ------------------------------------------------------------------------------

async function loadSync() {
  const accounts = await api("/v1/sync/status");
  byId("sync-status").replaceChildren(table(t("sync.caption"), [
    { head: t("col.account"), cell: (a) => `${a.account_name} (${label("marketplace", a.adapter)})` },
    { head: t("sync.lag"), cell: (a) => duration(a.lag_seconds), num: true },
    { head: t("sync.last_push"), cell: (a) => fmt.when(a.last_pushed_at) },
    { head: t("sync.last_pull"), cell: (a) => fmt.when(a.last_order_pull_at) },
    { head: t("sync.open_feeds"), cell: (a) => fmt.count(a.open_feeds), num: true },
    { head: t("sync.last_run"), cell: (a) => (a.last_run ? `${label("run", a.last_run.status)} · ${fmt.when(a.last_run.finished_at || a.last_run.created_at)}` : "—") },
    { head: t("sync.now"), cell: (a) => (a.enabled ? el("button", { type: "button", class: "secondary", dataset: { account: a.account_id }, onclick: (e) => syncNow(a, e.currentTarget) }, t("sync.now")) : t("sync.disabled")) },
  ], accounts, { empty: t("health.no_accounts") }));
}

async function syncNow(account, button) {
  button.disabled = true;
  try {
    let run = await api("/v1/sync/runs", { method: "POST", ...json({ account_id: account.account_id }) });
    button.textContent = t("sync.queued", { id: run.id });
    while (run.status === "queued" || run.status === "running") {
      await sleep(1000);
      run = await api(`/v1/sync/runs/${run.id}`);
    }
    await loadSync();
  } catch (error) {
    showProblem(error);
    button.disabled = false;
  }
}

// orders -----------------------------------------------------------------------------------

function orderDetail(o, holder) {
  holder.replaceChildren(
    table(t("orders.lines"), [
      { head: t("col.sku"), cell: (l) => l.sku },
      { head: t("col.quantity"), cell: (l) => l.quantity, num: true },
      { head: t("orders.cancelled"), cell: (l) => l.quantity_cancelled, num: true },
      { head: t("orders.returned"), cell: (l) => l.quantity_returned, num: true },
      { head: t("col.price"), cell: (l) => fmt.amount(l.unit_price, o.currency), num: true },
    ], o.lines),
    el("h4", {}, t("orders.history")),
    el("ol", { class: "timeline" }, ...o.history.map((h) => el("li", {}, el("time", { datetime: h.changed_at }, fmt.when(h.changed_at)), `${h.from_status ? `${label("order", h.from_status)} → ` : ""}${label("order", h.to_status)} (${h.marketplace_status})`))),
  );
}

async function loadOrders() {
  const page = await api("/v1/orders?limit=20&order=newest&details=true");
  const list = byId("orders-list");
  if (!page.items.length) {
    list.replaceChildren(el("p", { class: "note" }, t("orders.none")));
    return;
  }
  list.replaceChildren(...page.items.map((o) => {
    const holder = el("div", {});
    const item = el("details", { class: "order", dataset: { order: o.id } },
      el("summary", {}, el("strong", {}, o.marketplace_order_id), label("marketplace", o.marketplace), el("span", { class: `status status-${o.status}` }, label("order", o.status)), fmt.when(o.purchased_at), `${fmt.count(o.units)} · ${fmt.amount(o.total, o.currency)}`),
      holder);
    orderDetail(o, holder);
    return item;
  }));
}

// start ------------------------------------------------------------------------------------

signIn(async (me) => {
  const scope = byId("scope");
  if (me.role === "partner") {
    byId("denied").hidden = false;
    byId("console-body").hidden = true;
    setState("ready");
    return;
  }
  byId("denied").hidden = true;
  byId("console-body").hidden = false;
  scope.textContent = me.role === "admin" ? t("scope.all") : me.agency?.name || "";
  wireUpload();
  byId("catalog-form").addEventListener("submit", (event) => {
    event.preventDefault();
    searchCatalog().catch(showProblem);
  });
  await loadNames();
  await Promise.all([searchCatalog(10), loadHealth(), loadSync(), loadOrders()]);
  setState("ready");
});
keepLanguageSwitch();
