// Plain-language explanations of routes, route flags and netfilter rules, built from the parsed
// snapshot data (never from the rule's text), every sentence translated.
import { fmt } from "./dom.js";

/** route -n flag letter -> explanation. */
export function routeFlagText(flag) {
  const texts = {
    U: gettext("U (up): the route is usable"),
    G: gettext("G (gateway): packets go to a next-hop router, not straight to the destination"),
    H: gettext("H (host): the destination is a single address, not a network"),
    R: gettext("R (reinstate): the route was reinstated for dynamic routing"),
    D: gettext("D (dynamic): installed by a routing daemon or an ICMP redirect"),
    M: gettext("M (modified): changed by a routing daemon or an ICMP redirect"),
    A: gettext("A (addrconf): installed by IPv6 address autoconfiguration"),
    C: gettext("C (cache): a routing cache entry"),
    "!": gettext("! (reject): packets to this destination are refused"),
  };
  return texts[flag] || fmt(gettext("%(flag)s: a flag this page does not know"), { flag });
}

/** A namespace's kind (host | container | outside) in the page's language. */
export function namespaceKindText(kind) {
  return { host: gettext("Docker host"), container: gettext("container"), outside: gettext("outside world") }[kind] || kind;
}

/** A link's kind (`ip -d link`'s linkinfo kind or link type) in the page's language; unknown kinds as they are. */
export function linkKindText(kind) {
  const texts = {
    veth: gettext("veth"),
    bridge: gettext("bridge"),
    loopback: gettext("loopback"),
    ether: gettext("ether"),
    dummy: gettext("dummy"),
    tun: gettext("tun"),
    ipip: gettext("ipip"),
    vxlan: gettext("vxlan"),
    macvlan: gettext("macvlan"),
  };
  return texts[kind] || kind;
}

/** One sentence about what a route means. */
export function explainRoute(route) {
  if (route.flags.includes("!")) {
    return fmt(gettext("Packets for %(dst)s are refused (reject route)."), { dst: route.dst });
  }
  const values = { dst: route.dst, gw: route.gateway, dev: route.iface };
  if (route.destination === "0.0.0.0" && route.genmask === "0.0.0.0") {
    return route.flags.includes("G")
      ? fmt(gettext("Default route: every packet no other route matches goes to the router %(gw)s through %(dev)s."), values)
      : fmt(gettext("Default route: every packet no other route matches leaves through %(dev)s."), values);
  }
  if (route.flags.includes("G")) {
    return fmt(gettext("Packets for %(dst)s go to the router %(gw)s through %(dev)s."), values);
  }
  return fmt(gettext("%(dst)s is directly reachable on %(dev)s: no router needed."), values);
}

/** What a built-in or Docker chain is for; "" for others. */
export function explainChain(table, chain) {
  const key = table + "/" + chain;
  const texts = {
    "nat/PREROUTING": gettext("Packets arriving from a network, before the routing decision: destination NAT (DNAT) happens here."),
    "nat/INPUT": gettext("Packets for a process of this namespace, after routing."),
    "nat/OUTPUT": gettext("Packets made by this namespace's own processes, before routing: DNAT of local traffic."),
    "nat/POSTROUTING": gettext("Packets about to leave through an interface, after routing: source NAT (SNAT, MASQUERADE) happens here."),
    "nat/DOCKER": gettext("Docker's NAT chain: one DNAT rule per published port."),
    "filter/INPUT": gettext("Packets addressed to this namespace itself."),
    "filter/FORWARD": gettext("Packets routed through this namespace from one interface to another, such as container traffic."),
    "filter/OUTPUT": gettext("Packets sent by this namespace's own processes."),
    "filter/DOCKER": gettext("Docker's filter chain: lets connections to published ports through to the container."),
    "filter/DOCKER-USER": gettext("Your own rules: Docker jumps here before its own forwarding rules and never changes it."),
    "filter/DOCKER-ISOLATION-STAGE-1": gettext("Docker's network isolation, first stage: finds packets leaving a Docker network."),
    "filter/DOCKER-ISOLATION-STAGE-2": gettext("Docker's network isolation, second stage: drops them if they would enter another Docker network."),
    "filter/DOCKER-FORWARD": gettext("Docker's forwarding decisions for its bridge networks."),
    "filter/DOCKER-BRIDGE": gettext("Sends packets entering a Docker bridge to the DOCKER chain."),
    "filter/DOCKER-CT": gettext("Accepts packets of connections conntrack already knows (replies)."),
    "filter/DOCKER-INTERNAL": gettext("Drops traffic leaving internal Docker networks."),
    "raw/PREROUTING": gettext("Packets arriving, before connection tracking."),
    "raw/OUTPUT": gettext("Local packets, before connection tracking."),
    "mangle/PREROUTING": gettext("Arriving packets, before routing: header changes and marks."),
    "mangle/POSTROUTING": gettext("Leaving packets, after routing: header changes and marks."),
  };
  return texts[key] || "";
}

