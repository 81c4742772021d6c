"""Go's text/template syntax: the lexer and parser of the subset Docker users write, with Go's error texts.

The subset: fields, variables, pipelines, parentheses, if/else/with/range/break/continue, and the
functions and, or, not, len, index, print, printf, println, eq, ne, lt, le, gt, ge, json, split,
join, title, lower, upper, pad, truncate (execution: `gotemplate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from topology.docker.clierrors import CliError
from topology.docker.gotext import go_quote


class TemplateError(CliError):
    """A template that does not parse or execute; `detail` is Go's error text ("template: …")."""

    def __init__(self, detail: str, prefix: str = "Template parsing error: ") -> None:
        super().__init__(prefix + detail, 1)
        self.detail = detail


@dataclass
class _Tok:
    kind: str  # space field var dot ident string number char ( ) | := = ,
    value: str
    pos: int


@dataclass
class Node:
    """One node of a parsed template."""

    kind: str  # field var dot func lit nil chain pipe cmd text action if with range break continue
    pos: int = 0
    text: str = ""
    names: list[str] = field(default_factory=list)  # field / var / chain identifiers
    value: object = None  # literal value, variable name, function name, or chained node
    args: list[Node] = field(default_factory=list)  # cmd operands, pipe commands
    decl: list[str] = field(default_factory=list)  # pipe variable declarations
    assign: bool = False
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)
    pipe: Node | None = None


_TOKEN_RE = re.compile(
    r"(?P<space>\s+)|(?P<declare>:=)|(?P<field>\.[A-Za-z_][A-Za-z0-9_]*)|(?P<var>\$[A-Za-z0-9_]*)"
    r"|(?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+))"
    r"|(?P<dot>\.)|(?P<string>\"(?:[^\"\\\n]|\\.)*\")|(?P<raw>`[^`]*`)|(?P<char>'(?:[^'\\\n]|\\.)+')"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[()|=,])"
)
FUNC_ARITY: dict[str, tuple[int, int | None]] = {
    "and": (1, None),
    "or": (1, None),
    "not": (1, 1),
    "len": (1, 1),
    "index": (1, None),
    "print": (0, None),
    "printf": (1, None),
    "println": (0, None),
    "eq": (1, None),
    "ne": (2, 2),
    "lt": (2, 2),
    "le": (2, 2),
    "gt": (2, 2),
    "ge": (2, 2),
    "json": (1, 1),
    "split": (2, 2),
    "join": (2, 2),
    "title": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "pad": (3, 3),
    "truncate": (2, 2),
}
_KEYWORDS = ("if", "else", "end", "range", "with", "break", "continue", "define", "template", "block")
_UNESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


