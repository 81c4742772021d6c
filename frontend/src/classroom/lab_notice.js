// On the student's lab page (classroom's panel, labapp/classroom/web/lab_page.py): a notice while an
// instructor watches the lab (who), and the instructors' messages. The page's alert area (#messages)
// shows them; the lab socket brings classroom.watchers and classroom.message as they happen.
import { clockTime, esc, fmt } from "../labs/dom.js";

const data = JSON.parse(document.getElementById("classroom-lab-notice").textContent);
const area = document.getElementById("messages");
const shown = new Set();

function watchers(names) {
  let notice = area.querySelector(".message.watched");
  if (!names.length) {
    notice?.remove();
    return;
  }
  if (!notice) {
    notice = document.createElement("div");
    notice.className = "message watched";
    notice.dataset.id = "classroom-watched";
    area.prepend(notice);
  }
  const text = fmt(gettext("%(names)s is watching your lab: your terminal, graph and rules, read-only."), { names: names.join(", ") });
  notice.innerHTML = "<span>" + esc(text) + "</span>";
}

function message(m) {
  if (shown.has(m.id)) return;
  shown.add(m.id);
  const item = document.createElement("div");
  item.className = "message teacher";
  item.dataset.id = "classroom-message-" + m.id;
  const time = clockTime(new Date(m.sent_at));
  item.innerHTML = "<span><strong>" + esc(fmt(gettext("%(name)s, %(time)s:"), { name: m.sender, time })) +
    "</strong> " + esc(m.text) + "</span><button type=\"button\" class=\"close\" aria-label=\"" +
    esc(gettext("Dismiss")) + "\">×</button>";
  item.querySelector("button").addEventListener("click", () => item.remove());
  area.append(item);
}

watchers(data.watchers);
data.messages.forEach(message);
window.addEventListener("nslab:frame", ({ detail: f }) => {
  if (f.type === "classroom.watchers") watchers(f.watchers);
  else if (f.type === "classroom.message") message(f);
});
