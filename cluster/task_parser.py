"""invoke's command line, fitted to SparkLab's (host only).

`./lab` runs invoke, which imports tasks.py, which calls `install` before
invoke parses the words after the task's name. invoke 3 parses most of
SparkLab's command line as it is; `install` changes four things:

- Positional arguments are optional (a task refuses a missing one itself, in
  one line), `-h` and `--help` after a task's name always ask for its help,
  and a positional argument of kind list takes every word up to the next
  option (`./lab logs master worker`). invoke requires every positional and
  fills it with the next word whatever it is: `./lab stop --help` was an
  application named "--help".
- A list option takes every word up to the next option, as argparse's
  `nargs="+"` does (`--input a.txt b.txt`); repeating the option still adds.
- An option's type is declared (`task(kinds=...)`), not only guessed from its
  default: an option whose default means "unset" is still an INT or a FLOAT,
  a value that is not one is refused, and the help says which.
- A parse error is one line, `TASK: what is wrong (what to run)`, exit 2, as
  every other refusal (`tasks.one_line_errors`), instead of exit 1.

`--list` prints the tasks in groups, and a task's help starts with its usage
(`./lab stop [APP] [--options]`). `one_line_errors` is the one place a
JobError becomes exit 2; `job_task` makes a job's task from its parser.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import invoke
from invoke import Exit, Task
from invoke.parser import parser as invoke_parser
from invoke.parser.context import ParserContext
from invoke.program import Program

from jobs.errors import JobError, Terminated, interrupt_exit_code, raise_on_sigterm

HELP_FLAGS = ("-h", "--help")
VALUE_NAMES = {float: "FLOAT", list: "STRING ..."}
KIND_WORDS = {int: "a whole number", float: "a number"}


class TypedTask(Task):
    """A task whose options' kinds are declared, not only guessed from defaults."""

    def __init__(self, body: Callable, *, kinds: Mapping[str, type] | None = None, **kwargs: Any) -> None:
        self.kinds = dict(kinds or {})
        kwargs.setdefault("auto_shortflags", False)  # no short flag means one thing here, another there
        super().__init__(body, **kwargs)

    def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
        opts = super().arg_opts(name, default, taken_names)
        if name in self.kinds:
            opts["kind"] = self.kinds[name]
        return opts


def task(*args: Any, **kwargs: Any) -> Callable | Task:
    """invoke's `@task`, making TypedTasks: `@task` or `@task(kinds={"workers": int}, help=...)`."""
    kwargs.setdefault("klass", TypedTask)
    return invoke.task(*args, **kwargs)


def command(*args: Any, **kwargs: Any) -> Callable | Task:
    """`@task` of a body under `one_line_errors`: `@command` or `@command(help=...)`."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return task(one_line_errors(args[0]))
    return lambda body: task(*args, **kwargs)(one_line_errors(body))


class SparkLabParseMachine(invoke_parser.ParseMachine):
    """invoke's parse machine with the changes the module docstring lists."""

    def handle(self, token: str) -> None:
        context = self.context
        in_a_task = self.current_state != "unknown" and context is not None and context is not self.initial
        if not in_a_task or token in context.flags or token in context.inverse_flags:
            super().handle(token)
        elif token in HELP_FLAGS:
            self.initial.flags[token].value = context.name  # what invoke does when no positional waits
        elif self.flag is not None and self.flag.kind is list and not token.startswith("-"):
            self.see_value(token)  # a list option's next value (its first came through the super call)
        elif self.waiting_for_flag_value or token.startswith("-"):
            super().handle(token)
        elif (open_positional := _open_positional(context)) is not None:
            open_positional.value = token
        else:
            super().handle(token)

    def see_value(self, value: Any) -> None:
        try:
            super().see_value(value)
        except ValueError:
            kind = KIND_WORDS.get(self.flag.kind, self.flag.kind.__name__)
            self.error(f"--{self.flag.name.replace('_', '-')} takes {kind}, not {value!r}")

    def complete_flag(self) -> None:
        if self.flag is not None and self.flag.kind is list and not self.flag_got_value:
            self.error(f"--{self.flag.name.replace('_', '-')} needs at least one value")
        super().complete_flag()

    def complete_context(self) -> None:
        # As invoke's, without refusing a missing positional: the task says what it needs.
        if self.context and self.context not in self.result:
            self.result.append(self.context)

    def error(self, msg: str) -> None:
        name = self.context.name if self.context is not None and self.context.name else None
        if name:
            raise Exit(f"{name}: {msg.rstrip('!')} (`./lab {name} --help` shows its options)", code=2)
        raise Exit(f"lab: {msg.rstrip('!')} (`./lab --list` shows the tasks)", code=2)


# invoke's state machine library gives each class its own (empty) states: share the parent's.
SparkLabParseMachine._class_states = dict(invoke_parser.ParseMachine._class_states)
SparkLabParseMachine._class_transitions = list(invoke_parser.ParseMachine._class_transitions)


def _open_positional(context: ParserContext) -> Any:
    """The positional argument the next plain word fills: the first unset one, else a list one."""
    for argument in context.positional_args:
        if argument.kind is list or argument.value is None:
            return argument
    return None


def help_for(context: ParserContext, flag: str) -> tuple[str, str]:
    """invoke's flag help, with FLOAT and list values shown (invoke shows them as switches)."""
    names, text = _INVOKE_HELP_FOR(context, flag)
    kind = context.flags[flag].kind
    if kind in (float, list):  # invoke shows STRING and INT itself
        names = ", ".join(f"{name}={VALUE_NAMES[kind]}" for name in names.split(", "))
    return names, text


