// The pages' charts, drawn by the app's own code: SVG columns for a series over time, bars of
// plain HTML for categories (they reflow on a 360 px phone and stay sharp). Charts are
// aria-hidden: each figure also has a table with the same numbers for screen readers.

import { el } from "./app.js";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = 8;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * step >= value) return f * step;
  return 10 * step;
}

// points: [{label, value, note}] oldest first; format(value) gives an axis/tooltip label.
export function columns(container, points, { format, short }) {
  container.replaceChildren();
  const width = Math.max(280, container.clientWidth || 600);
  const height = 240;
  const pad = { top: 16, right: 8, bottom: 34, left: 8 + Math.min(72, width * 0.16) };
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "columns", focusable: "false" });
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const inner = { w: width - pad.left - pad.right, h: height - pad.top - pad.bottom };
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + inner.h - (inner.h * i) / 4;
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid-line" }));
    chart.append(svg("text", { x: pad.left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, short((max * i) / 4)));
  }
  const slot = inner.w / Math.max(1, points.length);
  const every = Math.ceil(points.length / Math.max(1, Math.floor(inner.w / 44)));
  points.forEach((p, i) => {
    const h = (inner.h * Math.max(0, p.value)) / max;
    const x = pad.left + i * slot + slot * 0.15;
    const bar = svg("rect", { x, y: pad.top + inner.h - h, width: slot * 0.7, height: h, class: "c0" });
    bar.append(svg("title", {}, `${p.label}: ${format(p.value)}${p.note ? ` (${p.note})` : ""}`));
    chart.append(bar);
    if (i % every === 0) {
      chart.append(svg("text", { x: x + slot * 0.35, y: height - pad.bottom + 16, class: "axis", "text-anchor": "middle" }, p.label));
    }
  });
  container.append(chart);
}

// items: [{label, value, display}] largest first; bars scaled to the largest.
export function bars(container, items, { format }) {
  container.replaceChildren();
  const max = Math.max(0, ...items.map((i) => i.value)) || 1;
  const list = el("ol", { class: "bars" });
  items.forEach((item, n) => {
    const pct = Math.max(0.5, (100 * Math.max(0, item.value)) / max);
    const fill = el("span", { class: `fill c${n % PALETTE}` });
    fill.style.width = `${pct}%`;
    list.append(
      el("li", {}, el("span", { class: "bar-label" }, item.label), el("span", { class: "bar-track" }, fill), el("span", { class: "bar-value" }, item.display ?? format(item.value))),
    );
  });
  container.append(list);
}

// items: [{label, value}]: one bar split by share, with a legend of percentages.
export function share(container, items, { format }) {
  container.replaceChildren();
  const total = items.reduce((sum, i) => sum + Math.max(0, i.value), 0);
  const stack = el("div", { class: "stack" });
  const legend = el("ul", { class: "legend" });
  items.forEach((item, n) => {
    const pct = total > 0 ? (100 * Math.max(0, item.value)) / total : 0;
    const part = el("span", { class: `c${n % PALETTE}` });
    part.style.width = `${pct}%`;
    stack.append(part);
    legend.append(el("li", {}, el("span", { class: `swatch c${n % PALETTE}` }), `${item.label}: ${Math.round(pct * 10) / 10}% · ${format(item.value)}`));
  });
  container.append(stack, legend);
}
