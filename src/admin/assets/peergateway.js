// The gateway's dashboard: routes, tunnels, the request/error chart, recent refusals.
"use strict";

PC.poll((s) => {
  PC.set("peer-id", s.peer_id);
  PC.set("version", s.version);
  PC.set("uptime", PC.duration(s.uptime_seconds));
  const h = s.history;
  const last = (a) => (a.length ? a[a.length - 1] : 0);
  PC.set("rps", last(h.requests_per_second));
  PC.set("eps", last(h.errors_per_second));
  PC.set("requests", s.totals.requests);
  PC.set("connections", s.totals.open_connections);
  PC.set("route-count", s.routes.length);
  PC.set("tunnel-count", s.tunnels.length);
  PC.set("relay", s.relay.reservations + " / " + s.relay.circuits);
  PC.set("bytes", PC.bytes(s.totals.received_bytes) + " / " + PC.bytes(s.totals.sent_bytes));

  const chart = document.getElementById("chart");
  PC.chart(chart, [
    { class: "requests", values: h.requests_per_second },
    { class: "errors", values: h.errors_per_second },
  ]);
  chart.dataset.points = String(h.requests_per_second.length);
  chart.dataset.requests = String(s.totals.requests);
  chart.dataset.errors = String(s.totals.errors);

  PC.fill(document.querySelector("#routes tbody"), s.routes.map((r) => [
    PC.el("code", {}, r.deployment),
    r.provider_name ? r.provider_name : PC.el("code", {}, r.provider),
    { text: PC.num(r.requests_per_second, 1), class: "num" },
    { text: r.requests, class: "num" },
    r.url,
  ]), "no deployment is routed through this gateway");
  PC.fill(document.querySelector("#tunnels tbody"), s.tunnels.map((t) => [
    t.name || "–",
    PC.el("code", {}, t.provider),
    PC.el("code", {}, t.address),
    { text: t.routes, class: "num" },
    { text: t.connections, class: "num" },
    { text: t.streams, class: "num" },
  ]), "no provider tunnel is up");
  PC.fill(document.querySelector("#refusals tbody"), s.refusals.slice().reverse().map((r) => [
    PC.time(r.time_ms),
    PC.el("code", {}, r.client || "–"),
    { text: r.reason, class: "refused" },
    { text: r.status || "–", class: "num" },
  ]), "nothing refused lately");
}, 1000);
