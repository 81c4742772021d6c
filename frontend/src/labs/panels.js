// The kernel-state panels (tabs): interfaces, routes, netfilter rules, conntrack, Docker.
// Only the visible panel is re-rendered on each frame; counters are compared on every frame.
import { esc, fillSelect, fmt, shortCount, table } from "./dom.js";
import {
  explainChain, explainNat, explainPolicy, explainRoute, explainRule, linkKindText, namespaceKindText, routeFlagText,
} from "./explain.js";

export class Panels {
  constructor(root) {
    this.root = root;
    this.snapshot = null;
    this.counters = new Map(); // "ns/table/chain/n line" -> "packets/bytes"
    this.changed = new Set();
    this.tabs = [...root.querySelectorAll("[role=tab]")];
    this.tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => this.select(tab));
      tab.addEventListener("keydown", (ev) => {
        const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: this.tabs.length - 1 };
        if (!(ev.key in moves)) return;
        ev.preventDefault();
        const next = this.tabs[(moves[ev.key] + this.tabs.length) % this.tabs.length];
        this.select(next);
        next.focus();
      });
    });
    root.querySelectorAll("select").forEach((s) => s.addEventListener("change", () => this.render()));
    // A click on a rule tells the page which rule it was (the exercise panel's "pick a rule").
    root.addEventListener("click", (ev) => {
      const row = ev.target.closest?.("tr[data-rule]");
      if (row) window.dispatchEvent(new CustomEvent("nslab:rule-click", { detail: JSON.parse(row.dataset.rule) }));
    });
    // From the keyboard: rule rows take the focus while a rule is being picked; Enter or Space picks.
    root.addEventListener("keydown", (ev) => {
      const row = ev.target.closest?.("tr[data-rule]");
      if (row && (ev.key === "Enter" || ev.key === " ")) {
        ev.preventDefault();
        row.click();
      }
    });
  }

  select(tab) {
    for (const t of this.tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    this.render();
  }

  update(snapshot) {
    this.snapshot = snapshot;
    this.compareCounters(snapshot);
    this.render();
  }

  /** Remember every rule's and policy's counters; mark those that changed since the last frame. */
  compareCounters(snap) {
    const seen = new Map();
    for (const [ns, nf] of Object.entries(snap.netfilter || {})) {
      for (const [tname, chains] of Object.entries(iptablesTables(nf))) {
        for (const chain of Object.values(chains)) {
          seen.set([ns, tname, chain.name, "policy"].join("/"), chain.packets + "/" + chain.bytes);
          for (const r of chain.rules) seen.set([ns, tname, chain.name, r.number + " " + r.line].join("/"), r.packets + "/" + r.bytes);
        }
      }
    }
    this.changed = new Set([...seen].filter(([k, v]) => this.counters.has(k) && this.counters.get(k) !== v).map(([k]) => k));
    this.counters = seen;
  }

  render() {
    if (!this.snapshot) return;
    const tab = this.tabs.find((t) => t.getAttribute("aria-selected") === "true");
    const name = tab.dataset.panel;
    const out = this.root.querySelector("[data-render=" + name + "]");
    const html = this["render_" + name](out.closest("[role=tabpanel]"));
    if (out.dataset.html !== html) {
      // The keyboard focus stays on the same rule row when counters tick.
      const focused = out.contains(document.activeElement) ? document.activeElement.dataset.rule : undefined;
      out.innerHTML = html;
      out.dataset.html = html;
      if (focused) [...out.querySelectorAll("tr[data-rule]")].find((row) => row.dataset.rule === focused)?.focus();
    }
  }

  namespaces() {
    return this.snapshot.namespaces.map((n) => n.name);
  }

  nsSelect(panel) {
    return fillSelect(panel.querySelector("select[data-ns]"), this.namespaces(), "host");
  }

  render_interfaces() {
    const snap = this.snapshot;
    return snap.namespaces.map((ns) => {
      const addrs = snap.addresses[ns.name] || [];
      const rows = (snap.links[ns.name] || []).map((l) => [
        "<code>" + esc(l.name) + "</code>",
        esc(linkKindText(l.kind)),
        "<span class=\"state state-" + esc(l.operstate.toLowerCase()) + "\">" + esc(l.state + " / " + l.operstate) + "</span>",
        "<code>" + esc(l.mac) + "</code>",
        addrs.filter((a) => a.ifname === l.name).map((a) => "<code>" + esc(a.address + "/" + a.prefixlen) + "</code>").join("<br>"),
        esc([l.master ? fmt(gettext("bridge %(b)s"), { b: l.master }) : "",
          l.peer_name ? fmt(gettext("peer %(p)s"), { p: (l.peer_namespace || "?") + " / " + l.peer_name }) : ""].filter(Boolean).join(", ")),
        String(l.mtu),
      ]);
      const error = snap.errors && snap.errors[ns.name] ? "<p class=\"warn\">" + esc(snap.errors[ns.name]) + "</p>" : "";
      return "<h3>" + esc(ns.name) + " <small>" + esc(namespaceKindText(ns.kind)) + "</small></h3>" + error +
        table([gettext("Interface"), gettext("Kind"), gettext("State"), gettext("MAC address"), gettext("Addresses"),
          gettext("Connected to"), gettext("MTU")], rows);
    }).join("");
  }

  render_routes(panel) {
    const ns = this.nsSelect(panel);
    const routes = (this.snapshot.routes[ns] || []).filter((r) => r.family === "inet" && r.table === "main");
    const flags = new Set();
    const rows = routes.map((r) => {
      [...r.flags].forEach((f) => flags.add(f));
      const flagHtml = [...r.flags].map((f) => "<abbr title=\"" + esc(routeFlagText(f)) + "\">" + esc(f) + "</abbr>").join("");
      return [r.destination, r.gateway, r.genmask].map((v) => "<code>" + esc(v) + "</code>")
        .concat([flagHtml, String(r.metric), String(r.ref), String(r.use), "<code>" + esc(r.iface) + "</code>", esc(explainRoute(r))]);
    });
    const legend = [...flags].map((f) => "<li>" + esc(routeFlagText(f)) + "</li>").join("");
    return "<p class=\"hint\">" + esc(fmt(gettext("route -n in %(ns)s: the main IPv4 routing table."), { ns })) + "</p>" +
      table(["Destination", "Gateway", "Genmask", "Flags", "Metric", "Ref", "Use", "Iface", gettext("Meaning")], rows, "routes") +
      (legend ? "<h4>" + esc(gettext("Flags")) + "</h4><ul class=\"legend\">" + legend + "</ul>" : "");
  }

  render_rules(panel) {
    const ns = this.nsSelect(panel);
    const nf = this.snapshot.netfilter[ns] || { tables: {}, nft: "" };
    const all = iptablesTables(nf);
    const tables = Object.keys(all).sort((a, b) => tableOrder(a) - tableOrder(b));
    if (!tables.length) return "<p>" + esc(gettext("No iptables rules in this namespace.")) + "</p>" + nftText(nf);
    const label = (t) => (t.startsWith(IP6) ? fmt(gettext("%(table)s (IPv6)"), { table: t.slice(IP6.length) }) : t);
    const tname = fillSelect(panel.querySelector("select[data-table]"), tables, "nat", label);
    const pickable = !tname.startsWith(IP6); // exercises ask about IPv4 rules
    const chains = Object.values(all[tname]);
    return chains.map((chain) => {
      const base = [ns, tname, chain.name].join("/");
      const tick = (key) => (this.changed.has(base + "/" + key) ? " class=\"tick\"" : "");
      const about = explainChain(tname.startsWith(IP6) ? tname.slice(IP6.length) : tname, chain.name);
      let head = "<h3 id=\"chain-" + esc(tname + "-" + chain.name) + "\"><code>" + esc(chain.name) + "</code>";
      if (chain.policy) {
        head += " <span class=\"policy\">" + esc(fmt(gettext("policy %(p)s"), { p: chain.policy })) + "</span> <span" + tick("policy") +
          " title=\"" + esc(gettext("packets and bytes that reached the end of the chain")) + "\">" +
          esc(fmt(gettext("%(packets)s packets, %(bytes)s bytes"), { packets: shortCount(chain.packets), bytes: shortCount(chain.bytes) })) + "</span>";
      }
      head += "</h3>";
      const notes = [about, chain.policy ? explainPolicy(chain.policy) : ""].filter(Boolean);
      const rows = chain.rules.map((r) => {
        const t = tick(r.number + " " + r.line);
        const pick = esc(JSON.stringify({ ns, table: tname, chain: chain.name, number: r.number }));
        const focusable = document.body.classList.contains("picking-rule") ? " tabindex=\"0\"" : "";
        const attrs = pickable ? " data-rule=\"" + pick + "\"" + focusable : "";
        return "<tr" + attrs + "><td>" + r.number + "</td><td" + t + ">" + shortCount(r.packets) + "</td><td" + t + ">" + shortCount(r.bytes) +
          "</td><td><code>" + esc(r.line) + "</code><div class=\"explain\">" + esc(explainRule(r)) + "</div></td></tr>";
      }).join("");
      const body = rows
        ? "<table class=\"data rules\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">" + esc(gettext("Packets")) +
          "</th><th scope=\"col\">" + esc(gettext("Bytes")) + "</th><th scope=\"col\">" + esc(gettext("Rule and what it means")) +
          "</th></tr></thead><tbody>" + rows + "</tbody></table>"
        : "<p class=\"hint\">" + esc(gettext("No rules in this chain.")) + "</p>";
      return "<section class=\"chain\">" + head + (notes.length ? "<p class=\"hint\">" + esc(notes.join(" ")) + "</p>" : "") + body + "</section>";
    }).join("") + nftText(nf);
  }

  render_conntrack(panel) {
    const ns = this.nsSelect(panel);
    const entries = this.snapshot.conntrack[ns] || [];
    const ep = (addr, port) => "<code>" + esc(port == null ? addr : addr + ":" + port) + "</code>";
    const rows = entries.map((e) => [
      esc(e.proto), esc(e.state || ""),
      ep(e.orig_src, e.orig_sport) + " → " + ep(e.orig_dst, e.orig_dport),
      ep(e.reply_src, e.reply_sport) + " → " + ep(e.reply_dst, e.reply_dport),
      esc(explainNat(e) || "—"), esc(e.flags.join(" ")), e.timeout == null ? "" : String(e.timeout),
    ]);
    if (!rows.length) return "<p>" + esc(fmt(gettext("No tracked connections in %(ns)s."), { ns })) + "</p>";
    return "<p class=\"hint\">" + esc(gettext("Each connection as conntrack sees it: the original direction and the reply it expects. When the two do not mirror each other, NAT rewrote the connection.")) + "</p>" +
      table([gettext("Protocol"), gettext("State"), gettext("Original direction"), gettext("Reply direction"),
        gettext("NAT translation"), gettext("Flags"), gettext("Expires in (s)")], rows, "conntrack");
  }

  render_docker() {
    const docker = this.snapshot.docker;
    if (!docker) return "<p>" + esc(gettext("The Docker engine is not running.")) + "</p>";
    const containers = docker.containers.map((c) => [
      "<code>" + esc(c.id.slice(0, 12)) + "</code>", esc(c.image),
      "<code title=\"" + esc(goQuote(commandLine(c.cmd))) + "\">" + esc(goQuote(truncate(commandLine(c.cmd), 20))) + "</code>",
      esc(humanDuration(c.created) + " ago"), esc(dockerStatus(c)), esc(dockerPorts(c)), esc(c.name),
    ]);
    const networks = docker.networks.map((n) => [
      "<code>" + esc(n.id.slice(0, 12)) + "</code>", esc(n.name), esc(n.driver), "local",
      "<code>" + esc(n.subnet || "") + "</code>", esc(n.bridge || ""),
    ]);
    return "<h3>" + esc(gettext("Containers")) + " <small><code>docker ps -a</code></small></h3>" +
      (containers.length ? table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], containers, "docker")
        : "<p class=\"hint\">" + esc(gettext("No containers yet. Try: docker run -d --name web -p 8080:80 nginx")) + "</p>") +
      "<h3>" + esc(gettext("Networks")) + " <small><code>docker network ls</code></small></h3>" +
      table(["NETWORK ID", "NAME", "DRIVER", "SCOPE", gettext("Subnet"), gettext("Bridge")], networks, "docker");
  }
}

