"""pflag's flag parsing and cobra's command tree, usage lines and errors, as docker/cli configures them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from topology.docker.clierrors import CliError
from topology.docker.envfile import ClientSide
from topology.docker.gotext import GoError, go_bool, go_int, go_quote, go_quote_byte
from topology.docker.model import Version
from topology.docker.requests import Request

_FLAG_LINE = re.compile(
    r"(?:-(?P<short>\S) +)?--(?P<name>[a-z0-9-]+)(?:=(?P<dest>[a-z_]+))? +"
    r"(?P<kind>bool|string|int|list|map|strings|filter)(?:=(?P<default>\S+))?(?: +(?P<help>.*))?"
)
IGNORED = "(accepted; not emulated by the lab)"


@dataclass(frozen=True)
class Flag:
    """One flag of a command, as declared in a flag table line."""

    name: str
    kind: str  # bool | string | int | list | map | strings
    short: str = ""
    help: str = ""  # "-": hidden from --help
    dest: str = ""
    default: str = ""
    check: Callable[[str], str] | None = None

    @property
    def key(self) -> str:
        return self.dest or self.name.replace("-", "_")

    @property
    def display(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"

    def initial(self) -> object:
        if self.kind == "bool":
            return self.default == "true"
        if self.kind == "int":
            return int(self.default or 0)
        return self.default if self.kind == "string" else {"map": {}}.get(self.kind, [])


def flag_table(spec: str, checks: Mapping[str, Callable[[str], str]] | None = None) -> tuple[Flag, ...]:
    """Flags from lines like Docker's --help: `-p --publish list Publish…` (`--x=key`; help `~`: ignored)."""
    flags = []
    for line in filter(None, map(str.strip, spec.splitlines())):
        m = _FLAG_LINE.fullmatch(line)
        assert m is not None, line
        help_text = IGNORED if m["help"] == "~" else m["help"] or ""
        check = (checks or {}).get(m["name"])
        flags.append(
            Flag(
                m["name"], m["kind"], m["short"] or "", help_text, m["dest"] or "", m["default"] or "", check
            )
        )
    return tuple(flags)


@dataclass
class Parsed:
    """The flag values, the flags given and the positional arguments of one command line."""

    values: dict[str, object]
    changed: set[str]
    args: list[str]
    version: Version
    client: ClientSide = field(default_factory=ClientSide)  # the CLI's side: its environment and files


@dataclass
class Command:
    """A cobra command: its use line, flags, argument rule, request builder and subcommands."""

    name: str
    use: str  # after the name: "[OPTIONS] IMAGE [COMMAND] [ARG...]"
    short: str
    flags: tuple[Flag, ...] = ()
    args: tuple[int, int | None] = (0, 0)
    build: Callable[[Command, Parsed], Request] | None = None
    interspersed: bool = True
    aliases: tuple[str, ...] = ()
    subcommands: dict[str, Command] = field(default_factory=dict)
    parent: Command | None = None

    @property
    def path(self) -> str:
        return f"{self.parent.path} {self.name}" if self.parent else self.name

    @property
    def use_line(self) -> str:
        own = f"{self.name} {self.use}".rstrip()
        return f"{self.parent.path} {own}" if self.parent else own

    def find(self, name: str) -> Command | None:
        return next((c for c in self.subcommands.values() if name == c.name or name in c.aliases), None)

    def flag(self, name: str = "", short: str = "") -> Flag | None:
        return next(
            (f for f in self.flags if (name and f.name == name) or (short and f.short == short)), None
        )

    def adopt(self, *children: Command) -> Command:
        for child in children:
            child.parent = self
            self.subcommands[child.name] = child
        return self


def parse_flags(cmd: Command, argv: list[str], version: Version) -> tuple[Parsed, bool]:
    """Parse argv as pflag does for `cmd`; returns the values and whether help was asked for."""
    values = {f.key: _fresh(f.initial()) for f in cmd.flags}
    parsed = Parsed(values, set(), [], version)
    wants_help = False
    i = 0
    while i < len(argv):
        s = argv[i]
        i += 1
        if len(s) < 2 or s[0] != "-":
            parsed.args.append(s)
            if not cmd.interspersed:
                parsed.args.extend(argv[i:])
                break
            continue
        if s == "--":
            parsed.args.extend(argv[i:])
            break
        if s.startswith("--"):
            name, eq, value = s[2:].partition("=")
            if s[2] in "-=":
                raise flag_error(cmd, f"bad flag syntax: {s}", version)
            flag = cmd.flag(name=name)
            if flag is None or flag.name == "help":
                if name != "help":
                    raise flag_error(cmd, f"unknown flag: --{name}", version)
                wants_help = _help_value(cmd, value, version) if eq else True
                continue
            if not eq:
                if flag.kind == "bool":
                    value = "true"
                elif i < len(argv):
                    value, i = argv[i], i + 1
                else:
                    raise flag_error(cmd, f"flag needs an argument: {s}", version)
            _set(cmd, parsed, flag, value)
            continue
        shorts = s[1:]
        while shorts:
            c = shorts[0]
            flag = cmd.flag(short=c)
            if flag is None:
                if c != "h":
                    raise flag_error(cmd, f"unknown shorthand flag: {go_quote_byte(c)} in -{shorts}", version)
                wants_help, shorts = True, shorts[1:]
                continue
            if len(shorts) > 2 and shorts[1] == "=":
                value, shorts = shorts[2:], ""
            elif flag.kind == "bool":
                value, shorts = "true", shorts[1:]
            elif len(shorts) > 1:
                value, shorts = shorts[1:], ""
            elif i < len(argv):
                value, shorts, i = argv[i], "", i + 1
            else:
                raise flag_error(cmd, f"flag needs an argument: {go_quote_byte(c)} in -{shorts}", version)
            _set(cmd, parsed, flag, value)
    return parsed, wants_help


