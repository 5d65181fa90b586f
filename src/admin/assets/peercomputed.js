// The provider's dashboard: deployments with their state and resource use, recent audit events.
"use strict";

PC.poll((s) => {
  PC.set("peer-id", s.peer_id);
  PC.set("version", s.version);
  PC.set("uptime", PC.duration(s.uptime_seconds));
  // Totals from the provider, over every deployment (the list is cut at 200, live ones first).
  PC.set("running", s.running + " of " + s.capacity.max_deployments);
  PC.set("cpu", PC.num(s.cpu_percent_total, 1) + " %");
  PC.set("memory", PC.bytes(s.memory_bytes_total));
  const tunnel = document.getElementById("tunnel");
  const allUp = s.tunnels_connected === s.gateways;
  tunnel.textContent = s.gateways
    ? s.tunnels_connected + " of " + s.gateways + " up" : "no gateway configured";
  tunnel.className = "value " + (s.gateways ? (allUp ? "yes" : "no") : "");
  PC.set("p2p", s.p2p.connections + " / " + s.p2p.streams);
  PC.set("refusal-count", s.refusals_total);

  PC.fill(document.querySelector("#deployments tbody"), s.deployments.map((d) => [
    PC.el("code", {}, d.id),
    { text: d.state, class: "state-" + d.state },
    PC.el("code", {}, d.image),
    { text: d.cpu_percent === undefined ? "–" : PC.num(d.cpu_percent, 1) + " %", class: "num" },
    { text: d.memory_bytes === undefined ? "–" : PC.bytes(d.memory_bytes), class: "num" },
    PC.el("code", { title: d.requester }, d.requester.slice(0, 12) + "…"),
    d.url || "–",
  ]), "no deployments");
  PC.fill(document.querySelector("#audit tbody"), s.audit.map((e) => {
    const details = Object.entries(e).filter(([k]) => !["time", "event", "peer"].includes(k))
      .map(([k, v]) => k + "=" + v).join(" ");
    const refused = /refused|denied|replay|bad_|rate_limited|mismatch/.test(e.event);
    return [
      e.time,
      { text: e.event, class: refused ? "refused" : "" },
      PC.el("code", { title: e.peer || "" }, (e.peer || "–").slice(0, 12)),
      details,
    ];
  }), "no audit events since start");
}, 1000);
