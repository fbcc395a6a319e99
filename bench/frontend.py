"""Front-end throughput: parse + check of a synthetic project of N files.

Generates a realistic mix of layers (30% schema, 15% transform, 20% rules, 25% proc, 10%
infra; 15-120 lines per file), checks it in memory with `check_project`, and prints DSL
lines per second for N = 100, 500, 2000. The last line is machine-readable:
`lines_per_second=<figure at N=2000>`. Figures are per CPU second of this process (one core;
the machine may be shared), with the wall-clock figure alongside; best of --repeat runs.

Usage: python bench/frontend.py [--sizes 100,500,2000] [--repeat 1] [--profile]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nexflow_core.project import check_project

SCALARS = ["string", "int", "long", "decimal(12,2)", "boolean", "datetime", "double"]


def _schema_file(i: int, rnd: random.Random) -> tuple[str, list[str]]:
    lines = [f"// schemas of domain {i}"]
    names = []
    for j in range(3):
        name = f"Event{i}x{j}"
        names.append(name)
        lines.append(f"schema {name} {{")
        lines.append("    id: string @key")
        lines.append("    amount: decimal(12,2)")
        lines.append("    count: int")
        lines.append("    flagged: boolean")
        lines.append('    category: string @enum["A", "B", "C"]')
        lines.append("    at: datetime @event_time")
        for k in range(rnd.randint(3, 12)):
            lines.append(f"    f{k}: {rnd.choice(SCALARS)}?")
        lines.append("    validate amount >= 0 and count < 1000000")
        lines.append("}")
        lines.append("")
        lines.append(f"stream in_{i}_{j}: {name}")
        lines.append(f"stream out_{i}_{j}: {name}")
        lines.append(f"stream bad_{i}_{j}: {name}")
    lines.append(f"store store_{i}: Event{i}x0 key id")
    return "\n".join(lines) + "\n", names


def _transform_file(i: int, schema: str) -> str:
    out = []
    for j in range(3):
        out.append(f"""transform t{i}_{j} {{
    input e: {schema}
    output {schema}
    let bump = if e.flagged then 2 else 1
    map {{
        id = concat(e.id, "-{j}")
        amount = e.amount * bump + 0.50
        count = e.count + 1
        flagged = e.flagged or e.amount > 1000
        category = e.category
        at = e.at + 5 minutes
    }}
}}
""")
    return "\n".join(out)


def _rules_file(i: int, schema: str, rnd: random.Random) -> str:
    rules = []
    for k in range(rnd.randint(4, 10)):
        rules.append(f"""    rule r{k} {{
        when e.amount > {rnd.randint(1, 100000)} and e.category in ["A", "B"]
        then flag "check {k}", emit alert "rule {k}" severity low
        priority {rnd.choice(["high", "medium", "low", "5"])}
    }}""")
    rules.append("""    rule bad {
        when e.count < 0
        then reject with "negative count"
    }""")
    return f"""ruleset Rules{i} for e: {schema} {{
{chr(10).join(rules)}
}}

