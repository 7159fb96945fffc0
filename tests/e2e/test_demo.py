"""`make demo`, `make demo-broken` and `make up`, run as a person would (a process of their own, the local stack
inside it), smaller than the default month so the test run stays short."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEEP = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV"}


def demo(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own module with fixed arguments
        [sys.executable, "-m", "hblocal.demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        # a clean environment: nothing the other tests set (queue URLs, hosts) leaks into the demo's own stack
        env={k: v for k, v in os.environ.items() if k in KEEP} | {"COLUMNS": "160"},
    )


def test_demo_runs_the_month_and_the_books_agree() -> None:
    run = demo("--invoices", "40", "--qbo-payments", "4")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "Set up through the set-up API" in out and "is connected to package" in out
    assert "QuickBooks payments written back to HireHop" in out
    assert "The books agree" in out and "Nothing waits in the buffer" in out


def test_demo_broken_on_purpose_fails_and_says_why() -> None:
    run = demo("--invoices", "30", "--qbo-payments", "2", "--broken")
    assert run.returncode == 1, run.stdout[-3000:]
    out = run.stdout
    assert "still wait in the buffer" in out
    assert "missing from the set-up" in out and "Tax group 1 has no QuickBooks tax code" in out


def test_up_prints_the_urls_and_the_cli_to_try() -> None:
    run = demo("--up", "--up-for", "1", timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "The local stack is up" in run.stdout and "HIREBOOKS_ADMIN_TOKEN=" in run.stdout
    assert "/openapi.json" in run.stdout
