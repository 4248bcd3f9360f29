// The partner dashboard: GET /v1/sales/filters for the drop-downs, then one /v1/sales/summary
// per figure, all with the same filters, which live in the page's address (a view can be
// shared as a link; the key never is).

import { api, download, el, fmt, keepLanguageSwitch, label, lang, setState, showProblem, signIn, t, table } from "./app.js";
import { bars, columns, share } from "./charts.js";

const PARAMS = ["period", "from", "to", "district", "craft", "marketplace", "producer"];
const API_FILTERS = { district: "district", craft: "craft", marketplace: "marketplace", producer: "producer_id" };
const TOP = 10;
let names = { districts: new Map(), producers: new Map() };
let last = null;
let generation = 0;

function todayIST() {
  return new Date(Date.now() + 5.5 * 3600_000).toISOString().slice(0, 10);
}

// Default range: this month and the eleven before it, or this quarter and the seven before.
function defaultFrom(period, to) {
  const [y, m] = to.split("-").map(Number);
  const start = period === "quarter" ? new Date(Date.UTC(y, Math.floor((m - 1) / 3) * 3 - 21, 1)) : new Date(Date.UTC(y, m - 12, 1));
  return start.toISOString().slice(0, 10);
}

function readState() {
  const params = new URLSearchParams(location.search);
  const state = Object.fromEntries(PARAMS.map((p) => [p, params.get(p) || ""]));
  if (state.period !== "quarter") state.period = "month";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(state.to)) state.to = todayIST();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(state.from)) state.from = defaultFrom(state.period, state.to);
  return state;
}

function writeState(state) {
  const params = new URLSearchParams(location.search);
  for (const p of PARAMS) {
    if (state[p]) params.set(p, state[p]);
    else params.delete(p);
  }
  history.replaceState(null, "", `${location.pathname}?${params}`);
  keepLanguageSwitch();
}

function query(state, groupBy) {
  const q = new URLSearchParams({ from: state.from, to: state.to });
  if (groupBy) q.set("group_by", groupBy);
  for (const [param, apiName] of Object.entries(API_FILTERS)) if (state[param]) q.set(apiName, state[param]);
  return q.toString();
}

const districtName = (code) => names.districts.get(code) || code || t("common.unknown");
const producerName = (row) => (lang === "hi" && row.producer_hi) || row.producer || t("common.unknown");

function fillSelect(select, options, chosen) {
  const first = select.options[0];
  select.replaceChildren(first, ...options.map(([value, text]) => el("option", { value }, text)));
  select.value = options.some(([v]) => v === chosen) ? chosen : "";
}

async function loadFilters(state) {
  const f = await api("/v1/sales/filters");
  names.districts = new Map(f.districts.map((d) => [d.code, (lang === "hi" && d.name_hi) || d.name_en]));
  names.producers = new Map(f.producers.map((p) => [String(p.id), (lang === "hi" && p.name_hi) || p.name_en]));
  fillSelect(document.getElementById("f-district"), f.districts.map((d) => [d.code, districtName(d.code)]), state.district);
  fillSelect(document.getElementById("f-craft"), f.crafts.map((c) => [c, label("craft", c)]), state.craft);
  fillSelect(document.getElementById("f-marketplace"), f.marketplaces.map((m) => [m, label("marketplace", m)]), state.marketplace);
  fillSelect(document.getElementById("f-producer"), f.producers.map((p) => [String(p.id), names.producers.get(String(p.id))]), state.producer);
}

function shortMoney(value) {
  const v = Number(value);
  if (v >= 1e7) return `₹${fmt.count(Math.round(v / 1e5) / 100)} ${t("unit.crore")}`;
  if (v >= 1e5) return `₹${fmt.count(Math.round(v / 1e3) / 100)} ${t("unit.lakh")}`;
  if (v >= 1e3) return `₹${fmt.count(Math.round(v / 100) / 10)} ${t("unit.thousand")}`;
  return fmt.money(v);
}

function renderKpis(totals) {
  const tiles = [
    ["net", fmt.money(totals.net), totals.net],
    ["growth", fmt.percent(totals.growth_percent), totals.growth_percent ?? ""],
    ["units", fmt.count(totals.units), totals.units],
    ["orders", fmt.count(totals.orders), totals.orders],
    ["returns", fmt.count(totals.units_returned ?? 0), totals.units_returned ?? 0],
    ["cancellations", fmt.count(totals.units_cancelled ?? 0), totals.units_cancelled ?? 0],
  ];
  document.getElementById("kpis").replaceChildren(
    ...tiles.map(([key, text, raw]) => el("div", { class: `kpi kpi-${key}`, dataset: { kpi: key, value: raw } }, el("dt", {}, t(`kpi.${key}`)), el("dd", {}, text))),
  );
}

function renderFreshness(summary) {
  const parts = (summary.as_of_by_marketplace || []).map(
    (m) => `${label("marketplace", m.marketplace)}: ${m.as_of ? fmt.when(m.as_of) : t("fresh.not_pulled")}`,
  );
  const box = document.getElementById("freshness");
  box.dataset.asOf = summary.as_of || "";
  const head = summary.as_of ? t("fresh.as_of", { when: fmt.when(summary.as_of) }) : t("fresh.never");
  box.textContent = parts.length ? `${head} ${t("fresh.per_marketplace")} ${parts.join("; ")}` : head;
}

function figure(id, caption, columnsSpec, rows, draw) {
  const section = document.getElementById(id);
  draw(section.querySelector(".chart"));
  section.querySelector(".table-wrap").replaceChildren(table(caption, columnsSpec, rows));
}