// IPv6 tables (ip6tables, Docker 28) by the names "ip6:filter", ...: after the IPv4 ones.
const IP6 = "ip6:";

function iptablesTables(nf) {
  const ip6 = Object.entries(nf.tables6 || {}).map(([name, chains]) => [IP6 + name, chains]);
  return { ...(nf.tables || {}), ...Object.fromEntries(ip6) };
}

function tableOrder(name) {
  const ip6 = name.startsWith(IP6);
  const i = ["nat", "filter", "mangle", "raw", "security"].indexOf(ip6 ? name.slice(IP6.length) : name);
  return (i < 0 ? 99 : i) + (ip6 ? 100 : 0);
}

function nftText(nf) {
  return nf.nft && nf.nft.trim()
    ? "<h3>" + esc(gettext("Other nftables rules")) + "</h3><pre>" + esc(nf.nft) + "</pre>" : "";
}

// `docker ps`'s COMMAND column: the daemon joins the path and its arguments, quoting those with a
// space in single quotes; the CLI cuts that to 20 characters ("…" included) and prints it with Go's
// %q (`docker ps --no-trunc` prints it whole: the cell's title).
function commandLine(cmd) {
  if (!cmd || !cmd.length) return "";
  return [cmd[0], ...cmd.slice(1).map((a) => (a.includes(" ") ? "'" + a + "'" : a))].join(" ");
}

