"""The statements tests/generate/test_check_implies_build_generated.py composes procs from: every
proc statement of the language over the card pipelines' schemas, transforms and rules
(tests/pipelines/cards), in forms that are right in some places and wrong in others. A new
statement goes here too (tests/frontend/test_completeness.py checks that every one is)."""

from __future__ import annotations

# Statements over CardAuth records ({n}: a number unique to the program, for names).
MENU = [
    "event_time event_time watermark 1 minute",
    "filter amount > 10",
    'filter channel == ATM or country != "US"',
    "key by card_id",
    "key by merchant",
    "state seen{n}: long ttl 1 hour",
    "update seen{n} = coalesce(seen{n}, 0) + 1",
    "filter seen{n} is null or seen{n} < 5",
    "deduplicate by auth_id within 1 minute",
    "correlate by auth_id within 1 minute",
    "on timeout emit to unmatched_auths",
    "correlate with settlements by auth_id within 10 minutes",
    "join settlements as s{n} on auth_id == s{n}.auth_id within 10 minutes",
    "filter s{n}.settled == amount",
    "lookup merchants by merchant as m{n} cache 1 minute",
    "filter m{n} is null or not m{n}.blocked",
    "lookup fx_rates by currency as fx{n}",
    "rolling 1 hour {{\n        count{n} = count()\n        spent{n} = sum(amount)\n    }}",
    "filter count{n} > 3 or spent{n} > 100",
    "on late emit to late_auths",
    "apply AuthScreen rules as screen{n}",
    "on reject emit to declined_auths",
    "on route foreign_atm emit to foreign_atm_auths",
    "on flag emit to review_auths",
    "filter not screen{n}.flagged",
    "route {{\n        when amount > 5000 to review_auths\n    }}",
    "route {{\n        when amount > 5000 to review_auths\n"
    "        otherwise to approved_auths\n    }}",
    "emit to approved_auths",
    "on error emit to declined_auths",
    "on persist_error dead_letter",
    "filter to_usd(amount, currency) > 20",
    "transform using score_auth",
    "apply RiskBand table as band{n}",
    'filter band{n} is null or band{n}.band != "HIGH"',
    "map into CardSpend {{\n        card_id = card_id\n        auth_id = auth_id\n"
    "        spent_usd = amount\n        auths = 1\n    }}",
    "window tumbling 5 minutes",
    "aggregate into CardWindow {{\n        card_id = first(card_id)\n"
    "        txn_count = count()\n        window_start = window_start()\n"
    "        window_end = window_end()\n    }}",
    "emit to card_windows",
    "emit to scored_auths",
    "emit to card_spend",
]
