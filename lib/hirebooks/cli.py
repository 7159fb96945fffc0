"""`hirebooks`: the operator's command line. It talks to the HTTP admin API (the local stack or a deployed one),
so what it shows is what the API serves.

  hirebooks buffer list --company 1 [--status retry,needs_setup] [--type invoice] [--package us]
  hirebooks buffer flush [--company 1 ...]
  hirebooks buffer retry ENTRY --company 1
  hirebooks buffer discard ENTRY --company 1 --why "sent by hand"
  hirebooks status --company 1

Where: --api-url or HIREBOOKS_API_URL; who: --token or HIREBOOKS_ADMIN_TOKEN (the stack's admin token).
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="HireBooks keeps QuickBooks Online in step with HireHop.", no_args_is_help=True)
buffer_app = typer.Typer(
    help="The buffer: what waits to go to QuickBooks (HireHop's 'Invoices to export').", no_args_is_help=True
)
app.add_typer(buffer_app, name="buffer")
console = Console()
err = Console(stderr=True)

ApiUrl = Annotated[str, typer.Option("--api-url", envvar="HIREBOOKS_API_URL", help="The stack's API URL.")]
Token = Annotated[
    str, typer.Option("--token", envvar="HIREBOOKS_ADMIN_TOKEN", help="The admin token.", show_default=False)
]
Company = Annotated[int, typer.Option("--company", "-c", min=1, help="The HireHop company id.")]


class Api:
    def __init__(self, url: str, token: str) -> None:
        if not url:
            err.print("[red]No API URL.[/] Pass --api-url or set HIREBOOKS_API_URL (make up prints it).")
            raise typer.Exit(2)
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            resp = self.session.request(method, f"{self.url}{path}", timeout=(5, 330), **kw)
        except requests.ConnectionError:
            err.print(f"[red]Cannot reach {self.url}.[/] Is the stack running, and is the URL right?")
            raise typer.Exit(1) from None
        try:
            body = resp.json()
        except ValueError:
            body = {"message": resp.text[:200]}
        if resp.status_code >= 400:
            err.print(f"[red]{body.get('message') or body.get('error') or resp.status_code}[/]")
            raise typer.Exit(1)
        return body


@buffer_app.command("list")
def buffer_list(
    company: Company,
    api_url: ApiUrl = "",
    token: Token = "",
    status: Annotated[str, typer.Option(help="Only these statuses, comma-separated.")] = "",
    doc_type: Annotated[str, typer.Option("--type", help="Only these document types, comma-separated.")] = "",
    package: Annotated[str, typer.Option(help="Only this accounting package.")] = "",
) -> None:
    """List what waits, and why (HireHop's 'Invoices to export')."""
    params = {
        k: v for k, v in {"company_id": company, "status": status, "type": doc_type, "package": package}.items() if v
    }
    answer = Api(api_url, token).call("GET", "/buffer", params=params)
    totals = answer.get("totals", {})
    if not answer.get("entries"):
        console.print(f"Nothing waits for company {company}." if not totals else "No entry matches the filter.")
    else:
        table = Table(title=f"Waiting to go to QuickBooks: company {company}")
        for col in ("entry", "document", "number", "package", "status", "attempts", "next try", "why"):
            table.add_column(col, overflow="fold")
        for e in answer["entries"]:
            table.add_row(
                e["id"][:12],
                e["document"].replace("_", " "),
                str(e["number"] or e["hirehop_id"]),
                e["package"] or "",
                e["status"],
                str(e["attempts"]),
                (e["next_attempt"] or "")[:16],
                e["reason"],
            )
        console.print(table)
    if totals:
        console.print("Totals: " + ", ".join(f"{n} {s}" for s, n in sorted(totals.items())))


@buffer_app.command("flush")
def buffer_flush(
    api_url: ApiUrl = "",
    token: Token = "",
    company: Annotated[list[int] | None, typer.Option("--company", "-c", help="Only these companies.")] = None,
) -> None:
    """Send what waits now (the schedule does this by itself)."""
    api = Api(api_url, token)
    targets: list[int | None] = list(company) if company else [None]
    reports: list[dict[str, Any]] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Flushing the buffer", total=len(targets))
        for target in targets:
            body = {"company_id": target} if target else {}
            reports.extend(api.call("POST", "/buffer/flush", json=body)["reports"])
            progress.advance(task)
    table = Table(title="Flush")
    for col in ("company", "due", "sent", "unchanged", "superseded", "still waiting", "note"):
        table.add_column(col)
    for r in reports:
        waiting = ", ".join(f"{n} {s}" for s, n in r["still_waiting"].items()) or "0"
        note = (
            "another flush is running"
            if r["busy"]
            else ("stopped for time; the next run continues" if r["stopped_early"] else "")
        )
        table.add_row(
            str(r["company_id"]),
            str(r["due"]),
            str(r["pushed"]),
            str(r["unchanged"]),
            str(r["superseded"]),
            waiting,
            note,
        )
    console.print(table)


@buffer_app.command("retry")
def buffer_retry(entry: str, company: Company, api_url: ApiUrl = "", token: Token = "") -> None:
    """Make a waiting entry due now (after fixing what it waited for)."""
    answer = Api(api_url, token).call(
        "POST", f"/buffer/{entry}/retry", json={"company_id": company, "by": getpass.getuser()}
    )
    console.print(f"Entry {answer['id'][:12]}: {answer['status']} ({answer['reason']})")


@buffer_app.command("discard")
def buffer_discard(
    entry: str,
    company: Company,
    why: Annotated[str, typer.Option(help="Why it should never go to QuickBooks (kept for the audit).")],
    api_url: ApiUrl = "",
    token: Token = "",
    by: Annotated[str, typer.Option(help="Who discards it.")] = "",
) -> None:
    """Take an entry out of the buffer for good; who and why are kept."""
    answer = Api(api_url, token).call(
        "POST", f"/buffer/{entry}/discard", json={"company_id": company, "by": by or getpass.getuser(), "why": why}
    )
    console.print(f"Entry {answer['id'][:12]}: {answer['status']} ({answer['reason']})")


def _when(epoch: Any) -> str:
    if not epoch:
        return "-"
    import datetime as dt

    return dt.datetime.fromtimestamp(float(epoch), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("status")
def status(company: Company, api_url: ApiUrl = "", token: Token = "") -> None:
    """Per package: the connected QuickBooks company, mode, expiries and warnings; the buffer; the last sync."""
    body = Api(api_url, token).call("GET", "/status", params={"company_id": company})
    table = Table(title=f"HireHop company {company}")
    for column in ("package", "mode", "QuickBooks company", "connection", "access until", "renew by", "hard limit"):
        table.add_column(column)
    warnings: list[str] = []
    for p in body["packages"]:
        c = p["connection"]
        status_text = c.get("status", "-")
        colour = "green" if status_text == "connected" else "red"
        table.add_row(
            f"{p['name']} ({p['package']})",
            p["mode"],
            c.get("company_name") or c.get("realm_id", "-"),
            f"[{colour}]{status_text.replace('_', ' ')}[/]",
            _when(c.get("access_expires_at")),
            _when(c.get("rolling_expires_at")),
            _when(c.get("hard_expires_at")),
        )
        warnings += [w["message"] for w in c.get("warnings", [])]
    console.print(table)
    buffer = body["buffer"]
    detail = ", ".join(f"{n} {s}" for s, n in sorted(buffer["by_status"].items())) or "empty"
    console.print(f"Buffer: {buffer['waiting']} waiting ({detail}). Last successful sync: "
                  f"{_when(body.get('last_successful_sync'))}.")  # fmt: skip
    for warning in warnings:
        console.print(f"[yellow]Warning:[/] {warning}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
