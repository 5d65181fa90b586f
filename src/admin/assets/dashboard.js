// Peer Compute admin dashboard: helpers both pages share. Plain JS, no framework, nothing
// fetched but this listener's own /api/summary. Text from peers (deployment ids, images, reasons)
// only ever goes into the page as text nodes, never as HTML.
"use strict";

const PC = {
  // Polls /api/summary every `ms` and hands each answer to `render`; the page's body carries
  // data-updates (answers rendered so far) so that a headless browser can tell it ran.
  poll(render, ms) {
    let updates = 0;
    const status = document.getElementById("status");
    const once = async () => {
      try {
        const res = await fetch("/api/summary", { cache: "no-store" });
        if (!res.ok) throw new Error("HTTP " + res.status);
        render(await res.json());
        updates += 1;
        document.body.dataset.updates = String(updates);
        status.textContent = "updated " + new Date().toLocaleTimeString();
        status.classList.remove("stale");
      } catch (e) {
        status.textContent = "not updated: " + e.message;
        status.classList.add("stale");
      }
      setTimeout(once, ms);
    };
    once();
  },

  el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") e.className = v;
      else if (k === "title") e.title = v;
      else e.dataset[k] = v;
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  },

  // Replaces the rows of `tbody` with `rows` (arrays of cells: text, a Node, or
  // {text, class}); `empty` is shown when there are none.
  fill(tbody, rows, empty) {
    const cols = tbody.closest("table").querySelectorAll("th").length;
    const out = rows.map((cells) => PC.el("tr", {}, ...cells.map((c) =>
      c instanceof Node ? PC.el("td", {}, c)
        : typeof c === "object" && c !== null ? PC.el("td", { class: c.class || "" }, c.text)
        : PC.el("td", {}, c))));
    if (out.length === 0) {
      const td = PC.el("td", {}, empty);
      td.colSpan = cols;
      out.push(PC.el("tr", { class: "empty" }, td));
    }
    tbody.replaceChildren(...out);
  },

  set(id, text) { document.getElementById(id).textContent = text; },

  bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  },

  num(x, digits) { return Number(x).toFixed(digits === undefined ? 0 : digits); },

  time(ms) { return new Date(ms).toLocaleTimeString(); },

  duration(s) {
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  },

  // Draws series of per-second values (oldest first) as lines in the <svg id="chart">.
  chart(svg, series) {
    const w = Math.max(300, svg.clientWidth || 600), h = 180, pad = 24;
    const n = Math.max(2, ...series.map((s) => s.values.length));
    const max = Math.max(1, ...series.flatMap((s) => s.values));
    const x = (i) => pad + (i * (w - 2 * pad)) / (n - 1);
    const y = (v) => h - pad - (v * (h - 2 * pad)) / max;
    const ns = "http://www.w3.org/2000/svg";
    const node = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const parts = [
      node("line", { class: "grid", x1: pad, y1: h - pad, x2: w - pad, y2: h - pad }),
      node("line", { class: "grid", x1: pad, y1: pad, x2: w - pad, y2: pad }),
      node("text", { x: 2, y: pad + 4 }, String(max)),
      node("text", { x: 2, y: h - pad + 4 }, "0"),
      node("text", { x: w - pad - 60, y: h - 6 }, "last " + (n - 1) + " s"),
    ];
    for (const s of series) {
      const pts = s.values.map((v, i) => x(i + n - s.values.length) + "," + y(v)).join(" ");
      parts.push(node("polyline", { class: s.class, points: pts }));
    }
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.replaceChildren(...parts);
  },
};
