"""Go's text/template execution over Docker's values, and docker/cli's `--format` convention.

Inspect objects are plain dicts; the Go types behind them are recovered from the key names:
Go maps (Networks, Ports, Options, …) print as `map[k:v]` with sorted keys and yield `<no value>`
for a missing key; every other dict is a Go struct and prints as `{v1 v2 …}`. Where Go would print
a pointer address (`map[bridge:0xc000…]` for `{{.NetworkSettings.Networks}}`), the pointed-to
struct is printed instead (`map[bridge:{<nil> [] [] … 172.17.0.2 16 …}]`). A missing struct field
gives Docker's fallback error `map has no entry for key "Foo"`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from topology.docker.gotemplate_parse import FUNC_ARITY, Node, Template, TemplateError, parse_template
from topology.docker.gotext import go_quote

# -- values -------------------------------------------------------------------------------------


class GoMap(dict):
    """A dict that stands for a Go map: printed `map[k:v]`, ranged in key order, zero for missing keys."""

    zero: object = None


class _Nil:
    """A typed Go nil: a nil slice prints `[]`, a nil map `map[]`, a nil pointer `<nil>`; JSON null."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __bool__(self) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"_Nil({self.kind!r})"


class _NoValue:
    """A missing map entry: Go prints `<no value>`."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()
_GO_MAPS: dict[str, object] = {
    "Networks": _Nil("ptr"),
    "Ports": _Nil("slice"),
    "PortBindings": _Nil("slice"),
    "ExposedPorts": {},
    "Options": "",
    "Labels": "",
    "Containers": _Nil("ptr"),
    "DriverOpts": "",
    "Config": "",  # only LogConfig.Config is a map; see go_typed
    "Volumes": {},
    "Sysctls": "",
    "Tmpfs": "",
}
_GO_SLICES = frozenset(
    {"Args", "Cmd", "Entrypoint", "Env", "Links", "Aliases", "DNSNames", "Dns", "DnsOptions", "DnsSearch"}
    | {"ExtraHosts", "Binds", "CapAdd", "CapDrop", "VolumesFrom", "GroupAdd", "ExecIDs", "Mounts", "OnBuild"}
    | {"SecondaryIPAddresses", "SecondaryIPv6Addresses", "SecurityOpt"}
)


def go_typed(value: object, key: str = "", parent: str = "") -> object:
    """Recover the Go types of a JSON-shaped inspect object from its key names."""
    is_map = key in _GO_MAPS and not (key == "Config" and parent != "LogConfig")
    if value is None:
        if key in _GO_SLICES or (key == "Config" and parent == "IPAM"):
            return _Nil("slice")
        return _Nil("map") if is_map else _Nil("ptr")
    if isinstance(value, GoMap):
        return value
    if isinstance(value, Mapping):
        if is_map:
            typed = GoMap(sorted((k, go_typed(v)) for k, v in value.items()))
            typed.zero = _GO_MAPS[key]
            return typed
        typed_struct = {k: go_typed(v, k, key) for k, v in value.items()}
        if key == "Config" and "Image" in value and "ExposedPorts" not in value:
            typed_struct["ExposedPorts"] = _Nil("map")
        return typed_struct
    if isinstance(value, list | tuple):
        return [go_typed(v) for v in value]
    return value


def _go_type_name(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "json.Number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    return "interface {}"


def go_print(value: object) -> str:
    """fmt's %v of a template value."""
    if isinstance(value, _NoValue):
        return "<no value>"
    if isinstance(value, _Nil):
        return {"slice": "[]", "map": "map[]"}.get(value.kind, "<nil>")
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list):
        return "[" + " ".join(_go_print_inner(v) for v in value) + "]"
    if isinstance(value, GoMap):
        return "map[" + " ".join(f"{k}:{_go_print_inner(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, Mapping):
        return "{" + " ".join(_go_print_inner(v) for v in value.values()) + "}"
    return str(value)


def _go_print_inner(value: object) -> str:
    return "<nil>" if isinstance(value, _NoValue) else go_print(value)


def _to_json(value: object) -> str:
    def default(o: object) -> object:
        if isinstance(o, _Nil | _NoValue):
            return None
        if hasattr(o, "go_json"):  # a struct whose JSON tags differ from its field names
            return o.go_json()
        raise TypeError(type(o).__name__)

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)