const netCol = { head: t("col.net"), cell: (r) => fmt.money(r.net), num: true };
const unitsCol = { head: t("col.units"), cell: (r) => fmt.count(r.units_net), num: true };
const ordersCol = { head: t("col.orders"), cell: (r) => fmt.count(r.orders), num: true };
const growthCol = { head: t("col.growth"), cell: (r) => fmt.percent(r.growth_percent), num: true };

function render(state, results) {
  const [period, district, craft, marketplace, producer] = results;
  renderKpis(period.totals);
  renderFreshness(period);
  const byNet = (rows) => [...rows].sort((a, b) => Number(b.net) - Number(a.net));
  const money = (v) => fmt.money(v);
  const series = [...period.rows].sort((a, b) => a.period.localeCompare(b.period));
  figure("fig-period", t(state.period === "quarter" ? "fig.period_quarter" : "fig.period_month"),
    [{ head: t("col.period"), cell: (r) => r.period }, netCol, growthCol, unitsCol, ordersCol], series,
    (box) => columns(box, series.map((r) => ({ label: r.period, value: Number(r.net), note: fmt.percent(r.growth_percent) })), { format: money, short: shortMoney }));
  const districts = byNet(district.rows);
  figure("fig-district", t("fig.district"), [{ head: t("col.district"), cell: (r) => districtName(r.district) }, netCol, growthCol, unitsCol], districts,
    (box) => bars(box, districts.map((r) => ({ label: districtName(r.district), value: Number(r.net) })), { format: money }));
  const crafts = byNet(craft.rows);
  figure("fig-craft", t("fig.craft"), [{ head: t("col.craft"), cell: (r) => label("craft", r.craft) }, netCol, growthCol, unitsCol], crafts,
    (box) => bars(box, crafts.map((r) => ({ label: label("craft", r.craft), value: Number(r.net) })), { format: money }));
  const markets = byNet(marketplace.rows);
  const total = marketplace.totals.net;
  figure("fig-marketplace", t("fig.marketplace"),
    [{ head: t("col.marketplace"), cell: (r) => label("marketplace", r.marketplace) }, netCol, { head: t("col.share"), cell: (r) => fmt.share(r.net, total), num: true }, ordersCol], markets,
    (box) => share(box, markets.map((r) => ({ label: label("marketplace", r.marketplace), value: Number(r.net) })), { format: money }));
  const top = byNet(producer.rows).slice(0, TOP);
  figure("fig-producer", t("fig.producer_top", { n: TOP }),
    [{ head: t("col.producer"), cell: (r) => producerName(r) }, { head: t("col.kind"), cell: (r) => label("kind", r.producer_kind) }, netCol, unitsCol], top,
    (box) => bars(box, top.map((r) => ({ label: `${producerName(r)} · ${label("kind", r.producer_kind)}`, value: Number(r.net) })), { format: money }));
}

async function load(state) {
  const mine = ++generation;
  setState("loading");
  const groups = [state.period, "district", "craft", "marketplace", "producer"];
  try {
    const results = await Promise.all(groups.map((g) => api(`/v1/sales/summary?${query(state, g)}`)));
    if (mine !== generation) return; // a newer filter change is on its way
    last = { state: { ...state }, results };
    render(state, results);
    showProblem(null);
    setState("ready");
  } catch (error) {
    if (mine !== generation) return;
    showProblem(error);
    setState("error");
  }
}

let wired = false;
function wireFilters(state) {
  if (wired) return;
  wired = true;
  for (const input of document.querySelectorAll("#filters [data-param]")) {
    input.value = state[input.dataset.param] || "";
    input.addEventListener("change", () => {
      state[input.dataset.param] = input.value;
      if (input.dataset.param === "period") state.from = defaultFrom(state.period, state.to);
      document.getElementById("f-from").value = state.from;
      writeState(state);
      load(state);
    });
  }
  document.getElementById("f-reset").addEventListener("click", () => {
    for (const p of ["district", "craft", "marketplace", "producer"]) state[p] = "";
    state.period = "month";
    state.to = todayIST();
    state.from = defaultFrom("month", state.to);
    for (const input of document.querySelectorAll("#filters [data-param]")) input.value = state[input.dataset.param];
    writeState(state);
    load(state);
  });
  for (const button of document.querySelectorAll("button.csv")) {
    button.addEventListener("click", async () => {
      const group = button.dataset.group === "period" ? state.period : button.dataset.group;
      try {
        await download(`/v1/sales/summary.csv?${query(state, group)}`, `sales-${group}-${state.from}-${state.to}.csv`);
      } catch (error) {
        showProblem(error);
      }
    });
  }
  const toggle = document.getElementById("toggle-tables");
  toggle.addEventListener("click", () => {
    const on = toggle.getAttribute("aria-pressed") !== "true";
    toggle.setAttribute("aria-pressed", String(on));
    toggle.textContent = t(on ? "common.hide_tables" : "common.show_tables");
    document.body.classList.toggle("tables-visible", on);
  });
  let resized = null;
  addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(() => last && render(last.state, last.results), 150);
  });
}

signIn(async (me) => {
  const state = readState();
  writeState(state);
  const scope = document.getElementById("scope");
  const agencies = me.role === "partner" ? me.granted_agencies : me.agency ? [me.agency] : [];
  scope.textContent = me.role === "admin" ? t("scope.all") : agencies.map((a) => a.name).join(", ");
  await loadFilters(state);
  wireFilters(state);
  await load(state);
});
keepLanguageSwitch();
