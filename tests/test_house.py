"""The house's grep-level facts (issue 16), read from the source, not from a running app.

- `customers` imports no other app and no cross-app room of servicedesk (its dashboards and public pages);
- no module is named with a `calls_` prefix (follow-up calls live in callbacks/follow_ups);
- a job is created, and its status written, only by customers/services.py, the import (customers/importing.py) and
  the demo generators (*/demo.py), so every door (the technician's page, the API, webhooks) books and completes a
  job through the same services and checks.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("customers", "recommendations", "callbacks", "servicedesk")
OTHER_APPS = ("callbacks", "recommendations")
ROOF = ("servicedesk.dashboards", "servicedesk.public")
JOB_WRITERS = {"customers/services.py", "customers/importing.py"}
CREATING = {"create", "bulk_create", "get_or_create", "update_or_create"}


def _modules(*packages):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path


def _imported(tree, module):
    """Absolute names of every module `tree` imports (relative imports resolved against `module`)."""
    package = module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            yield name
            yield from (f"{name}.{alias.name}" for alias in node.names)


def _is_job_status(node):
    """`Job.Status.<anything>`."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "Status"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "Job"
    )


def job_writes(source):
    """(line, what) for every job created or job status written in `source`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "Job":
                yield node.lineno, "Job(...)"
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in CREATING
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "objects"
                and isinstance(func.value.value, ast.Name)
                and func.value.value.id == "Job"
            ):
                yield node.lineno, f"Job.objects.{func.attr}"
            elif isinstance(func, ast.Attribute) and func.attr == "update":
                if any(kw.arg == "status" and _is_job_status(kw.value) for kw in node.keywords):
                    yield node.lineno, "update(status=Job.Status...)"
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _is_job_status(node.value) and any(
                isinstance(target, ast.Attribute) and target.attr == "status" for target in targets
            ):
                yield node.lineno, ".status = Job.Status..."


def _may_write_jobs(name):
    return name in JOB_WRITERS or Path(name).name == "demo.py"


def test_customers_imports_no_other_app_and_no_cross_app_room():
    leaks = []
    for name, path in _modules("customers"):
        module = name.removesuffix(".py").replace("/", ".")
        for imported in set(_imported(ast.parse(path.read_text()), module)):
            if imported.split(".")[0] in OTHER_APPS or imported.startswith(ROOF):
                leaks.append(f"{name} imports {imported}")
    assert leaks == []


def test_no_module_is_named_for_calls_with_a_prefix():
    prefixed = [name for name, path in _modules(*APPS, "tests") if path.stem.startswith(("calls_", "views_calls"))]
    assert prefixed == []


def test_jobs_are_created_and_their_status_written_only_by_customers_services_the_import_and_demo_generators():
    writes = [
        f"{name}:{line} {what}"
        for name, path in _modules(*APPS)
        if not _may_write_jobs(name)
        for line, what in job_writes(path.read_text())
    ]
    assert writes == []


@pytest.mark.parametrize(
    "source",
    [
        "job = Job.objects.create(kind=Job.Kind.INSTALL, status=Job.Status.SCHEDULED)",
        "Job.objects.bulk_create([job])",
        "job = Job(site=site)",
        "Job.objects.filter(pk=1).update(status=Job.Status.CANCELLED)",
        "revisit.status = Job.Status.COMPLETED",
    ],
)
def test_the_scan_sees_each_kind_of_job_write(source):
    assert list(job_writes(source))


def test_the_scan_leaves_reads_alone():
    reads = (
        "Job.objects.filter(status=Job.Status.COMPLETED)\n"
        "is_open = job.status == Job.Status.SCHEDULED\n"
        "Job.Kind('install')\n"
    )
    assert list(job_writes(reads)) == []


def test_the_import_scan_resolves_relative_imports():
    tree = ast.parse("from ..public.tokens import sign\nimport callbacks.models\n")
    assert {"servicedesk.public.tokens", "callbacks.models"} <= set(_imported(tree, "servicedesk.dashboards.pages"))