def _truth(value: object) -> bool:
    if isinstance(value, _Nil | _NoValue) or value is None:
        return False
    if isinstance(value, GoMap):
        return len(value) > 0
    if isinstance(value, Mapping):
        return True
    if isinstance(value, bool | int | float | str | list):
        return bool(value)
    return True


# -- execution ----------------------------------------------------------------------------------


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Exec:
    def __init__(self, tmpl: Template, root: object, type_name: str) -> None:
        self.src = tmpl.source
        self.type_name = type_name
        self.vars: list[tuple[str, object]] = [("$", root)]

    def fail(self, node: Node, msg: str) -> TemplateError:
        before = self.src[: node.pos]
        line, col = 1 + before.count("\n"), node.pos - (before.rfind("\n") + 1)
        context = node.text if len(node.text) <= 20 else node.text[:20] + "..."
        return TemplateError(f'template: :{line}:{col}: executing "" at <{context}>: {msg}')

    def run(self, nodes: list[Node], dot: object, out: list[str]) -> None:
        for node in nodes:
            if node.kind == "text":
                out.append(str(node.value))
            elif node.kind == "action":
                assert node.pipe is not None
                value = self.pipe(node.pipe, dot)
                if not node.pipe.decl:
                    out.append(go_print(value))
            elif node.kind in ("if", "with"):
                mark = len(self.vars)
                assert node.pipe is not None
                value = self.pipe(node.pipe, dot)
                if _truth(value):
                    self.run(node.body, value if node.kind == "with" else dot, out)
                else:
                    self.run(node.orelse, dot, out)
                del self.vars[mark:]
            elif node.kind == "range":
                self.range(node, dot, out)
            elif node.kind == "break":
                raise _Break
            elif node.kind == "continue":
                raise _Continue

    def range(self, node: Node, dot: object, out: list[str]) -> None:
        mark = len(self.vars)
        assert node.pipe is not None
        value = self.pipe(node.pipe, dot, declare=False)
        if isinstance(value, GoMap):
            pairs = sorted(value.items())
        elif isinstance(value, list):
            pairs = list(enumerate(value))
        elif isinstance(value, _Nil | _NoValue) or value is None:
            pairs = []
        else:
            raise self.fail(node, f"range can't iterate over {go_print(value)}")
        for key, elem in pairs:
            del self.vars[mark:]
            if len(node.pipe.decl) == 1:
                self.vars.append((node.pipe.decl[0], elem))
            elif len(node.pipe.decl) == 2:
                self.vars += [(node.pipe.decl[0], key), (node.pipe.decl[1], elem)]
            try:
                self.run(node.body, elem, out)
            except _Break:
                break
            except _Continue:
                continue
        if not pairs:
            self.run(node.orelse, dot, out)
        del self.vars[mark:]

    def pipe(self, pipe: Node, dot: object, *, declare: bool = True) -> object:
        value: object = _MISSING
        for cmd in pipe.args:
            value = self.command(cmd, dot, value)
        if pipe.decl and declare:
            if pipe.assign:
                for k in range(len(self.vars) - 1, -1, -1):
                    if self.vars[k][0] == pipe.decl[0]:
                        self.vars[k] = (pipe.decl[0], value)
                        break
            else:
                self.vars.append((pipe.decl[0], value))
        return value

    def command(self, cmd: Node, dot: object, final: object) -> object:
        head, rest = cmd.args[0], cmd.args[1:]
        if head.kind == "func":
            args = [self.arg(a, dot) for a in rest] + ([final] if final is not _MISSING else [])
            return self.call(str(head.value), args, head, cmd)
        if rest or final is not _MISSING:
            if head.kind in ("field", "chain", "var") and head.names:
                raise self.fail(head, f"{head.names[-1]} is not a method but has arguments")
            raise self.fail(head, f"can't give argument to non-function {head.text}")
        return self.arg(head, dot)

    def arg(self, node: Node, dot: object) -> object:
        if node.kind == "dot":
            return dot
        if node.kind == "lit":
            return node.value
        if node.kind == "nil":
            raise self.fail(node, "nil is not a command")
        if node.kind == "func":
            return self.call(str(node.value), [], node, node)
        if node.kind == "field":
            return self.fields(dot, node.names, node)
        if node.kind == "var":
            base = next(v for name, v in reversed(self.vars) if name == node.value)
            return self.fields(base, node.names, node)
        if node.kind == "paren":
            assert node.pipe is not None
            return self.pipe(node.pipe, dot)
        if node.kind == "chain":
            assert isinstance(node.value, Node)
            return self.fields(self.arg(node.value, dot), node.names, node)
        raise self.fail(node, f"can't evaluate {node.kind}")

    def fields(self, value: object, names: list[str], node: Node) -> object:
        for name in names:
            if isinstance(value, GoMap):
                value = value.get(name, NO_VALUE)
            elif isinstance(value, Mapping):
                if name not in value:
                    if self.type_name:
                        raise self.fail(node, f"can't evaluate field {name} in type {self.type_name}")
                    raise self.fail(node, f"map has no entry for key {go_quote(name)}")
                value = value[name]
            elif isinstance(value, _Nil | _NoValue) or value is None:
                raise self.fail(node, f"nil pointer evaluating interface {{}}.{name}")
            else:
                raise self.fail(node, f"can't evaluate field {name} in type {_go_type_name(value)}")
        return value

    def call(self, name: str, args: list[object], ident: Node, cmd: Node) -> object:
        low, high = FUNC_ARITY[name]
        if len(args) < low or (high is not None and len(args) > high):
            want = f"at least {low}" if high is None else str(low)
            raise self.fail(ident, f"wrong number of args for {name}: want {want} got {len(args)}")
        try:
            return _CALLS[name](*args)
        except _CallError as e:
            raise self.fail(cmd, f"error calling {name}: {e}") from None
        except _ArgError as e:
            raise self.fail(cmd, str(e)) from None


