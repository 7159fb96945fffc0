"""`hirebooks`: the operator's command line. It talks to the HTTP admin API (the local stack or a deployed one),
so what it shows is what the API serves.

  hirebooks buffer list --company 1 [--status retry,needs_setup] [--type invoice] [--package us]
  hirebooks buffer flush [--company 1 ...]
  hirebooks buffer retry ENTRY --company 1
  hirebooks buffer discard ENTRY --company 1 --why "sent by hand"
  hirebooks status --company 1
  hirebooks setup --help      the set-up steps: company, tenant, package, accounts, tax-codes, contacts, assign,
                              preflight, show

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
setup_app = typer.Typer(help="The set-up steps HireHop users know, in order (see README).", no_args_is_help=True)
accounts_app = typer.Typer(help="Bank accounts and nominal codes synced from QuickBooks.", no_args_is_help=True)
taxes_app = typer.Typer(help="Tax codes synced from QuickBooks.", no_args_is_help=True)
contacts_app = typer.Typer(help="Contacts in QuickBooks, matched to HireHop and imported.", no_args_is_help=True)
app.add_typer(setup_app, name="setup")
setup_app.add_typer(accounts_app, name="accounts")
setup_app.add_typer(taxes_app, name="tax-codes")
setup_app.add_typer(contacts_app, name="contacts")
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


# ====================================================================== set-up
def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key or not val:
            err.print(f"[red]{what} {value!r}: write KEY=VALUE.[/]")
            raise typer.Exit(2)
        out[key] = val
    return out


Pkg = Annotated[str, typer.Argument(help="The package id (for example us).")]


@setup_app.command("show")
def setup_show(company: Company, api_url: ApiUrl = "", token: Token = "") -> None:
    """The company's whole set-up, as stored."""
    console.print_json(data=Api(api_url, token).call("GET", f"/setup/{company}"))


@setup_app.command("company")
def setup_company(
    company: Company,
    hirehop_url: Annotated[str, typer.Option(help="Your HireHop address, e.g. https://myhirehop.com")],
    hirehop_token: Annotated[str, typer.Option(help="The dedicated API user's token.", show_default=False)] = "",
    api_url: ApiUrl = "",
    token: Token = "",
) -> None:
    """Step 0: the HireHop company, its address and the API user's token (kept in Secrets Manager)."""
    body: dict[str, Any] = {"hirehop_url": hirehop_url}
    if hirehop_token:
        body["hirehop_token"] = hirehop_token
    Api(api_url, token).call("PUT", f"/setup/{company}", json=body)
    console.print(f"[green]HireHop company {company} set up.[/]")


@setup_app.command("tenant")
def setup_tenant(
    company: Company,
    export_key: Annotated[str, typer.Option(help="HireHop's export key (Settings > Company settings).")],
    api_url: ApiUrl = "",
    token: Token = "",
) -> None:
    """The webhook URL to paste into HireHop (shown once)."""
    body = Api(api_url, token).call("POST", f"/setup/{company}/tenant", json={"export_key": export_key})
    console.print(f"HireHop webhook: [bold]{api_url.rstrip('/')}{body['webhook_path']}[/]")


@setup_app.command("package")
def setup_package(
    package: Pkg,
    company: Company,
    name: Annotated[str, typer.Option(help="A name people know it by.")],
    realm: Annotated[str, typer.Option(help="The QuickBooks company id (realmId).")],
    country: Annotated[str, typer.Option(help="US or GB.")] = "US",
    mode: Annotated[str, typer.Option(help="live or buffered.")] = "live",
    invoice_prefix: str = "",
    credit_prefix: str = "",
    po_prefix: str = "",
    invoice_start: Annotated[int | None, typer.Option(min=1)] = None,
    credit_start: Annotated[int | None, typer.Option(min=1)] = None,
    po_start: Annotated[int | None, typer.Option(min=1)] = None,
    api_url: ApiUrl = "",
    token: Token = "",
) -> None:
    """Step 1: create or edit an accounting package (one QuickBooks company)."""
    body = {
        "name": name,
        "realm_id": realm,
        "country": country,
        "mode": mode,
        "invoice_prefix": invoice_prefix,
        "credit_prefix": credit_prefix,
        "po_prefix": po_prefix,
        "invoice_start": invoice_start,
        "credit_start": credit_start,
        "po_start": po_start,
    }
    Api(api_url, token).call("PUT", f"/setup/{company}/packages/{package}", json=body)
    console.print(f"[green]Package {package} ({name}, {mode}) saved.[/]")


