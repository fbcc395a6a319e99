"""A synthetic Nexflow monorepo for the incremental-build benchmark: 200 DSL targets.

`DOMAINS` domains of ten DSL files each, one target per file (the generator targets make one
per file), in the mix of layers a real repository has:

    customer.schema  account.schema  payment.schema  streams.schema   (L2: 4 schemas)
    summary.transform  risk.transform                                  (L3: 2 transforms)
    limits.rules  fraud.rules                                          (L4: 2 rulesets)
    screen.proc                                                        (L1: 1 proc)
    local.infra                                                        (L5: 1 environment block)

plus a `nexflow_flink_job` per domain, which depends on all ten, so packaging the jobs builds
every target. Domains form a chain: each domain's customer record nests the previous domain's,
so an interface change near the start ripples through the repository while a body change (a
rule threshold) stays local. Dependencies are inferred from the names the files use, as in a
real repository, except the proc's use of its domain's rules and transforms: the Flink generator
cannot generate `apply … rules` / `transform using …` yet, so the procs filter instead and the
BUILD file declares those dependencies.
"""

from __future__ import annotations

from pathlib import Path

DOMAINS = 20
FILES_PER_DOMAIN = 10


def domain_dir(root: str, k: int) -> str:
    return f"{root}/d{k:02d}"


def java_package(root: str, k: int) -> str:
    # The plugin's default: `nexflow.` + the target's directory with `/` as `.`.
    return ".".join(["nexflow", *root.split("/"), f"d{k:02d}"])


def rules_text(k: int, threshold: int) -> str:
    return f"""\
ruleset Limits{k} for payment: Payment{k} {{
    rule large_payment {{
        when payment.amount > {threshold}
        then flag_for_review
        priority high
    }}

    rule currency_check {{
        when payment.currency not in ["USD", "EUR", "GBP"]
        then reject with "Unsupported currency"
    }}
}}
"""


def domain_files(root: str, k: int) -> dict[str, str]:
    d = domain_dir(root, k)
    previous = f"    previous: Customer{k - 1}?\n" if k > 0 else "    previous_id: string?\n"
    return {
        f"{d}/customer.schema": f"""\
// Domain {k}: a customer, nesting the previous domain's customer record.
schema Customer{k} {{
    customer_id: string @key
    name: string
    segment: string
{previous}}}
""",
        f"{d}/account.schema": f"""\
schema Account{k} {{
    account_id: string @key
    owner: Customer{k}
    opened: date
    balance: decimal(18,2)
}}
""",
        f"{d}/payment.schema": f"""\
schema Payment{k} {{
    transaction_id: string @key
    account_id: string
    amount: decimal(10,2)
    currency: string
    country: string
    timestamp: datetime @event_time
}}

schema PaymentSummary{k} {{
    transaction_id: string @key
    amount: decimal(10,2)
    currency: string
}}
""",
        f"{d}/streams.schema": f"""\
stream d{k}_payments: Payment{k}
stream d{k}_screened: Payment{k}
stream d{k}_summaries: PaymentSummary{k}
""",
        f"{d}/summary.transform": f"""\
transform summarize_{k} {{
    input payment: Payment{k}
    output PaymentSummary{k}
    map {{
        transaction_id = payment.transaction_id
        amount = payment.amount
        currency = payment.currency
    }}
}}
""",
        f"{d}/risk.transform": f"""\
transform is_domestic_{k} {{
    input payment: Payment{k}
    output boolean
    compute payment.country == "US"
}}
""",
        f"{d}/limits.rules": rules_text(k, threshold=10000),
        f"{d}/fraud.rules": f"""\
ruleset Fraud{k} for payment: Payment{k} {{
    rule foreign_large {{
        when payment.country != "US" and payment.amount > 5000
        then flag "foreign and large"
    }}
}}
""",
        f"{d}/screen.proc": f"""\
proc Screen{k} {{
    from d{k}_payments
    filter amount > 100
    emit to d{k}_screened
}}
""",
        f"{d}/local.infra": f"""\
environment local {{
    streams {{
        d{k}_payments {{
            file: "data/d{k}_payments.jsonl"
            parallelism: 1
        }}
        d{k}_screened {{
            file: "out/d{k}_screened.jsonl"
        }}
        d{k}_summaries {{
            file: "out/d{k}_summaries.jsonl"
        }}
    }}
}}
""",
        f"{d}/BUILD": f"""\
nexflow_schemas(name="schemas")
nexflow_transforms(name="transforms")
nexflow_rules(name="rules")
# The proc uses the domain's rules and transforms; until the Flink generator supports
# `apply … rules` and `transform using …`, that dependency is declared here.
nexflow_procs(name="procs", dependencies=[":rules", ":transforms"])
nexflow_infra(name="infra")

nexflow_flink_job(
    name="job",
    main="{java_package(root, k)}.Screen{k}Job",
    dependencies=[":procs", ":schemas", ":infra"],
)
""",
    }


def write_monorepo(buildroot: Path, root: str, domains: int = DOMAINS) -> int:
    """Write the DSL tree under `buildroot/root`; returns the number of DSL targets."""
    targets = 0
    for k in range(domains):
        for relpath, text in domain_files(root, k).items():
            path = buildroot / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            targets += 0 if relpath.endswith("/BUILD") else 1
    return targets


def edited_rules_file(root: str, k: int) -> str:
    return f"{domain_dir(root, k)}/limits.rules"
