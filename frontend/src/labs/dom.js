// Small DOM and text helpers shared by the lab page's modules.
// gettext/interpolate are globals from Django's JavaScriptCatalog (/jsi18n/).

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** HTML-escape any value. */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** interpolate() with named %(name)s placeholders. */
export function fmt(text, values) {
  return interpolate(text, values, true);
}

/** 1234567 -> "1.2M", like iptables -L -v. */
export function shortCount(n) {
  if (n < 100000) return String(n);
  const units = ["K", "M", "G", "T"];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return (v >= 100 ? Math.round(v) : v.toFixed(1)) + units[i];
}

/** An HTML <table> from headers and rows of already escaped cell HTML. */
export function table(headers, rows, cls = "") {
  const head = headers.map((h) => "<th scope=\"col\">" + esc(h) + "</th>").join("");
  const body = rows.map((r) => "<tr>" + r.map((c) => "<td>" + c + "</td>").join("") + "</tr>").join("");
  return "<table class=\"data " + cls + "\"><thead><tr>" + head + "</tr></thead><tbody>" + body + "</tbody></table>";
}

/** Fill a <select> with options, keeping the current choice when it still exists. */
export function fillSelect(select, values, preferred, label = (v) => v) {
  const current = select.value || preferred;
  const same = select.options.length === values.length && values.every((v, i) => select.options[i].value === v);
  if (!same) {
    select.replaceChildren(...values.map((v) => new Option(label(v), v)));
  }
  select.value = values.includes(current) ? current : values[0] ?? "";
  return select.value;
}

/** A time of day as hours and minutes in the page's language (not the browser's: a Chinese page in
 * an English browser says 17:30, not 05:30 PM). */
export function clockTime(date) {
  return date.toLocaleTimeString(document.documentElement.lang || [], { hour: "2-digit", minute: "2-digit" });
}