def _accounts_table(body: dict[str, Any]) -> None:
    table = Table(title=f"Accounts of {body['name']}")
    for column in ("id", "name", "type", "kept", "default"):
        table.add_column(column)
    defaults = {
        body.get("default_bank_account"): "bank",
        body.get("default_revenue_account"): "revenue",
        body.get("default_expense_account"): "expense",
        body.get("ap_account"): "payables",
    }
    for acc_id, acc in body["accounts"].items():
        table.add_row(acc_id, acc["name"], acc["type"], "yes" if acc["kept"] else "dropped", defaults.get(acc_id, ""))
    console.print(table)


@accounts_app.command("sync")
def accounts_sync(package: Pkg, company: Company, api_url: ApiUrl = "", token: Token = "") -> None:
    """Step 2: bring in QuickBooks' bank accounts and nominal codes (the Sync button)."""
    _accounts_table(Api(api_url, token).call("POST", f"/setup/{company}/packages/{package}/accounts/sync"))


@accounts_app.command("set")
def accounts_set(
    package: Pkg,
    company: Company,
    keep: Annotated[list[str] | None, typer.Option(help="An account id to keep (repeat).")] = None,
    drop: Annotated[list[str] | None, typer.Option(help="An account id to drop (repeat).")] = None,
    bank: Annotated[str | None, typer.Option(help="The default bank account.")] = None,
    revenue: Annotated[str | None, typer.Option(help="The default revenue (income) account.")] = None,
    expense: Annotated[str | None, typer.Option(help="The default expense account.")] = None,
    ap: Annotated[str | None, typer.Option(help="The Accounts Payable account for purchase orders.")] = None,
    map_bank: Annotated[list[str] | None, typer.Option(help="HIREHOP_BANK=QBO_ACCOUNT (repeat).")] = None,
    api_url: ApiUrl = "",
    token: Token = "",
) -> None:
    """Step 2: keep or drop accounts and pick the defaults."""
    body: dict[str, Any] = {"keep": keep or [], "drop": drop or [], "banks": _pairs(map_bank, "--map-bank")}
    for name, value in (
        ("default_bank_account", bank),
        ("default_revenue_account", revenue),
        ("default_expense_account", expense),
        ("ap_account", ap),
    ):
        if value:
            body[name] = value
    _accounts_table(Api(api_url, token).call("PATCH", f"/setup/{company}/packages/{package}/accounts", json=body))


def _taxes_table(body: dict[str, Any]) -> None:
    table = Table(title=f"Tax codes of {body['name']}")
    for column in ("id", "name", "kept", "default"):
        table.add_column(column)
    for code_id, code in body["tax_code_list"].items():
        default = "default" if code_id == body.get("default_tax_code") else ""
        table.add_row(code_id, code["name"], "yes" if code["kept"] else "dropped", default)
    console.print(table)


@taxes_app.command("sync")
def taxes_sync(package: Pkg, company: Company, api_url: ApiUrl = "", token: Token = "") -> None:
    """Step 3: bring in QuickBooks' tax codes; a default is picked and can be changed."""
    _taxes_table(Api(api_url, token).call("POST", f"/setup/{company}/packages/{package}/tax-codes/sync"))