_MISSING = object()


class _CallError(Exception):
    pass


class _ArgError(Exception):
    pass


def _want_str(value: object) -> str:
    if not isinstance(value, str):
        raise _ArgError(f"wrong type for value; expected string; got {_go_type_name(value)}")
    return value


def _want_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _ArgError(f"wrong type for value; expected int; got {_go_type_name(value)}")
    return value


def _index(item: object, *keys: object) -> object:
    for key in keys:
        if isinstance(item, Mapping):
            if not isinstance(key, str):
                raise _CallError(f"value has type {_go_type_name(key)}; should be string")
            item = item.get(key, item.zero if isinstance(item, GoMap) else NO_VALUE)
        elif isinstance(item, list | str | _Nil):
            if not isinstance(key, int) or isinstance(key, bool):
                raise _CallError(f"cannot index slice/array with type {_go_type_name(key)}")
            if isinstance(item, _Nil) and item.kind == "map":
                raise _CallError(f"value has type {_go_type_name(key)}; should be string")
            size = len(item)
            if not 0 <= key < size:
                raise _CallError(f"index out of range: {key}")
            item = item[key] if isinstance(item, list) else item.encode()[key]  # type: ignore[index]
        elif item is None or isinstance(item, _NoValue):
            raise _CallError("index of untyped nil")
        else:
            raise _CallError(f"can't index item of type {_go_type_name(item)}")
    return item


def _compare(op: str) -> Callable[..., bool]:
    def compare(a: object, *others: object) -> bool:
        if not others:
            raise _CallError("missing argument for comparison")
        for b in others:
            for v in (a, b):
                if not isinstance(v, bool | int | float | str):
                    raise _CallError("invalid type for comparison")
            if isinstance(a, str) != isinstance(b, str) or isinstance(a, bool) != isinstance(b, bool):
                raise _CallError("incompatible types for comparison")
            if op == "eq" and a == b:
                return True
            if op != "eq":
                return {"ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]  # type: ignore[operator]
        return False

    return compare


def _and(*args: object) -> object:
    for a in args:
        if not _truth(a):
            return a
    return args[-1]


def _or(*args: object) -> object:
    for a in args:
        if _truth(a):
            return a
    return args[-1]


def _sprint(*args: object) -> str:
    out = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_print(a))
    return "".join(out)


_VERB_RE = re.compile(r"%([-+# 0]*)([0-9]+)?(?:\.([0-9]+))?([a-zA-Z%])")