function goQuote(text) {
  return "\"" + text.replace(/[\\"]/g, (c) => "\\" + c).replace(/\n/g, "\\n").replace(/\t/g, "\\t") + "\"";
}

function truncate(text, n) {
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

// Docker's own English texts, as `docker ps` prints them in the terminal.
function humanDuration(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 1) return "Less than a second";
  if (s < 60) return Math.round(s) + " seconds";
  if (s < 120) return "About a minute";
  if (s < 3600) return Math.round(s / 60) + " minutes";
  if (s < 7200) return "About an hour";
  if (s < 172800) return Math.round(s / 3600) + " hours";
  return Math.round(s / 86400) + " days";
}

function dockerStatus(c) {
  if (c.status === "running") return "Up " + humanDuration(c.started_at);
  if (c.status === "exited") return "Exited (" + c.exit_code + ") " + humanDuration(c.finished_at) + " ago";
  return c.status.charAt(0).toUpperCase() + c.status.slice(1);
}

function dockerPorts(c) {
  if (c.status !== "running") return "";
  const published = (c.ports || []).map((p) => p.host_ip + ":" + p.host_port + "->" + p.container_port + "/" + p.proto);
  const bound = new Set((c.ports || []).map((p) => p.container_port + "/" + p.proto));
  const exposed = (c.exposed || []).filter((e) => !bound.has(e));
  return exposed.concat(published).join(", ");
}