@taxes_app.command("set")
def taxes_set(
    package: Pkg,
    company: Company,
    default: Annotated[str | None, typer.Option(help="The default tax code.")] = None,
    keep: Annotated[list[str] | None, typer.Option(help="A tax code id to keep (repeat).")] = None,
    drop: Annotated[list[str] | None, typer.Option(help="A tax code id to drop (repeat).")] = None,
    api_url: ApiUrl = "",
    token: Token = "",
) -> None:
    """Step 3: keep or drop tax codes and change the default."""
    body: dict[str, Any] = {"keep": keep or [], "drop": drop or []}
    if default:
        body["default_tax_code"] = default
    _taxes_table(Api(api_url, token).call("PATCH", f"/setup/{company}/packages/{package}/tax-codes", json=body))


@contacts_app.command("list")
def contacts_list(package: Pkg, company: Company, api_url: ApiUrl = "", token: Token = "") -> None:
    """Step 4: QuickBooks' customers and vendors, and the HireHop contact each matches (by e-mail or name)."""
    body = Api(api_url, token).call("GET", f"/setup/{company}/packages/{package}/contacts")
    table = Table(title="Contacts in QuickBooks")
    for column in ("id", "name", "e-mail", "in HireHop"):
        table.add_column(column)
    for c in body["items"]:
        match = c["hirehop_match"]
        table.add_row(c["id"], c["name"], c["email"], f"{match['id']} (by {match['by']})" if match else "-")
    console.print(table)


@contacts_app.command("import")
def contacts_import(
    package: Pkg,
    ids: Annotated[list[str], typer.Argument(help="Contact ids from `contacts list` (Customer:12, Vendor:40).")],
    company: Company,
    api_url: ApiUrl = "",
    token: Token = "",
) -> None:
    """Step 4: import the chosen QuickBooks contacts into HireHop; matched ones are left as they are."""
    body = Api(api_url, token).call(
        "POST", f"/setup/{company}/packages/{package}/contacts/import", json={"ids": list(ids)}
    )
    console.print(
        f"Imported {len(body['imported'])}, already in HireHop {len(body['already_in_hirehop'])}, "
        f"not chosen {body['skipped']}."
    )


@setup_app.command("assign")
def setup_assign(
    company: Company,
    depot: Annotated[list[str] | None, typer.Option(help="DEPOT=PACKAGE (repeat).")] = None,
    default: Annotated[str | None, typer.Option(help="The default package.")] = None,
    nominal: Annotated[list[str] | None, typer.Option(help="PACKAGE:GROUP=ACCOUNT (repeat).")] = None,
    tax: Annotated[list[str] | None, typer.Option(help="PACKAGE:DEPOT:GROUP=TAXCODE, DEPOT may be * (repeat).")] = None,
    api_url: ApiUrl = "",
    token: Token = "",
) -> None:
    """Step 5: depots to packages, nominal groups to codes, tax groups per depot to codes."""
    body: dict[str, Any] = {"depots": _pairs(depot, "--depot"), "nominal_groups": {}, "tax_groups": {}}
    if default:
        body["default_package"] = default
    for key, value in _pairs(nominal, "--nominal").items():
        package, _, group = key.partition(":")
        body["nominal_groups"].setdefault(package, {})[group] = value
    for key, value in _pairs(tax, "--tax").items():
        package, _, rest = key.partition(":")
        body["tax_groups"].setdefault(package, {})[rest] = value
    Api(api_url, token).call("PUT", f"/setup/{company}/assignments", json=body)
    console.print("[green]Assignments saved.[/]")


@setup_app.command("preflight")
def setup_preflight(company: Company, api_url: ApiUrl = "", token: Token = "") -> None:
    """What the documents waiting in the buffer still need from the set-up; exits 1 when something is missing."""
    body = Api(api_url, token).call("GET", f"/setup/{company}/preflight")
    if body["ready"]:
        console.print(f"[green]Ready: the {body['documents_checked']} documents waiting have every mapping.[/]")
        return
    table = Table(title="Missing from the set-up")
    table.add_column("what")
    table.add_column("documents", justify="right")
    for gap in body["missing"]:
        table.add_row(gap["what"], str(gap["documents"]))
    console.print(table)
    raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