def _sprintf(fmt: object, *args: object) -> str:
    """fmt.Sprintf for the verbs templates use: %v %s %d %q %t %x %X %%."""
    text, out, used, last = _want_str(fmt), [], 0, 0
    for m in _VERB_RE.finditer(text):
        out.append(text[last : m.start()])
        last = m.end()
        flags, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[used]
        used += 1
        if verb in "vs":
            piece = go_print(arg)[: int(prec)] if prec else go_print(arg)
        elif verb == "d" and isinstance(arg, int) and not isinstance(arg, bool):
            piece = str(arg)
        elif verb == "q" and isinstance(arg, str):
            piece = go_quote(arg)
        elif verb == "t" and isinstance(arg, bool):
            piece = go_print(arg)
        elif verb in "xX" and isinstance(arg, int | str) and not isinstance(arg, bool):
            piece = format(arg, verb) if isinstance(arg, int) else arg.encode().hex()
            piece = piece.upper() if verb == "X" else piece
        else:
            piece = f"%!{verb}({_go_type_name(arg)}={go_print(arg)})"
        if width:
            width = str(min(int(width), 4096))
            fill = "0" if "0" in flags and "-" not in flags and verb in "dxX" else " "
            piece = piece.ljust(int(width)) if "-" in flags else piece.rjust(int(width), fill)
        out.append(piece)
    out.append(text[last:])
    if used < len(args):
        out.append("%!(EXTRA " + ", ".join(f"{_go_type_name(a)}={go_print(a)}" for a in args[used:]) + ")")
    return "".join(out)


def _len(value: object) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, list | Mapping | _Nil):
        return len(value)
    raise _CallError(f"len of type {_go_type_name(value)}")


def _join(items: object, sep: object) -> str:
    if not isinstance(items, list | _Nil) or not all(isinstance(i, str) for i in items or []):
        raise _ArgError(f"wrong type for value; expected []string; got {_go_type_name(items)}")
    return _want_str(sep).join(items or [])  # type: ignore[arg-type]


_CALLS: dict[str, Callable[..., object]] = {
    "and": _and,
    "or": _or,
    "not": lambda v: not _truth(v),
    "len": _len,
    "index": _index,
    "print": _sprint,
    "printf": _sprintf,
    "println": lambda *a: " ".join(go_print(v) for v in a) + "\n",
    "eq": _compare("eq"),
    "ne": _compare("ne"),
    "lt": _compare("lt"),
    "le": _compare("le"),
    "gt": _compare("gt"),
    "ge": _compare("ge"),
    "json": _to_json,
    "split": lambda s, sep: _want_str(s).split(_want_str(sep)) if sep else list(_want_str(s)),
    "join": _join,
    "title": lambda s: re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), _want_str(s)),
    "lower": lambda s: _want_str(s).lower(),
    "upper": lambda s: _want_str(s).upper(),
    "pad": lambda s, before, after: (
        " " * min(_want_int(before), 4096) + _want_str(s) + " " * min(_want_int(after), 4096)
    ),
    "truncate": lambda s, n: _want_str(s)[: _want_int(n)],
}


def execute(tmpl: Template, obj: object, type_name: str, *, prefix: str = "Template parsing error: ") -> str:
    """Run a parsed template over `obj`; `type_name` is the Go type named in field errors."""
    out: list[str] = []
    try:
        _Exec(tmpl, obj, type_name).run(tmpl.nodes, obj, out)
    except TemplateError as e:
        raise TemplateError(e.detail, prefix) from None
    except (_Break, _Continue):
        pass
    return "".join(out)


def render_format(template: str, obj: Mapping, *, type_name: str = "") -> str:
    """Execute a `docker inspect -f` template over an inspect object (no trailing newline); TemplateError."""
    # type_name switches the missing-field error to Go's typed form ("can't evaluate field X in type T").
    return execute(parse_template(template), go_typed(obj), type_name)


def parse_format(fmt: str) -> Template:
    """Parse a list command's --format as docker/cli does: `table` prefix, `\\t` and `\\n` escapes."""
    body = fmt[len("table") :] if fmt.startswith("table") else fmt
    return parse_template(body.strip(" ").replace("\\t", "\t").replace("\\n", "\n"))
