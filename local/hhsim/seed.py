"""A seeded rental company: three depots (one virtual, under its parent), an address book with clients, suppliers
and contacts that are both, jobs (one with a one-off client), banks, nominal and tax groups."""

from __future__ import annotations

from typing import Any

from .model import Company


def seed_company(company: Company) -> dict[str, Any]:
    main = company.add_depot("Main Warehouse")
    north = company.add_depot("North Depot")
    festival = company.add_depot("Festival Unit", virtual=True, parent=north["ID"])
    company.banks.extend(
        [
            {"ID": 1, "NAME": "Business Checking", "ACC_ACCOUNT_ID": 0},
            {"ID": 2, "NAME": "Card Takings", "ACC_ACCOUNT_ID": 0},
        ]
    )
    company.nominal_groups.extend(
        [
            {"ID": 1, "NAME": "Equipment hire", "TYPE": "revenue"},
            {"ID": 2, "NAME": "Consumable sales", "TYPE": "revenue"},
            {"ID": 3, "NAME": "Transport", "TYPE": "revenue"},
            {"ID": 4, "NAME": "Crew", "TYPE": "revenue"},
            {"ID": 5, "NAME": "Cross-hire", "TYPE": "expense"},
        ]
    )
    company.tax_groups.extend([{"ID": 1, "NAME": "Standard", "RATE": 7}, {"ID": 2, "NAME": "Exempt", "RATE": 0}])
    company.nominal_codes.extend(
        [{"ID": 1, "CODE": "4000", "NAME": "Hire income"}, {"ID": 2, "CODE": "5000", "NAME": "Cross-hire costs"}]
    )
    company.tax_codes.extend([{"ID": 1, "NAME": "Standard", "RATE": 7}, {"ID": 2, "NAME": "Exempt", "RATE": 0}])
    contacts = [
        company.add_contact(company="Riverside Theatre", name="Ana Ortiz", email="ana@riverside.example", notify=False),
        company.add_contact(
            company="Northgate Festival Ltd", name="Sam Lee", email="sam@northgate.example", notify=False
        ),
        company.add_contact(
            company="Apex Truss Supplies",
            name="Jo Park",
            email="jo@apex.example",
            client=False,
            supplier=True,
            notify=False,
        ),
        # Both a client and a supplier: becomes two QuickBooks records (reference).
        company.add_contact(
            company="Bright Sparks Lighting",
            name="Lee Chan",
            email="lee@sparks.example",
            client=True,
            supplier=True,
            notify=False,
        ),
    ]
    jobs = [
        company.add_job(depot_id=main["ID"], client_id=contacts[0]["ID"], name="Autumn season"),
        company.add_job(depot_id=north["ID"], client_id=contacts[1]["ID"], name="Northgate 2026"),
        company.add_job(depot_id=festival["ID"], client_id=contacts[3]["ID"], name="Sparks showcase"),
        company.add_job(
            depot_id=main["ID"],
            name="Wedding, one-off",
            one_off={"company": "", "name": "Priya Shah", "email": "priya@example.com", "address": "12 Elm Row"},
        ),
    ]
    return {
        "depots": [main["ID"], north["ID"], festival["ID"]],
        "contacts": [c["ID"] for c in contacts],
        "jobs": [j["ID"] for j in jobs],
    }