def _unquote(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
            i += 2
        elif nxt in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[nxt]
            out.append(chr(int(body[i + 2 : i + 2 + size], 16)))
            i += 2 + size
        else:
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
    return "".join(out)


class _Parser:
    """text/template's parser for the subset above, with Go's error texts."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.items = self._lex()
        self.i = 0
        self.scopes: list[list[str]] = [["$"]]
        self.range_depth = 0

    def fail(self, pos: int, msg: str) -> TemplateError:
        return TemplateError(f"template: :{1 + self.src.count(chr(10), 0, pos)}: {msg}")

    # lexing: a list of ("text", str, start, end) and ("action", [tokens], start, end) items
    def _lex(self) -> list[tuple[str, object, int, int]]:
        src, items, pos, trim_next = self.src, [], 0, False
        while True:
            start = src.find("{{", pos)
            text = src[pos:] if start < 0 else src[pos:start]
            if trim_next:
                text = text.lstrip(" \t\r\n")
            j = start + 2
            if start >= 0 and src[j : j + 1] == "-" and src[j + 1 : j + 2] in (" ", "\t", "\r", "\n"):
                text, j = text.rstrip(" \t\r\n"), j + 1
            if text:
                items.append(("text", text, pos, start))
            if start < 0:
                return items
            tokens, pos, trim_next = self._lex_action(start, j)
            if tokens is not None:
                items.append(("action", tokens, start, pos))

    def _lex_action(self, start: int, j: int) -> tuple[list[_Tok] | None, int, bool]:
        src = self.src
        k = j
        while k < len(src) and src[k] in " \t\r\n":
            k += 1
        if src.startswith("/*", k):
            end = src.find("*/", k + 2)
            if end < 0:
                raise self.fail(start, "unclosed comment")
            k = end + 2
            if src.startswith("}}", k):
                return None, k + 2, False
            if src[k : k + 1] in (" ", "\t", "\r", "\n") and src.startswith("-}}", k + 1):
                return None, k + 4, True
            raise self.fail(start, "comment ends before closing delimiter")
        tokens: list[_Tok] = []
        while True:
            if j >= len(src):
                raise self.fail(start, "unclosed action")
            if src.startswith("}}", j):
                return tokens, j + 2, False
            if src[j] in " \t\r\n" and src.startswith("-}}", j + 1):
                return tokens, j + 4, True
            m = _TOKEN_RE.match(src, j)
            if m is None:
                if src[j] == '"':
                    raise self.fail(j, "unterminated quoted string")
                if src[j] == "`":
                    raise self.fail(j, "unterminated raw quoted string")
                if src[j].isascii() and src[j].isprintable():
                    raise self.fail(j, f"unexpected {go_quote(src[j])} in command")
                raise self.fail(j, f"bad character U+{ord(src[j]):04X} {_go_quote_rune(src[j])}")
            kind = m.lastgroup or ""
            value = m.group()
            if kind == "punct":
                kind = value
            elif kind == "declare":
                kind = ":="
            elif kind == "raw":
                kind = "string"
            if kind == "space" and src.startswith("-}}", m.end()):
                if len(value) > 1:
                    tokens.append(_Tok("space", value[:-1], j))
                j = m.end() - 1
                continue
            tokens.append(_Tok(kind, value, j))
            j = m.end()

    # parsing
    def parse(self) -> list[Node]:
        nodes, end, _ = self.parse_list(())
        return nodes

    def parse_list(self, stops: tuple[str, ...]) -> tuple[list[Node], str, list[_Tok]]:
        nodes: list[Node] = []
        while self.i < len(self.items):
            kind, payload, pos, _ = self.items[self.i]
            self.i += 1
            if kind == "text":
                nodes.append(Node("text", pos, value=payload))
                continue
            toks: list[_Tok] = payload  # type: ignore[assignment]
            words = [t for t in toks if t.kind != "space"]
            if not words:
                raise self.fail(pos, "missing value for command")
            head = words[0]
            if head.kind == "ident" and head.value in _KEYWORDS:
                word = head.value
                if word in ("end", "else"):
                    if word not in stops:
                        raise self.fail(head.pos, f"unexpected {{{{{word}}}}}")
                    return nodes, word, toks[toks.index(head) + 1 :]
                if word in ("if", "with", "range"):
                    nodes.append(self.parse_control(word, toks[toks.index(head) + 1 :], pos))
                elif word in ("break", "continue"):
                    if not self.range_depth:
                        raise self.fail(head.pos, f"{{{{{word}}}}} outside {{{{range}}}}")
                    nodes.append(Node(word, head.pos))
                else:
                    raise self.fail(head.pos, f"{{{{{word}}}}} is not supported here")
                continue
            pipe = self.parse_pipeline(toks, pos, "command", decl_ok=True)
            nodes.append(Node("action", pos, pipe=pipe))
        if stops:
            raise self.fail(len(self.src), "unexpected EOF")
        return nodes, "", []

    def parse_control(self, word: str, toks: list[_Tok], start: int) -> Node:
        self.scopes.append([])
        pos = next((t.pos for t in toks if t.kind != "space"), start)
        pipe = self.parse_pipeline(toks, pos, word, decl_ok=True, range_decl=word == "range")
        self.range_depth += word == "range"
        body, end, rest = self.parse_list(("end", "else"))
        self.range_depth -= word == "range"
        orelse: list[Node] = []
        if end == "else":
            words = [t for t in rest if t.kind != "space"]
            if words and words[0].kind == "ident" and words[0].value in ("if", "with") and word != "range":
                orelse = [self.parse_control(words[0].value, rest[rest.index(words[0]) + 1 :], words[0].pos)]
            else:
                orelse, _, _ = self.parse_list(("end",))
        self.scopes.pop()
        text = self.src[start : self.items[self.i - 1][3]]
        return Node(word, pos, text, pipe=pipe, body=body, orelse=orelse)

    def parse_pipeline(
        self, toks: list[_Tok], pos: int, context: str, *, decl_ok=False, range_decl=False
    ) -> Node:
        c = _Cursor(toks)
        decl: list[str] = []
        assign = False
        save = c.i
        first = c.next_word()
        if decl_ok and first is not None and first.kind == "var":
            after = c.next_word()
            if after is not None and after.kind in (":=", "="):
                decl, assign = [first.value], after.kind == "="
            elif after is not None and after.kind == "," and range_decl:
                second = c.next_word()
                op = c.next_word()
                if second is None or second.kind != "var" or op is None or op.kind != ":=":
                    raise self.fail(first.pos, "range can only initialize variables")
                decl = [first.value, second.value]
            else:
                c.i = save
        else:
            c.i = save
        if assign and not self.declared(decl[0]):
            raise self.fail(first.pos, f"undefined variable {go_quote(decl[0])}")
        cmds = self.parse_commands(c, pos, context)
        if not assign:
            self.scopes[-1].extend(decl)
        text = " | ".join(cmd.text for cmd in cmds)
        if decl:
            text = f"{', '.join(decl)} {'=' if assign else ':='} {text}"
        return Node("pipe", pos, text=text, args=cmds, decl=decl, assign=assign)

    def unquote(self, body: str, pos: int) -> str:
        try:
            return _unquote(body)
        except (ValueError, OverflowError):
            raise self.fail(pos, "invalid syntax") from None

    def declared(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def parse_commands(self, c: _Cursor, pos: int, context: str, *, closing: str = "") -> list[Node]:
        cmds: list[Node] = []
        while True:
            operands: list[Node] = []
            while True:
                c.skip_space()
                tok = c.peek()
                if tok is None or tok.kind in ("|", ")"):
                    break
                node = self.operand(c)
                if node is None:
                    raise self.fail(tok.pos, f"unexpected {go_quote(tok.value)} in {context}")
                operands.append(node)
                nxt = c.peek()
                if nxt is not None and nxt.kind not in ("space", "|", ")"):
                    raise self.fail(nxt.pos, f"unexpected {go_quote(nxt.value)} in operand")
            if not operands:
                raise self.fail(pos, f"missing value for {context}")
            cmds.append(Node("cmd", operands[0].pos, text=" ".join(o.text for o in operands), args=operands))
            tok = c.peek()
            if tok is None:
                if closing:
                    raise self.fail(pos, "unclosed left paren")
                return cmds
            if tok.kind == ")":
                if not closing:
                    raise self.fail(tok.pos, f"unexpected {go_quote(')')} in {context}")
                return cmds
            c.i += 1

    def operand(self, c: _Cursor) -> Node | None:
        node = self.term(c)
        if node is None:
            return None
        tok = c.peek()
        if tok is not None and tok.kind == "field":
            pos, names = tok.pos, []
            while (tok := c.peek()) is not None and tok.kind == "field":
                names.append(c.take().value[1:])
            suffix = "".join("." + n for n in names)
            if node.kind in ("field", "var"):
                return Node(node.kind, pos, node.text + suffix, node.names + names, node.value)
            if node.kind in ("lit", "nil", "dot"):
                raise self.fail(pos, f"unexpected . after term {go_quote(node.text)}")
            return Node("chain", pos, node.text + suffix, names, node)
        return node

    def term(self, c: _Cursor) -> Node | None:
        tok = c.peek()
        if tok is None:
            return None
        kind, value, pos = tok.kind, tok.value, tok.pos
        if kind == "ident":
            c.take()
            if value in ("true", "false"):
                return Node("lit", pos, value, value=value == "true")
            if value == "nil":
                return Node("nil", pos, value)
            if value not in FUNC_ARITY:
                raise self.fail(pos, f"function {go_quote(value)} not defined")
            return Node("func", pos, value, value=value)
        if kind == "dot":
            c.take()
            return Node("dot", pos, ".")
        if kind == "field":
            c.take()
            return Node("field", pos, value, [value[1:]])
        if kind == "var":
            c.take()
            if not self.declared(value):
                raise self.fail(pos, f"undefined variable {go_quote(value)}")
            return Node("var", pos, value, [], value)
        if kind == "string":
            c.take()
            literal = value[1:-1] if value[0] == "`" else self.unquote(value[1:-1], pos)
            return Node("lit", pos, go_quote(literal), value=literal)
        if kind == "char":
            c.take()
            char = self.unquote(value[1:-1], pos)
            if len(char) != 1:
                raise self.fail(pos, f"malformed character constant: {value}")
            return Node("lit", pos, value, value=ord(char))
        if kind == "number":
            c.take()
            return Node("lit", pos, value, value=_number(value, self, pos))
        if kind == "(":
            c.take()
            cmds = self.parse_commands(c, pos, "parenthesized pipeline", closing=")")
            c.take()
            pipe = Node("pipe", pos, text=" | ".join(cmd.text for cmd in cmds), args=cmds)
            return Node("paren", pos, f"({pipe.text})", pipe=pipe)
        return None


def _number(text: str, parser: _Parser, pos: int) -> int | float:
    clean = text.replace("_", "")
    try:
        if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", clean):
            return int(clean, 16)
        return int(clean) if re.fullmatch(r"[+-]?[0-9]+", clean) else float(clean)
    except ValueError:
        raise parser.fail(pos, f"bad number syntax: {go_quote(text)}") from None


def _go_quote_rune(ch: str) -> str:
    return "'\\''" if ch == "'" else f"'{ch}'" if ch.isprintable() else go_quote(ch).replace('"', "'")


class _Cursor:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks, self.i = toks, 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def skip_space(self) -> None:
        while (tok := self.peek()) is not None and tok.kind == "space":
            self.i += 1

    def next_word(self) -> _Tok | None:
        self.skip_space()
        return self.take() if self.peek() is not None else None


@dataclass
class Template:
    """A parsed Go template."""

    source: str
    nodes: list[Node]


def parse_template(template: str, *, prefix: str = "Template parsing error: ") -> Template:
    """Parse a Go template; raises TemplateError ("Template parsing error: template: :1: …")."""
    try:
        return Template(template, _Parser(template).parse())
    except TemplateError as e:
        raise TemplateError(e.detail, prefix) from None
