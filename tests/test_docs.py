"""The documentation, tested like code (no JVM, no Docker): every `./lab`
command it shows parses against the real tasks, every task answers --help,
every relative link and anchor resolves, every SPARKLAB_* variable the code
reads is documented, and the generated command-line reference is current."""

from __future__ import annotations

import contextlib
import copy
import io
import re
import shlex
from pathlib import Path

import pytest
from invoke import Program
from invoke.parser import Parser

import tasks
from cluster.cli_reference import REFERENCE, render
from jobs.options import JOBS

ROOT = Path(tasks.ROOT)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
CONFIGURATION = ROOT / "docs" / "reference" / "configuration.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.M | re.S)
INLINE_CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
# Placeholders a page writes for "any task" or "any job": each stands for every name it covers.
PLACEHOLDERS = {"TASK": sorted(tasks.ns.tasks), "JOB": list(JOBS)}


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def lab_commands(text: str) -> list[str]:
    """Every `./lab ...` command in a page: shell lines of its code blocks and its inline code."""
    shell_lines = []
    for language, body in FENCE.findall(text):
        if language.strip() in ("", "sh", "bash", "shell", "console"):
            shell_lines += body.splitlines()
    prose = FENCE.sub("", text)
    spans = [" ".join(span.split()) for span in INLINE_CODE.findall(prose)]
    commands = []
    for line in [*shell_lines, *spans]:
        words = line.split("#", 1)[0] if "#" in line and " #" in line else line  # a shell comment
        for part in re.split(r"&&|\|\||;|\|", words):
            part = re.sub(r"^\s*(?:[A-Z_]+=\S*\s+)*", "", part)  # VAR=value before the command
            if part.startswith("./lab ") or part.strip() == "./lab":
                commands.append(part.strip())
    return commands


def expanded(command: str) -> list[list[str]]:
    words = shlex.split(command)[1:] or ["--list"]  # `./lab` alone lists the tasks
    if words and words[0] in PLACEHOLDERS:
        return [[name, *words[1:]] for name in PLACEHOLDERS[words[0]]]
    return [words]


# The generated reference's usage lines are the parsers' own, with [OPTIONAL] brackets.
COMMAND_PAGES = [page for page in PAGES if page != REFERENCE]
DOC_COMMANDS = sorted(
    {(relative(page), command) for page in COMMAND_PAGES for command in lab_commands(page.read_text())}
)


def test_the_docs_show_the_main_commands():
    shown = {command for _, command in DOC_COMMANDS}
    for command in (
        "./lab demo",
        "./lab test",
        "./lab down --volumes",
        "./lab stop --all",
        "./lab logs master worker",
    ):
        assert command in shown, command


@pytest.mark.parametrize(("page", "command"), DOC_COMMANDS)
def test_every_lab_command_in_the_docs_parses(page, command):
    contexts = copy.deepcopy(tasks.ns).to_contexts()
    for words in expanded(command):
        parser = Parser(initial=Program().initial_context, contexts=contexts)
        parsed = parser.parse_argv(words)  # raises (one line, exit 2) on anything the tasks refuse
        named = [context.name for context in parsed[1:]]
        assert named or parsed[0].args.list.value or parsed[0].args.help.value, f"{page}: {command}"


@pytest.mark.parametrize("name", sorted(tasks.ns.tasks))
def test_every_task_prints_its_help_and_exits_0(name):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.raises(SystemExit) as exit_:
        Program(namespace=copy.deepcopy(tasks.ns), binary="lab").run(["lab", name, "--help"])
    assert exit_.value.code == 0
    assert printed.getvalue().startswith(f"Usage: ./lab {name}"), printed.getvalue()[:200]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


LINKS = sorted(
    {
        (relative(page), target)
        for page in PAGES
        for target in LINK.findall(INLINE_CODE.sub("", FENCE.sub("", page.read_text())))
        if not re.match(r"[a-z]+:", target)
    }
)


def test_the_pages_have_links_to_check():
    assert len(LINKS) > 50


@pytest.mark.parametrize(("page", "target"), LINKS)
def test_every_relative_link_and_anchor_resolves(page, target):
    path, _, anchor = target.partition("#")
    resolved = (ROOT / page).parent / path if path else ROOT / page
    assert resolved.exists(), f"{page}: {target} -> {resolved} does not exist"
    if anchor:
        assert anchor in anchors(resolved), f"{page}: no heading #{anchor} in {relative(resolved.resolve())}"


def code_files() -> list[Path]:
    """Where SparkLab's code reads its settings: not the tests' own made-up names."""
    files = [ROOT / name for name in (".env", "lab", "tasks.py", "docker-compose.yml")]
    files += [
        path for path in (ROOT / "cluster").rglob("*") if path.is_file() and "__pycache__" not in path.parts
    ]
    files += sorted((ROOT / "jobs").rglob("*.py")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    return [*files, ROOT / "tests" / "conftest.py", ROOT / "tests" / "cluster_fixture.py"]


def test_every_setting_the_code_reads_is_in_the_configuration_reference():
    read = set()
    for path in code_files():
        read |= {
            name.rstrip("_") for name in re.findall(r"SPARKLAB_[A-Z0-9_]+", path.read_text(errors="replace"))
        }
    assert len(read) > 30
    documented = set(re.findall(r"SPARKLAB_[A-Z0-9_]+", CONFIGURATION.read_text()))
    assert sorted(read - documented) == []


def test_the_command_line_reference_is_current():
    assert REFERENCE.read_text() == render(tasks.ns, tasks.GROUPS), "run ./lab reference"


def test_the_readme_fits_two_screens():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 120


@pytest.mark.parametrize("page", [relative(page) for page in PAGES])
def test_no_page_tells_how_the_project_was_built(page):
    text = (ROOT / page).read_text().lower()
    story = re.findall(
        r"\b(?:previous|this|later|earlier|last) session\b|tried and dropped|goal (?:is )?(?:not )?met", text
    )
    assert story == []
