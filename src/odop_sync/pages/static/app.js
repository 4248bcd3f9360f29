// Shared by both pages: labels, the API client, sign-in, formatting and safe DOM building.
// The API key lives in sessionStorage only (gone when the tab closes) and travels as a Bearer
// header: never in a URL, a cookie or a log line.

export const messages = JSON.parse(document.getElementById("messages").textContent);
export const lang = document.documentElement.lang || "en";
const locale = lang === "hi" ? "hi-IN" : "en-IN";
const KEY = "odop.key";

export function t(key, vars = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// A label for a value the catalog holds (a craft, a marketplace, a status), when the message
// file has one; else the value itself.
export function label(prefix, value) {
  if (value === null || value === undefined || value === "") return t("common.unknown");
  return messages[`${prefix}.${value}`] ?? String(value);
}

// The page's state for people and tests alike: signed-out, loading, ready or error; `loads`
// counts the times every figure was drawn, so a test can wait for the next one.
export function setState(state) {
  const root = document.documentElement;
  root.dataset.state = state;
  if (state === "ready") root.dataset.loads = String(Number(root.dataset.loads || 0) + 1);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, { method = "GET", body, headers = {}, raw = false } = {}) {
  const key = sessionStorage.getItem(KEY);
  const response = await fetch(path, {
    method,
    body,
    headers: { Accept: "application/json", ...headers, Authorization: `Bearer ${key}` },
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = {};
    }
    if (response.status === 401) signOut(t("signin.rejected"));
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

export function json(body) {
  return { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
}

// A file from the API (it needs the Authorization header, so not a plain link).
export async function download(path, filename) {
  const response = await api(path, { raw: true, headers: { Accept: "*/*" } });
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function showProblem(error) {
  const box = document.getElementById("problem");
  box.replaceChildren();
  if (!error) {
    box.hidden = true;
    return;
  }
  box.append(el("strong", {}, t("common.problem")), " ", error.message || String(error));
  const issues = error.problem?.errors || [];
  if (issues.length) {
    box.append(
      el("ul", {}, ...issues.map((i) => el("li", {}, [i.row && `${t("common.row")} ${i.row}`, i.field, i.message].filter(Boolean).join(" · ")))),
    );
  }
  box.hidden = false;
}

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  document.getElementById("app").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("signin").hidden = false;
  setState("signed-out");
  showProblem(reason ? new Error(reason) : null);
}

// Shows the sign-in form until a key works, then calls start(me) with GET /v1/me's answer.
export function signIn(start) {
  const form = document.getElementById("signin-form");
  const input = document.getElementById("api-key");
  const open = async () => {
    setState("loading");
    let me;
    try {
      me = await api("/v1/me");
    } catch (error) {
      if (error.status !== 401) showProblem(error);
      setState(error.status === 401 ? "signed-out" : "error");
      return;
    }
    showProblem(null);
    document.getElementById("signin").hidden = true;
    document.getElementById("sign-out").hidden = false;
    document.getElementById("app").hidden = false;
    try {
      await start(me);
    } catch (error) {
      showProblem(error);
      setState("error");
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    input.value = "";
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    open();
  });
  document.getElementById("sign-out").addEventListener("click", () => signOut(null));
  if (sessionStorage.getItem(KEY)) open();
  else setState("signed-out");
}

// The language switch keeps the rest of the page's address (its filters).
export function keepLanguageSwitch() {
  const link = document.getElementById("lang-switch");
  if (!link) return;
  const params = new URLSearchParams(location.search);
  params.set("lang", link.hreflang);
  link.href = `${location.pathname}?${params}`;
}

// formatting --------------------------------------------------------------------------------

const inr = new Intl.NumberFormat(locale, { style: "currency", currency: "INR", maximumFractionDigits: 0 });
const inrExact = new Intl.NumberFormat(locale, { style: "currency", currency: "INR", minimumFractionDigits: 2 });
const count = new Intl.NumberFormat(locale);
const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Kolkata" });

export const fmt = {
  money: (value) => inr.format(Number(value)),
  moneyExact: (value) => inrExact.format(Number(value)),
  amount: (value, currency) =>
    new Intl.NumberFormat(locale, { style: "currency", currency: currency || "INR" }).format(Number(value)),
  count: (value) => count.format(Number(value)),
  percent: (value) => (value === null || value === undefined ? "—" : `${Number(value) > 0 ? "+" : ""}${count.format(Number(value))}%`),
  share: (part, whole) => (Number(whole) > 0 ? `${count.format(Math.round((1000 * Number(part)) / Number(whole)) / 10)}%` : "—"),
  when: (value) => (value ? `${dateTime.format(new Date(value))} IST` : t("common.never")),
};

// DOM ---------------------------------------------------------------------------------------

// el("td", {class: "n", dataset: {value: 3}}, "text", child): text is always text, never HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A table from column specs [{head, cell: row => text|Node, num: bool}]; a caption names it.
export function table(caption, columns, rows, { empty } = {}) {
  const head = el("tr", {}, ...columns.map((c) => el("th", { scope: "col", class: c.num ? "n" : null }, c.head)));
  const body = rows.length
    ? rows.map((row) => el("tr", {}, ...columns.map((c, i) => el(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, class: c.num ? "n" : null }, c.cell(row)))))
    : [el("tr", {}, el("td", { colspan: columns.length, class: "empty" }, empty || t("common.nothing")))];
  return el("table", {}, el("caption", {}, caption), el("thead", {}, head), el("tbody", {}, ...body));
}