def usage(name: str, context: ParserContext) -> str:
    """`./lab NAME [POSITIONAL] [--options]`, the first line of a task's help."""
    words = ["./lab", name]
    for argument in context.positional_args:
        shown = argument.name.upper()
        words.append(f"[{shown} ...]" if argument.kind is list else f"[{shown}]")
    if len(context.flags) > len(context.positional_args):
        words.append("[--options]")
    if name in _TAKES_WORDS_AFTER_DASHES:
        words.append("[-- ARGS ...]")
    return " ".join(words)


def install(
    groups: Sequence[tuple[str, Sequence[str]]], takes_words_after_dashes: Sequence[str] = ()
) -> None:
    """Fit invoke's parser and help to SparkLab; `groups`: (title, task names) in `--list` order;
    `takes_words_after_dashes`: the tasks whose usage shows `[-- ARGS ...]`."""
    _TAKES_WORDS_AFTER_DASHES.update(takes_words_after_dashes)
    invoke_parser.ParseMachine = SparkLabParseMachine
    ParserContext.help_for = help_for
    Program.list_flat = lambda program: print_grouped_list(program, groups)
    Program.print_task_help = print_task_help


def print_grouped_list(program: Program, groups: Sequence[tuple[str, Sequence[str]]]) -> None:
    tasks = program.scoped_collection.tasks
    listed = {name for _, names in groups for name in names}
    others = sorted(set(tasks) - listed)
    print("SparkLab's tasks, by purpose. `./lab TASK --help` shows a task's options.")
    for title, names in [*groups, *([("Other", others)] if others else [])]:
        print(f"{title}:")
        program.print_columns([(name, first_line(tasks[name])) for name in names])


def first_line(body: Task) -> str:
    return (inspect.getdoc(body) or "").split("\n\n")[0].replace("\n", " ")


def print_task_help(program: Program, name: str) -> None:
    context = program.parser.contexts[name]
    print(f"Usage: {usage(name, context)}\n")
    print(program.leading_indent + (inspect.getdoc(program.collection[name]) or "").replace("\n", "\n  "))
    print("\nOptions:")
    tuples = context.help_tuples()
    if tuples:
        program.print_columns(tuples)
    else:
        print(program.leading_indent + "none")


_INVOKE_HELP_FOR = ParserContext.help_for
_TAKES_WORDS_AFTER_DASHES: set[str] = set()

# The tasks that take words after `--` (a script's own arguments).
TAKES_WORDS_AFTER_DASHES = ("submit",)


def after_dashes(c) -> list[str]:
    """The words after `--` on the command line, as given (invoke's
    `c.remainder` is them joined by spaces, which loses their quoting)."""
    remainder = getattr(c, "remainder", "") or ""
    if remainder and "--" in sys.argv:
        return sys.argv[sys.argv.index("--") + 1 :]
    return shlex.split(remainder)


def one_line_errors(body):
    """The one place a JobError (bad input, missing cluster) becomes a clean exit 2,
    and Ctrl-C or SIGTERM a clean 130 or 143."""

    @functools.wraps(body)
    def wrapper(c, *args, **kwargs):
        name = body.__name__.rstrip("_")
        raise_on_sigterm()
        extra = [] if name in TAKES_WORDS_AFTER_DASHES else after_dashes(c)
        if extra:  # invoke would pass them on to nobody
            raise Exit(
                f"{name}: takes nothing after --, not {shlex.join(extra)!r} (`./lab {name} --help`)", code=2
            )
        try:
            return body(c, *args, **kwargs)
        except JobError as error:
            raise Exit(f"{name}: {error}", code=2) from None
        except PermissionError as error:  # e.g. results/ not writable
            where = f": {error.filename}" if error.filename else ""
            raise Exit(f"{name}: {error.strerror or error}{where}; make it writable", code=2) from None
        except (KeyboardInterrupt, Terminated) as stop:
            raise Exit(f"{name}: interrupted; no result written", code=interrupt_exit_code(stop)) from None

    return wrapper


def job_task(
    job: str, parser: argparse.ArgumentParser, doc: str, on_help: str, run: Callable[[str, str, dict], Any]
) -> Task:
    """An invoke task whose options are the job parser's: forwarded only when set
    (`run(job, on, options)`), with `--on` (its help: `on_help`) first."""
    params = [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params.append(inspect.Parameter("on", inspect.Parameter.KEYWORD_ONLY, default="local"))
    helps, iterable, kinds = {"on": on_help}, [], {}
    for action in parser._actions:
        if action.dest == "help":
            continue
        flag = action.nargs == 0
        # Flags default to False; values to None (unset: argparse's default applies).
        params.append(
            inspect.Parameter(action.dest, inspect.Parameter.KEYWORD_ONLY, default=False if flag else None)
        )
        # A list's default is a path of this checkout: its help names it instead.
        shown = flag or action.default is None or isinstance(action.default, list)
        default = "" if shown else f" (default {action.default})"
        helps[action.dest] = (action.help or "") + default
        if action.nargs in ("+", "*"):
            iterable.append(action.dest)
            helps[action.dest] += "; one or more, up to the next option"
        elif action.type in (int, float):
            kinds[action.dest] = action.type

    def body(c, on="local", **options):
        run(job, on, options)

    body.__name__ = body.__qualname__ = job  # before the wrapper copies it: errors say `gd: ...`
    body = one_line_errors(body)
    body.__doc__ = doc
    body.__signature__ = inspect.Signature(params)
    return TypedTask(body, name=job, help=helps, iterable=iterable, kinds=kinds)