def _fresh(value: object) -> object:
    return type(value)() if isinstance(value, list | dict) else value


def _help_value(cmd: Command, value: str, version: Version) -> bool:
    try:
        return go_bool(value)
    except GoError as e:
        raise flag_error(cmd, f'invalid argument {go_quote(value)} for "--help" flag: {e}', version) from None


def _set(cmd: Command, parsed: Parsed, flag: Flag, value: str) -> None:
    values, key = parsed.values, flag.key
    try:
        if flag.kind == "bool":
            values[key] = go_bool(value)
        elif flag.kind == "int":
            values[key] = go_int(value)
        elif flag.kind in ("list", "filter"):
            values[key].append(flag.check(value) if flag.check else value)
        elif flag.kind == "map":
            k, _, v = value.partition("=")
            values[key][k] = v
        elif flag.kind == "strings":
            if key not in parsed.changed:
                values[key] = []
            values[key].extend(value.split(",") if value else [])
        else:
            values[key] = value
    except GoError as e:
        raise flag_error(
            cmd, f"invalid argument {go_quote(value)} for {go_quote(flag.display)} flag: {e}", parsed.version
        ) from None
    parsed.changed.add(key)


# -- cobra's error and help texts -------------------------------------------------------------


def flag_error(cmd: Command, err: str, version: Version) -> CliError:
    """docker/cli's FlagErrorFunc: exit 125."""
    if version == "19.03":
        usage = "\n\n" + help_text(cmd, version).strip("\n") if cmd.subcommands else ""
        return CliError(f"{err}\nSee '{cmd.path} --help'.{usage}", 125)
    return CliError(f"{err}\n\nUsage:  {cmd.use_line}\n\nRun '{cmd.path} --help' for more information", 125)


def args_error(cmd: Command, got: int, version: Version) -> CliError | None:
    """docker/cli's NoArgs/RequiresMinArgs/RequiresMaxArgs/RequiresRangeArgs/ExactArgs; exit 1."""
    low, high = cmd.args
    if low <= got and (high is None or got <= high):
        return None
    old = version == "19.03"

    def plural(n: int) -> str:
        return "argument" if n == 1 else "arguments"

    see = "Run"
    if (low, high) == (0, 0):
        phrase = "accepts no arguments"
    elif high is None:
        phrase, see = f"requires at least {low} {plural(low)}", "See"
    elif low == 0:
        phrase = f"requires at most {high} {plural(high)}"
    elif low == high:
        phrase = f"requires exactly {low} {plural(low)}" if old else f"requires {low} {plural(low)}"
    else:
        phrase = f"requires at least {low} and at most {high} {plural(high)}"
    if old:
        return CliError(
            f"\"{cmd.path}\" {phrase}.\nSee '{cmd.path} --help'.\n\nUsage:  {cmd.use_line}\n\n{cmd.short}", 1
        )
    usage = f"Usage:  {cmd.use_line}"
    return CliError(
        f"docker: '{cmd.path}' {phrase}\n\n{usage}\n\n{see} '{cmd.path} --help' for more information", 1
    )


def unknown_command(group: Command, name: str, version: Version) -> CliError:
    """cobra's error for an unknown subcommand of `group`."""
    if group.parent is None:
        if version == "19.03":
            return CliError(f"docker: '{name}' is not a docker command.\nSee 'docker --help'", 1)
        return CliError(
            f"docker: unknown command: docker {name}\n\nRun 'docker --help' for more information", 1
        )
    if version == "19.03":
        return CliError("\n" + help_text(group, version).strip("\n"), 1)
    usage, see = f"Usage:  {group.use_line}", f"Run '{group.path} --help' for more information"
    return CliError(f"docker: unknown command: {group.path} {name}\n\n{usage}\n\n{see}", 1)


def help_text(cmd: Command, version: Version) -> str:
    """A short version of cobra's usage template for `cmd` (what `--help` prints)."""
    sep = "\t" if version == "19.03" else "  "
    if cmd.subcommands:
        opts = " [OPTIONS]" if cmd.parent is None else ""
        lines = ["", f"Usage:{sep}{cmd.path}{opts} COMMAND", "", cmd.short]
    else:
        lines = ["", f"Usage:{sep}{cmd.use_line}", "", cmd.short]
    shown = sorted(
        (f for f in cmd.flags if f.help not in ("", "-", IGNORED) and f.name != "help"), key=lambda f: f.name
    )
    if shown:
        rows = [
            (f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}")
            + ("" if f.kind == "bool" else " " + f.kind)
            for f in shown
        ]
        width = max(len(r) for r in rows) + 3
        lines += ["", "Options:", *(r.ljust(width) + f.help for r, f in zip(rows, shown, strict=True))]
    groups = [c for c in cmd.subcommands.values() if c.subcommands]
    plain = [c for c in cmd.subcommands.values() if not c.subcommands]
    for title, subs in (("Management Commands:", groups), ("Commands:", plain)):
        if subs:
            pad = max(11, *(len(c.name) for c in subs))
            lines += [
                "",
                title,
                *(f"  {c.name.ljust(pad)} {c.short}" for c in sorted(subs, key=lambda c: c.name)),
            ]
    if cmd.subcommands:
        lines += ["", f"Run '{cmd.path} COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"
