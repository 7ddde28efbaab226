"""jobs.runtime.session: what is zipped for the executors (no Spark), and the local JVM's options."""

import ast
from pathlib import Path

import pytest

from jobs.runtime.session import PACKAGE_DIR, executor_modules
from jobs.runtime.standalone import megabytes


def test_the_executors_get_the_fit_the_data_table_and_the_jobs():
    shipped = set(executor_modules())
    for module in (
        "jobs/__init__.py",
        "jobs/errors.py",
        "jobs/wordcount.py",
        "jobs/gd.py",
        "jobs/cv.py",
        "jobs/fit/__init__.py",
        "jobs/fit/kernels.py",
        "jobs/fit/loop.py",
        "jobs/fit/allreduce.py",
        "jobs/data/rows.py",
        "jobs/data/table.py",
    ):
        assert module in shipped, module


def test_the_host_only_modules_never_reach_the_executors():
    shipped = executor_modules()
    for module in shipped:
        assert not module.startswith(("jobs/report/", "jobs/bench/")), module
    for module in ("jobs/cli.py", "jobs/__main__.py", "jobs/data/download.py"):
        assert module not in shipped, module
    on_disk = {p.relative_to(PACKAGE_DIR.parent).as_posix() for p in PACKAGE_DIR.rglob("*.py")}
    assert {"jobs/report/charts.py", "jobs/bench/suite.py", "jobs/cli.py"} <= on_disk  # still there


def test_executor_modules_filters_any_package_tree(tmp_path):
    package = tmp_path / "pkg"
    for name in (
        "__init__.py",
        "__main__.py",
        "cli.py",
        "gd.py",
        "fit/kernels.py",
        "bench/__main__.py",
        "bench/suite.py",
        "report/charts.py",
        "data/download.py",
        "data/table.py",
        "data/notes.txt",
    ):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("")
    assert executor_modules(package) == [
        "pkg/__init__.py",
        "pkg/data/table.py",
        "pkg/fit/kernels.py",
        "pkg/gd.py",
    ]


def _top_level_jobs_imports(path: Path) -> set[str]:
    """Modules of `jobs` a file imports when it is imported (not inside functions)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "jobs":
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "jobs")
    return found


def test_what_the_executors_get_imports_only_what_they_get():
    shipped = executor_modules()
    as_modules = {m.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for m in shipped}
    for module in shipped:
        for imported in _top_level_jobs_imports(PACKAGE_DIR.parent / module):
            is_module = any(
                (PACKAGE_DIR.parent / imported.replace(".", "/")).with_suffix(suffix).exists()
                for suffix in (".py", "")
            )
            if is_module:
                assert imported in as_modules, f"{module} imports {imported}, which is not shipped"


@pytest.mark.parametrize(
    ("size", "mb"),
    [("768m", 768), ("1g", 1024), ("2G", 2048), ("512mb", 512), ("1t", 1024 * 1024), (str(3 * 2**20), 3)],
)
def test_megabytes_reads_jvm_memory_settings(size, mb):
    assert megabytes(size) == mb


def test_the_local_jvm_options_default_to_the_clusters():
    from cluster.settings import dotenv
    from jobs.runtime.session import DEFAULT_JVM_OPTIONS, JVM_OPTIONS_ENV

    assert dotenv()[JVM_OPTIONS_ENV] == DEFAULT_JVM_OPTIONS


def test_the_local_jvm_runs_with_them(spark):
    from jobs.runtime.session import local_jvm_options

    bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = list(bean.getInputArguments())
    assert set(local_jvm_options().split()) <= set(arguments), arguments