/** What happens to packets that reach the end of a built-in chain. */
export function explainPolicy(policy) {
  if (policy === "ACCEPT") return gettext("Policy ACCEPT: packets that reach the end of this chain are let through.");
  if (policy === "DROP") return gettext("Policy DROP: packets that reach the end of this chain are dropped.");
  return fmt(gettext("Policy %(policy)s: applied to packets that reach the end of this chain."), { policy });
}

function strip32(addr) {
  return addr.endsWith("/32") ? addr.slice(0, -3) : addr;
}

function ifaceName(value) {
  return value.endsWith("+")
    ? fmt(gettext("any interface whose name starts with %(prefix)s"), { prefix: value.slice(0, -1) })
    : value;
}

function ctStates(value) {
  const names = {
    NEW: gettext("opens a new connection"),
    ESTABLISHED: gettext("belongs to a connection already seen in both directions"),
    RELATED: gettext("is related to a known connection (such as an ICMP error or an FTP data connection)"),
    INVALID: gettext("belongs to no known connection (invalid)"),
    UNTRACKED: gettext("is not tracked"),
    DNAT: gettext("was destination-NATed"),
    SNAT: gettext("was source-NATed"),
  };
  return value.split(",").map((s) => names[s] || s).join(gettext(" or "));
}

/** One condition of a rule as a phrase, e.g. "arrives on docker0". */
function condition(m) {
  const v = { v: m.value, vs: strip32(m.value), i: ifaceName(m.value) };
  const n = m.negated;
  switch (m.option) {
    case "-i":
      return fmt(n ? gettext("did not arrive on %(i)s") : gettext("arrives on %(i)s"), v);
    case "-o":
      return fmt(n ? gettext("will not leave through %(i)s") : gettext("will leave through %(i)s"), v);
    case "-s":
      return fmt(n ? gettext("does not come from %(vs)s") : gettext("comes from %(vs)s"), v);
    case "-d":
      return fmt(n ? gettext("is not addressed to %(vs)s") : gettext("is addressed to %(vs)s"), v);
    case "-p":
      return fmt(n ? gettext("is not %(v)s") : gettext("is %(v)s"), { v: m.value.toUpperCase() });
    case "--dport":
    case "--dports":
      return fmt(n ? gettext("is for any port except %(v)s") : gettext("is for port %(v)s"), v);
    case "--sport":
    case "--sports":
      return fmt(n ? gettext("comes from any port except %(v)s") : gettext("comes from port %(v)s"), v);
    case "--dst-type":
      if (m.value === "LOCAL") {
        return n ? gettext("is not addressed to one of this namespace's own addresses")
          : gettext("is addressed to one of this namespace's own addresses (type LOCAL)");
      }
      return fmt(n ? gettext("has a destination address not of type %(v)s") : gettext("has a destination address of type %(v)s"), v);
    case "--src-type":
      if (m.value === "LOCAL") {
        return n ? gettext("does not come from one of this namespace's own addresses")
          : gettext("comes from one of this namespace's own addresses (type LOCAL)");
      }
      return fmt(n ? gettext("has a source address not of type %(v)s") : gettext("has a source address of type %(v)s"), v);
    case "--ctstate":
    case "--state":
      return fmt(n ? gettext("does not: %(what)s") : "%(what)s", { what: ctStates(m.value) });
    case "--icmp-type":
      return fmt(gettext("is ICMP of type %(v)s"), v);
    case "--mark":
      return fmt(n ? gettext("does not carry the mark %(v)s") : gettext("carries the mark %(v)s"), v);
    case "--physdev-is-bridged":
      return gettext("is being bridged");
    case "--comment":
      return "";
    default:
      return fmt(gettext("matches \"%(text)s\""), {
        text: (n ? "! " : "") + (m.module ? "-m " + m.module + " " : "") + m.option + (m.value ? " " + m.value : ""),
      });
  }
}