decision_table Table{i} for e: {schema} hit_policy unique {{
    inputs {{
        amount = e.amount
        e.flagged
        e.category
    }}
    outputs {{
        tier: string
        score: int
    }}
    rules {{
        small_f: < 100, true, - -> "LOW", 1
        small_n: < 100, false, - -> "LOW", 2
        mid_a: [100 .. 1000), -, "A" -> "MID", 3
        mid_o: [100 .. 1000), -, in ["B", "C"] -> "MID", 4
        big: >= 1000, -, - -> "HIGH", 5
    }}
}}
"""


def _proc_file(i: int, d: int, j: int, with_transform: bool, with_rules: bool) -> str:
    steps = [f"    from in_{d}_{j}", '    filter amount > 10 and category != "C"']
    if with_rules:
        steps += [
            f"    apply Rules{d} rules",
            f"    on reject emit to bad_{d}_{j}",
            f"    apply Table{d} table as risk",
            "    filter risk is not null and risk.score > 2",
        ]
    if with_transform:
        steps.append(f"    transform using t{d}_{j}")
    steps += [
        "    key by id",
        "    deduplicate by id within 1 hour",
        f"    emit to out_{d}_{j} persist to store_{d} async"
        if j == 0
        else f"    emit to out_{d}_{j}",
    ]
    return f"proc P{i} {{\n" + "\n".join(steps) + "\n}\n"


def generate(n: int, seed: int = 7) -> dict[str, str]:
    rnd = random.Random(seed)
    n_schema = max(1, n * 30 // 100)
    n_transform = n * 15 // 100
    n_rules = n * 20 // 100
    n_infra = max(1, n * 10 // 100)
    n_proc = max(1, n - n_schema - n_transform - n_rules - n_infra)
    files: dict[str, str] = {}
    domains = []
    for i in range(n_schema):
        text, names = _schema_file(i, rnd)
        files[f"gen/d{i}/events.schema"] = text
        domains.append(names)
    for i in range(n_transform):
        files[f"gen/d{i % n_schema}/t{i}.transform"] = _transform_file(i, domains[i % n_schema][0])
    transforms_of = {i % n_schema: i for i in range(n_transform)}
    for i in range(n_rules):
        d = i % n_schema
        files[f"gen/d{d}/r{i}.rules"] = _rules_file(i, domains[d][0], rnd)
    rules_of = {i % n_schema: i for i in range(n_rules)}
    used: list[tuple[int, int]] = []
    for i in range(n_proc):
        d = i % n_schema
        j = 0
        t = transforms_of.get(d)
        r = rules_of.get(d)
        text = _proc_file(i, d, j, t is not None, r is not None)
        if t is not None:
            text = text.replace(f"t{d}_{j}", f"t{t}_{j}")
        if r is not None:
            text = text.replace(f"Rules{d}", f"Rules{r}").replace(f"Table{d}", f"Table{r}")
        files[f"gen/d{d}/p{i}.proc"] = text
        used.append((d, j))
    streams = sorted({f"{k}_{d}_{j}" for d, j in used for k in ("in", "out", "bad")})
    stores = sorted({f"store_{d}" for d, _ in used})
    per = -(-len(streams) // n_infra)
    for k in range(n_infra):
        chunk = streams[k * per : (k + 1) * per]
        body = "\n".join(f'        {s} {{ topic: "prod.{s}" parallelism: 4 }}' for s in chunk)
        store_body = ""
        if k == 0:
            # A deployable environment binds the dead letters of its procs (NX516).
            body += '\n        dead_letter { topic: "prod.dead_letter" }'

            store_body = (
                "    stores {\n"
                + "\n".join(
                    f'        {s} {{ type: mongodb uri: env("MONGO_URI") '
                    f'database: "d" collection: "{s}" }}'
                    for s in stores
                )
                + "\n    }\n"
            )
        files[f"gen/infra/prod{k}.infra"] = (
            'environment production {\n    kafka {\n        brokers: "kafka:9092"\n'
            '        security_protocol: SASL_SSL\n        password: env("KAFKA_PW")\n    }\n'
            f"    streams {{\n{body}\n    }}\n{store_body}}}\n"
        )
    return files


def measure(n: int, repeat: int) -> tuple[int, float, float, int]:
    files = generate(n)
    lines = sum(t.count("\n") for t in files.values())
    best = float("inf")
    best_wall = float("inf")
    for _ in range(repeat):
        w0 = time.perf_counter()
        t0 = time.process_time()
        project = check_project(files)
        best = min(best, time.process_time() - t0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    errors = [d for d in project.diagnostics if d.is_error]
    if errors:
        raise SystemExit(f"synthetic project has errors: {errors[:3]}")
    return lines, best, best_wall, len(files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,500,2000")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="cProfile the largest size")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    from nexflow_core.syntax import get_parser

    for kind in ("schema", "transform", "rules", "proc", "infra"):
        get_parser(kind)  # grammar construction is a one-time cost, not throughput
    if args.profile:
        import cProfile
        import pstats

        files = generate(sizes[-1])
        cProfile.runctx("check_project(files)", globals(), {"files": files}, "/tmp/nx.prof")
        pstats.Stats("/tmp/nx.prof").sort_stats("cumulative").print_stats(30)
        return
    last = 0.0
    for n in sizes:
        lines, secs, wall, nfiles = measure(n, args.repeat)
        last = lines / secs
        print(
            f"N={n:5d} files={nfiles:5d} lines={lines:7d} cpu={secs:7.3f}s "
            f"wall={wall:7.3f}s lines/s={last:8.0f} (wall: {lines / wall:8.0f})"
        )
    print(f"lines_per_second={last:.0f}")


if __name__ == "__main__":
    main()
