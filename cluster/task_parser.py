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
(`./lab stop [APP] [--options]`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import invoke
from invoke import Exit, Task
from invoke.parser import parser as invoke_parser
from invoke.parser.context import ParserContext
from invoke.program import Program

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