/** What the rule's target does, as a phrase. */
function action(rule) {
  const opt = (name) => (rule.target_options.find((o) => o.option === name) || {}).value;
  const v = { chain: rule.target };
  switch (rule.target) {
    case null:
    case undefined:
      return gettext("nothing but counting: the next rule is tried");
    case "ACCEPT":
      return gettext("let it through (ACCEPT): it leaves this chain and goes on");
    case "DROP":
      return gettext("throw it away silently (DROP)");
    case "REJECT":
      return fmt(gettext("refuse it and tell the sender (REJECT %(how)s)"), { how: opt("--reject-with") || "" });
    case "RETURN":
      return gettext("go back to the chain that jumped here (RETURN); in a built-in chain the policy decides");
    case "DNAT":
      return fmt(gettext("rewrite its destination to %(to)s (DNAT): the connection goes there instead, and replies are translated back automatically"), { to: opt("--to-destination") || "?" });
    case "SNAT":
      return fmt(gettext("rewrite its source to %(to)s (SNAT), so replies come back to that address"), { to: opt("--to-source") || "?" });
    case "MASQUERADE":
      return opt("--to-ports")
        ? fmt(gettext("rewrite its source to the address of the interface it leaves through, ports %(ports)s (MASQUERADE)"), { ports: opt("--to-ports") })
        : gettext("rewrite its source to the address of the interface it leaves through (MASQUERADE), so replies find their way back");
    case "REDIRECT":
      return fmt(gettext("send it to port %(ports)s of this namespace itself (REDIRECT)"), { ports: opt("--to-ports") || "?" });
    case "LOG":
      return gettext("write it to the kernel log (LOG) and try the next rule");
    case "MARK":
      return fmt(gettext("set the mark %(mark)s on it (MARK) and try the next rule"), { mark: opt("--set-xmark") || opt("--set-mark") || "?" });
    default:
      return rule.goto
        ? fmt(gettext("continue in the chain %(chain)s and do not come back here (goto)"), v)
        : fmt(gettext("continue in the chain %(chain)s; if it returns, the next rule here is tried"), v);
  }
}

/** A whole rule as one sentence. */
export function explainRule(rule) {
  const conds = rule.matches.map(condition).filter(Boolean);
  const act = action(rule);
  let text;
  if (!conds.length) {
    text = fmt(gettext("Every packet: %(action)s."), { action: act });
  } else {
    const last = conds.pop();
    const joined = conds.length ? fmt(gettext("%(list)s and %(last)s"), { list: conds.join(gettext(", ")), last }) : last;
    text = fmt(gettext("A packet that %(conditions)s: %(action)s."), { conditions: joined, action: act });
  }
  const comment = rule.matches.find((m) => m.option === "--comment");
  if (comment) text += " " + fmt(gettext("Comment: %(c)s"), { c: comment.value });
  return text;
}

/** A conntrack entry's NAT translation, or "". */
export function explainNat(entry) {
  const ep = (addr, port) => (port == null ? addr : addr + ":" + port);
  const parts = [];
  if (entry.nat === "dnat" || entry.nat === "both") {
    parts.push(fmt(gettext("DNAT: destination %(from)s became %(to)s"), {
      from: ep(entry.orig_dst, entry.orig_dport),
      to: ep(entry.reply_src, entry.reply_sport),
    }));
  }
  if (entry.nat === "snat" || entry.nat === "both") {
    parts.push(fmt(gettext("SNAT: source %(from)s became %(to)s"), {
      from: ep(entry.orig_src, entry.orig_sport),
      to: ep(entry.reply_dst, entry.reply_dport),
    }));
  }
  return parts.join("; ");
}
