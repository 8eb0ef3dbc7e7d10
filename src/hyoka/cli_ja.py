"""Japanese for everything the CLI framework prints: help pages, usage lines and usage errors.

typer (and the copy of click it carries) writes its own words in English: ``Usage:``, ``Options:``,
``[required]``, ``Show this message and exit.``, ``Error: Missing option``, metavars such as ``<path>``.
The clerk reads none of them here:

- typer's core looks its words up through ``gettext``: :func:`gettext` answers them in Japanese;
- :class:`JaHelpFormatter` writes headings and usage in Japanese and lays out the option table by
  display columns (a full-width character takes two), wrapping Japanese text where it may break;
- :meth:`JaGroup.main` shows usage errors in Japanese, built from the error's own fields, exit code 2;
- :class:`JaTyper` makes every group and command of the app use them.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
import typer.core
import typer.main
from typer import _click as click  # typer >= 0.29 carries its own copy of click
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path, routes_to_path
from typer.core import TyperCommand, TyperGroup, _TyperParameter
from typer.models import CommandFunctionType

# The words typer's core asks gettext for.
WORDS = {
    "Options": "オプション",
    "Arguments": "引数",
    "Commands": "コマンド",
    "required": "必須",
    "default: {default}": "既定: {default}",
    "env var: {var}": "環境変数: {var}",
    "(dynamic)": "（実行時に決定）",
    "Aborted!": "中断しました。",
    "Missing command.": "コマンドを指定してください。",
    "No such command {name!r}.": "コマンド「{name}」はありません。",
}


def gettext(message: str) -> str:
    return WORDS.get(message, message)


typer.core._ = gettext  # type: ignore[attr-defined]  # typer's core: `from gettext import gettext as _`

HELP_OPTION_TEXT = "このヘルプを表示して終了します"
USAGE_PREFIX = "使い方: "
# The pieces of a usage line click writes in English.
USAGE_WORDS = {"[OPTIONS]": "[オプション]", "COMMAND": "コマンド", "[ARGS]...": "[引数]..."}
# typer's metavars for parameters that have none of their own: <path>, <str>, <list[str]> …
TYPE_WORDS = {
    "path": "パス",
    "file": "ファイル",
    "directory": "フォルダ",
    "str": "文字列",
    "text": "文字列",
    "int": "整数",
    "integer": "整数",
    "float": "数値",
    "bool": "true|false",
    "list[str]": "文字列",
    "list[path]": "パス",
}
_TYPE_METAVAR = re.compile(r"<([a-z][a-z_\[\]]*)>(\.\.\.)?")


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: two for wide and full-width characters, none for combining ones."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@functools.cache
def _char_width(c: str) -> int:
    return 0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1


# Characters a line must not start with (closing brackets and punctuation, kinsoku shori).
_NO_LINE_START = set("、。，．・：；？！）」』】〕］｝〉》ー…ぁぃぅぇぉっゃゅょァィゥェォッャュョ)]},.:;!?%")
_TOKENS = re.compile(r"[!-~]+|\s+|.", re.S)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns: Japanese breaks between any two characters, ASCII between words."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        used = 0  # display_width(line), kept as the line grows (measuring it afresh is quadratic)
        for token in _TOKENS.findall(paragraph):
            if token.isspace():
                if line:
                    line += " "
                    used += 1
                continue
            size = display_width(token)
            if line and used + size > width:
                carry = ""
                if token[0] in _NO_LINE_START and len(line) > 1:
                    # A closing bracket or 、。 must not start a line: the character before goes with it.
                    line, carry = line[:-1], line[-1]
                lines.append(line.rstrip())
                line = carry
                used = display_width(carry)
            line += token
            used += size
        lines.append(line.rstrip())
    return lines


def _term(first: str) -> str:
    """An option table's left column in Japanese: typer's English metavars translated or dropped."""

    def metavar(m: re.Match[str]) -> str:
        word = TYPE_WORDS.get(m.group(1))
        return f"<{word}>{m.group(2) or ''}" if word else m.group(0)

    head, _, tail = first.rpartition(" ")
    # An argument with a Japanese metavar of its own also gets its type appended: drop the type.
    if head and _TYPE_METAVAR.fullmatch(tail) and not head.isascii():
        return head
    return _TYPE_METAVAR.sub(metavar, first)


def _definition(second: str) -> str:
    return second.replace("Show this message and exit.", HELP_OPTION_TEXT)


class JaHelpFormatter(click.HelpFormatter):
    """click's help formatter, in Japanese and measured in display columns."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        words = " ".join(USAGE_WORDS.get(w, w) for w in args.split(" "))
        start = f"{' ' * self.current_indent}{USAGE_PREFIX}{prog} "
        lines = wrap(words, max(self.width - display_width(start), 20))
        indent = " " * display_width(start)
        self.write(start + f"\n{indent}".join(lines) + "\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{WORDS.get(heading, heading)}:\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        paragraphs = re.split(r"\n\s*\n", text.strip())
        out = []
        for paragraph in paragraphs:
            joined = ""
            for line in (line.strip() for line in paragraph.splitlines()):
                # A line break inside Japanese text is no space; between English words it is.
                if joined and display_width(joined[-1]) == 1 and display_width(line[:1]) == 1:
                    joined += " "
                joined += line
            out.append("\n".join(indent + line for line in wrap(joined, self.width - self.current_indent)))
        self.write("\n\n".join(out) + "\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        items = [(_term(first), _definition(second)) for first, second in rows]
        if not items:
            return
        first_col = min(max(display_width(first) for first, _ in items), col_max) + col_spacing
        text_width = max(self.width - self.current_indent - first_col, 20)
        pad = " " * (self.current_indent + first_col)
        for first, second in items:
            self.write(" " * self.current_indent + first)
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + pad)
            lines = wrap(second, text_width)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(pad + line + "\n")


class JaContext(click.Context):
    formatter_class = JaHelpFormatter


# --- usage errors ---------------------------------------------------------------------------------


def _param_name(param: Any) -> str:
    if param is None:
        return "値"
    if getattr(param, "param_type_name", "") == "option":
        return " / ".join(param.opts)
    return str(param.metavar or param.name)


_MESSAGES = [
    (r"Option '(.+)' requires an argument\.", "オプション {0} の後に値を指定してください。"),
    (r"Option '(.+)' requires (\d+) arguments\.", "オプション {0} の後に値を{1}つ指定してください。"),
    (
        r"Option '(.+)' does not take a value\.",
        "オプション {0} には値を付けられません（= 以降を消してください）。",
    ),
    (r"Argument '(.+)' takes (\d+) values\.", "{0} には値を{1}つ指定してください。"),
    (
        r"Got unexpected extra argument\(s\) \((.*)\)",
        '余分な引数があります（{0}）。値に空白を含むときは "…" で囲んでください。',
    ),
    (r"'(.*)' is not a valid integer(?: range)?\.", "「{0}」は整数ではありません。"),
    (r"'(.*)' is not a valid float(?: range)?\.", "「{0}」は数値ではありません。"),
    (r"'(.*)' is not a valid boolean\.", "「{0}」は true か false で指定してください。"),
    (r"(?:File|Directory|Path) '(.*)' does not exist\.", "{0} がありません。"),
    (r"(?:File|Directory|Path) '(.*)' is a file\.", "{0} はファイルです。フォルダを指定してください。"),
    (r"(?:File|Directory|Path) '(.*)' is a directory\.", "{0} はフォルダです。ファイルを指定してください。"),
    (r"(?:File|Directory|Path) '(.*)' is not (?:readable|writable)\.", "{0} を開く権限がありません。"),
]


_VALIDATION = {
    "int_parsing": "「{input}」は整数ではありません。",
    "int_from_float": "「{input}」は整数ではありません。",
    "float_parsing": "「{input}」は数値ではありません。",
    "bool_parsing": "「{input}」は true か false で指定してください。",
    "less_than_equal": "「{input}」は {le} 以下で指定してください。",
    "less_than": "「{input}」は {lt} より小さい値で指定してください。",
    "greater_than_equal": "「{input}」は {ge} 以上で指定してください。",
    "greater_than": "「{input}」は {gt} より大きい値で指定してください。",
}
"""typer (>= 0.29) checks values with pydantic, whose message is English: ours, from the error's fields."""


def _validation_detail(cause: BaseException | None) -> str | None:
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return None
    try:
        first = errors()[0]
        template = _VALIDATION[first["type"]]
        return template.format(input=first.get("input", ""), **first.get("ctx", {}))
    except (LookupError, TypeError, ValueError):
        return None


def _translate(message: str) -> str:
    for pattern, japanese in _MESSAGES:
        m = re.fullmatch(pattern, message.strip())
        if m:
            return japanese.format(*m.groups())
    return message


def usage_error_message(error: click.exceptions.UsageError) -> str:
    """The Japanese message for a usage error, from the error's fields (not its English text)."""
    if isinstance(error, click.exceptions.MissingParameter):
        name = _param_name(error.param)
        what = "オプション " if getattr(error.param, "param_type_name", "") == "option" else ""
        return f"{what}{name} を指定してください。"
    if isinstance(error, click.exceptions.NoSuchOption):
        text = f"オプション {error.option_name} はありません。"
        if error.possibilities:
            text += f"{' か '.join(sorted(error.possibilities))} の書き間違いではありませんか。"
        return text
    if isinstance(error, click.exceptions.BadParameter):
        detail = _validation_detail(error.__cause__) or _translate(error.message)
        return f"{_param_name(error.param)} の値が正しくありません: {detail}"
    # typer adds an English suggestion of its own to an unknown command: ours replaces it.
    message = _translate(re.sub(r"\. Did you mean .*\?$", "", error.message))
    unknown = re.fullmatch(r"コマンド「(.*)」はありません。", message)
    if unknown and error.ctx is not None and isinstance(error.ctx.command, TyperGroup):
        names = list(error.ctx.command.list_commands(error.ctx))
        close = difflib.get_close_matches(unknown.group(1), names, n=1)
        message += (
            f"「{close[0]}」の書き間違いではありませんか。"
            if close
            else f"使えるコマンド: {'、'.join(names)}"
        )
    return message


def show_usage_error(error: click.exceptions.UsageError) -> None:
    ctx = error.ctx
    if ctx is not None:
        typer.echo(ctx.get_usage(), err=True)
        if ctx.command.get_help_option(ctx) is not None:
            typer.echo(f"説明は `{ctx.command_path} {ctx.help_option_names[0]}` で表示できます。\n", err=True)
    typer.echo(f"エラー: {usage_error_message(error)}", err=True)


# --- values without pydantic ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlainParam(RuntimeParam):
    """typer's coercion of a ``str``, ``bool`` or ``Path`` parameter (or a list of them), without pydantic.

    typer (>= 0.29) coerces every value through a pydantic ``TypeAdapter``: importing pydantic and
    building the adapters is most of a command's start-up (0.1–0.2 s of every ``hyoka`` process, more
    than some commands' work). For these types the adapters come down to typer's own path checks
    (:func:`coerce_cli_path`, the same messages) and ``Path(value)``; anything else — numbers with
    their range messages, choices, parsers — goes to typer's own coercion as before.
    """

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        annotation: Any = self.annotation
        if get_origin(annotation) is list:
            (item,) = get_args(annotation)
            values = value if isinstance(value, (list, tuple)) else [value]
            return [self._one(item, v, param, ctx) for v in values]
        return self._one(annotation, value, param, ctx)

    def _one(self, annotation: Any, value: Any, param: Any, ctx: Any) -> Any:
        if annotation is str and isinstance(value, str):
            return value
        if annotation is bool and isinstance(value, bool):
            return value
        if annotation is Path and routes_to_path(annotation, self.parameter_info) and isinstance(value, str):
            path_type = self.parameter_info.path_type or Path
            return coerce_cli_path(
                Path(value), self.parameter_info, path_type=path_type, param=param, ctx=ctx
            )
        desc = replace(param.type_descriptor, annotation=annotation)
        return build_runtime_param(desc)._coerce_value(value, param=param, ctx=ctx)


def _plain(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        args = get_args(annotation)
        return len(args) == 1 and _plain(args[0])
    return annotation in (str, bool, Path)


def use_plain_param(p: Any) -> None:
    """Give a str/bool/Path parameter :class:`PlainParam` (others keep typer's coercion)."""
    if isinstance(p, _TyperParameter) and p._runtime_param is None:
        desc = p.type_descriptor
        if _plain(desc.annotation) and desc.parameter_info.parser is None and desc.file_annotation is None:
            p._runtime_param = PlainParam(parameter_info=desc.parameter_info, annotation=desc.annotation)


class _PlainParams(click.Command):
    """A command or group whose parameters (and help option) are coerced by :class:`PlainParam`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for p in self.params:
            use_plain_param(p)

    def get_help_option(self, ctx: click.Context) -> Any:
        option = super().get_help_option(ctx)
        use_plain_param(option)
        return option


class JaCommand(_PlainParams, TyperCommand):
    context_class = JaContext


class JaGroup(_PlainParams, TyperGroup):
    """A group whose help and usage errors speak Japanese (and whose subcommands do too)."""

    context_class = JaContext

    def built(self, name: str) -> click.Command | None:
        """The subcommand ``name``, built now if it was waiting (:class:`LazyCommand`)."""
        cmd = self.commands.get(name)
        if isinstance(cmd, LazyCommand):
            cmd = self.commands[name] = cmd.build()
        return cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.built(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """typer's listing of the subcommands, from their names and short help (nothing is built)."""
        listed = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name)
            if cmd is None or cmd.hidden:
                continue
            listed.append((name, cmd))
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            rows = [(name, cmd.get_short_help_str(limit)) for name, cmd in listed]
            with formatter.section(gettext("Commands")):
                formatter.write_dl(rows)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            if not standalone_mode:
                raise
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.UsageError as exc:
            if not standalone_mode:
                raise
            show_usage_error(exc)
            sys.exit(exc.exit_code)
        except click.exceptions.ClickException as exc:
            if not standalone_mode:
                raise
            typer.echo(f"エラー: {_translate(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            typer.echo("中断しました。", err=True)
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


class JaTyper(typer.Typer):
    """A Typer app whose groups and commands use the Japanese help and errors above."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", JaGroup)
        kwargs.setdefault("rich_markup_mode", None)  # rich's help would bypass the formatter
        super().__init__(**kwargs)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or JaCommand, **kwargs)


def commands(
    root: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command and group under ``root``, with its path (for tests and docs), each built whole."""
    yield path, root
    group = root if isinstance(root, JaGroup) else None
    for name in list(getattr(root, "commands", {})):
        sub = group.built(name) if group is not None else root.commands[name]  # type: ignore[attr-defined]
        assert sub is not None
        yield from commands(sub, (*path, name))


# --- commands built when they are used ------------------------------------------------------------------


class LazyCommand(TyperCommand):
    """A command's name and help, its parameters read from its function only when it is used.

    typer reads every command's signature and annotations when the app starts (22 commands: a good
    part of ``hyoka --help`` and of every other command's start-up). The group's listing needs the
    names and the short help only; the command that runs, or whose own help is shown, is built then,
    by typer, exactly as it would have been."""

    def __init__(self, name: str, build: Callable[[], click.Command], **attrs: Any) -> None:
        super().__init__(name, rich_markup_mode=None, **attrs)
        self.build = build


_typer_command_from_info = typer.main.get_command_from_info


def _command_from_info(command_info: Any, **kwargs: Any) -> click.Command:
    cls = command_info.cls
    if not (isinstance(cls, type) and issubclass(cls, JaCommand)):
        return _typer_command_from_info(command_info, **kwargs)
    # The name and help as typer's get_command_from_info gives them.
    name = command_info.name or typer.main.get_command_name(command_info.callback.__name__)
    help_text = command_info.help
    help_text = inspect.getdoc(command_info.callback) if help_text is None else inspect.cleandoc(help_text)
    return LazyCommand(
        name,
        lambda: _typer_command_from_info(command_info, **kwargs),
        help=help_text,
        short_help=command_info.short_help,
        hidden=command_info.hidden,
        deprecated=command_info.deprecated,
    )


typer.main.get_command_from_info = _command_from_info  # typer's group builder looks it up here
