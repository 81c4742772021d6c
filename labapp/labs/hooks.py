"""How other apps plug into a lab: labs imports none of them, they register here from their
`AppConfig.ready()` (labapp.exercises does; a classroom dashboard or a packet walk would alike).

Web side (the Daphne process):

- `socket_frame_add(type, schema, handler, error_codes=())`: a frame the browser may send on the lab
  socket. The consumer validates it against `schema` (see `frames.frame_schema`), then awaits
  `handler(consumer, frame)` instead of passing it to the lab's node. A handler reads
  `consumer.lab_id` and `consumer.scope["user"]`, answers with `await consumer.send_error(code, text)`
  (codes from `error_codes`) and does slow or blocking work through `database_sync_to_async` or a task.
- `group_frame_add(type, schema)`: a frame sent to the lab's group (`broadcast.lab_send` or the
  agent's `queue`) that the lab socket passes on to the browser as it is.
- `join_frames_add(app, provider)`: frames a lab socket gets as soon as it joins the lab's group (a
  page's first connect and every reconnect), so that nothing sent to the group just before is
  missed: `provider(lab_id)` returns a list of group frames (`group_frame_add`); it runs in a
  thread and may read the database.
- `lab_panel_add(LabPanel(app, template, context, styles, scripts, watch_context))`: a panel of the
  lab page, keyed by app. The page calls `context(request, lab)`; None shows nothing, a dict renders
  `template` with it at the start of the lab grid, with `styles` in the head and `scripts` (static
  paths of ES modules) before the page's own script. A read-only view of the lab (the classroom's
  watch view, whose own checks decided that the user may see it) calls `watch_context(request, lab)`
  instead (`labs.web.views.lab_panels(request, lab, watching=True)`; by default nothing). A panel
  whose root is a `.card.side-card` gets a column of its own beside the graph and the terminal
  (labs/layout.css), as high as they are: it scrolls its content itself (the card is a flex column).
  Browser code gets every server frame as the window event `nslab:frame` and a click on a netfilter
  rule as `nslab:rule-click`; it sends frames with `window.nslab.socket.send(frame)`.

Lab-node side (the lab-node worker, or the web process when embedded):

- `sandbox_prepared` (a Django signal, sent with `lab` and `sandbox_id`): a lab's new sandbox runs
  commands and the lab is not ready yet; a receiver prepares it further (an exercise's setup). A
  `topology.errors.TopologyError` it raises fails the lab.
- `state_listener_add(listener)`: called on the agent's event loop as `listener(agent, lab_id,
  snapshot)` after each `lab.state` the agent publishes. It must not block: it schedules its work on
  `agent.loop` and sends frames to a lab's group with `agent.queue(channels.lab_group(lab_id), frame,
  group=True)` (frames that browsers get also need `group_frame_add`).

Either side:

- `lab_status_changed` (a Django signal, sent robustly on commit with `lab`): a lab's status changed
  (labapp.labs.records.lab_set_status). A receiver must be quick (it runs where the change was made).

Every `*_add` is idempotent (registering the same thing again replaces it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from django.dispatch import Signal

from labapp.labs import frames

sandbox_prepared = Signal()
lab_status_changed = Signal()

SocketHandler = Callable[..., Awaitable[None]]
StateListener = Callable[..., None]

SOCKET_HANDLERS: dict[str, SocketHandler] = {}
JOIN_FRAMES: dict[str, Callable[[int], list[dict]]] = {}
GROUP_FRAMES: set[str] = set()
STATE_LISTENERS: list[StateListener] = []


@dataclass(frozen=True)
class LabPanel:
    """A panel another app adds to the lab page."""

    app: str
    template: str
    context: Callable[..., dict | None]
    styles: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    # The panel on a read-only view of another user's lab (an instructor watching): its caller decided
    # that the user may see the lab. By default the panel is not shown there.
    watch_context: Callable[..., dict | None] = lambda request, lab: None


LAB_PANELS: dict[str, LabPanel] = {}


def socket_frame_add(type_: str, schema: dict, handler: SocketHandler, *, error_codes=()) -> None:
    """Let browsers send the frame `type_` on the lab socket; `handler(consumer, frame)` handles it."""
    frames.frames_add(client={type_: schema}, error_codes=error_codes)
    SOCKET_HANDLERS[type_] = handler


def group_frame_add(type_: str, schema: dict) -> None:
    """Pass the lab group's messages of `type_` on to the browsers."""
    frames.frames_add(server={type_: schema})
    GROUP_FRAMES.add(type_)


def join_frames_add(app: str, provider: Callable[[int], list[dict]]) -> None:
    """Send `provider(lab_id)`'s frames to each lab socket that joins the lab's group."""
    JOIN_FRAMES[app] = provider


def join_frames(lab_id: int) -> list[dict]:
    """The frames every app gives a socket joining lab `lab_id`'s group."""
    return [frame for provider in JOIN_FRAMES.values() for frame in provider(lab_id)]


def lab_panel_add(panel: LabPanel) -> None:
    """Show `panel` on the lab page (one panel per app)."""
    LAB_PANELS[panel.app] = panel


def state_listener_add(listener: StateListener) -> None:
    """Call `listener(agent, lab_id, snapshot)` after each `lab.state` the node agent publishes."""
    if listener not in STATE_LISTENERS:
        STATE_LISTENERS.append(listener)
