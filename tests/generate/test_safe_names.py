"""DSL type names that are also names the generated Java relies on — java.lang classes, the L0
runtime's classes, the simple names the generated files import, package names, companion
classes of other declarations — get a `$` suffix (docs/language/schema.md, "Names in the
generated Java"), the same in whole-project generation and in unit-by-unit compilation, so
whatever the DSL calls its types the Java compiles and means what the DSL says.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from nexflow_core import cli
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.generate.flink import java
from nexflow_core.syntax import parse_source
from tests.generate import javatools

NAMES = Path("tests/pipelines/names")
DOCS = Path("docs/language/schema.md")
GOLDEN = Path("tests/generate/golden")

# One declaration of each kind, each named like something generated code uses, in a package
# whose first name (`clash`) is also a type name; fields, inputs and lets named like the
# packages generated code spells out (`java.util.Objects`, `nexflow.runtime`, `org.apache`).
CLASH = {
    "clash.schema": """
enum Keys { A, B }
enum Errors { LOW, HIGH }

schema Violation {
    id: string @key
    level: Errors
    amount: long
    java: string
    nexflow: decimal(10,2)
    org: list<string>
}

schema Object {
    id: string @key
    violations: list<Violation>
    by_key: map<string, Violation>
    keys: Keys
}

schema clash {
    id: string @key
    com: long
}

schema Record {
    id: string @key
}

schema Map {
    id: string @key
}

schema RecordContract {
    id: string @key
}

schema Bar {
    id: string @key
}

schema BarContract {
    id: string @key
    bar: Bar
}

schema FlowJob {
    id: string @key
    n: int
}

schema Properties {
    id: string @key
    total: long
}

stream violations: Violation
stream objects: Object
stream props: Properties
stream roots: clash
""",
    "clash.transform": """
transform Collector {
    input java: Violation
    output Properties
    let nexflow = java.amount * 2
    map {
        id = java.id
        total = nexflow
    }
}

transform KafkaSink {
    input org: Violation
    output clash
    map {
        id = org.id
        com = org.amount
    }
}
""",
    "clash.rules": """
ruleset Outputs for v: Violation {
    rule big {
        when v.amount > 10
        then flag "big"
    }
}

decision_table ArrayList for v: Violation hit_policy first {
    inputs {
        v.amount
    }
    outputs {
        band: string
    }
    rules {
        huge: >= 5 -> "HIGH"
        other: - -> "LOW"
    }
}
""",
    "clash.proc": """
proc Flow {
    from violations
    apply Outputs rules
    apply ArrayList table as band
    filter band.band == "HIGH"
    transform using Collector
    emit to props
}

proc TreeMap {
    from violations
    transform using KafkaSink
    emit to roots
}

proc OutputTag {
    from objects
    key by id
    deduplicate by id within 1 minute
    emit to objects
}
""",
}


def test_type_names_that_generated_code_uses_get_a_dollar() -> None:
    cases = {
        "Greeting": "Greeting",
        "Violation": "Violation$",  # the runtime's dead-letter entry
        "Errors": "Errors$",  # a runtime class
        "String": "String$",  # java.lang: a class of the same package would shadow it
        "Record": "Record$",
        "Collector": "Collector$",  # imported by job files
        "List": "List$",
        "Types": "Types$",
        "KafkaSink": "KafkaSink$",
        "FooContract": "FooContract$",  # could be the contract of a schema Foo
        "FooJob": "FooJob$",  # could be the job of a proc Foo
        "Contract": "Contract",  # no schema is called "" : no companion clash
        "java": "java$",  # would obscure java.util.… in generated code
        "nexflow": "nexflow$",
        "class": "class$",
    }
    assert {name: java.type_name(name, "nexflow.x") for name in cases} == cases
    # The type's own package's first name: `acme.fraud.X` must still mean the package.
    assert java.type_name("acme", "acme.fraud") == "acme$"
    assert java.type_name("acme", "nexflow.acme") == "acme"
    # Variables (fields, inputs, lets) named like a package generated code spells out in an
    # expression (`java.util.Objects.equals(…)`) would obscure it.
    assert [java.identifier(n) for n in ("java", "nexflow", "org", "amount")] == [
        "java$",
        "nexflow$",
        "org$",
        "amount",
    ]
    # No companion class is a reserved name (`Record`'s contract would be the runtime's
    # RecordContract).
    for reserved in sorted(java.RESERVED_TYPES):
        for suffix in ("Contract", "Job"):
            if reserved.endswith(suffix) and reserved != suffix:
                assert java.type_name(reserved[: -len(suffix)], "p").endswith("$"), reserved


def test_every_kind_named_like_generated_code_compiles(tmp_path: Path) -> None:
    files = javatools.generate_sources(CLASH, "clash", tmp_path)
    names = sorted(p.name for p in files if p.parent.name == "clash")
    for expected in ("Violation$.java", "Violation$Contract.java", "Object$.java",
                     "clash$.java", "Record$.java", "Record$Contract.java", "Bar.java",
                     "BarContract.java", "BarContract$.java", "BarContract$Contract.java",
                     "FlowJob$.java", "FlowJob.java", "Collector$.java", "KafkaSink$.java",
                     "Outputs$.java", "ArrayList$.java", "TreeMap$Job.java",
                     "OutputTag$Job.java", "Keys$.java", "Errors$.java"):  # fmt: skip
        assert expected in names, names
    javatools.javac(files, tmp_path / "classes")


# A package set by hand (`java_package`) whose first name, `acme`, is also the name of an input,
# a `let`, a rule set's and a table's record, a lookup alias, a state, a rolling aggregate and
# a table result: generated code spells the package out (`acme.fraud.Order…`) where those
# names are variables, so they get a `$` in Java (fields keep theirs: `record.acme` cannot
# obscure a package).
ACME = {
    "acme.schema": """
schema Order {
    id: string @key
    acme: string
    amount: decimal(10,2)
}

schema Counted {
    id: string @key
    n: long
}

stream orders: Order
stream outs: Order
stream counts: Counted
store order_store: Order key id
""",
    "acme.transform": """
transform twice {
    input acme: decimal(10,2)
    output decimal(10,2)
    let other = acme * 2
    compute other
}

transform label {
    input o: Order
    output string
    let acme = o.id
    compute concat(acme, "!")
}

transform twice_order {
    input acme: Order
    output Order
    map {
        id = label(acme)
        acme = acme.acme
        amount = twice(acme.amount)
    }
}
""",
    "acme.rules": """
ruleset Big for acme: Order {
    rule big {
        when acme.amount > 10
        then flag "big"
    }
}

decision_table Band for acme: Order hit_policy first {
    inputs {
        acme.amount
    }
    outputs {
        band: string
    }
    rules {
        high: >= 5 -> "HIGH"
        low: - -> "LOW"
    }
}
""",
    "acme.proc": """
proc Doubled {
    from orders
    apply Big rules
    transform using twice_order
    emit to outs
}

proc Remembered {
    from orders
    key by id
    state acme: string ttl 10 minutes
    filter acme is null or acme != acme
    update acme = id
    emit to outs
}

proc Rolled {
    from orders
    key by id
    rolling 1 hour {
        acme = count()
    }
    map into Counted {
        id = id
        n = acme
    }
    emit to counts
}

proc LookedUp {
    from orders
    lookup order_store by id as acme
    apply Band table as band
    filter band.band == "HIGH"
    map into Order {
        id = id
        acme = coalesce(acme.acme, "none")
        amount = amount
    }
    emit to outs
}

proc Banded {
    from orders
    apply Band table as acme
    filter acme.band == "HIGH"
    emit to outs
}
""",
}


def test_variables_named_like_a_hand_set_package_compile(tmp_path: Path) -> None:
    files = javatools.generate_sources(ACME, "acme.fraud", tmp_path)
    twice_order = next(p for p in files if p.name == "twice_order.java").read_text("utf-8")
    assert "apply(acme.fraud.Order acme$)" in twice_order
    assert "out$.acme = acme$.acme;" in twice_order
    javatools.javac(files, tmp_path / "classes")


def test_unit_by_unit_compilation_names_types_as_the_whole_project_does(tmp_path: Path) -> None:
    """As Pants compiles them: each file its own unit, in the package of its directory, against
    the interface files of the others; the same files as whole-project generation."""
    package = "nexflow.tests.names"
    java_dir = tmp_path / "java"
    interfaces: list[str] = []
    for unit in ["names.schema", "names.transform", "names.rules", "names.proc"]:
        interface = tmp_path / (unit + ".nxi")
        argv = ["compile", str(NAMES / unit), "--java-package", package,
                "--interface-out", str(interface), "--output-dir", str(java_dir)]  # fmt: skip
        for dep in interfaces:
            argv += ["--interface", dep]
        assert cli.main(argv) == 0, unit
        interfaces.append(f"{interface}={package}")
    per_unit = {
        p.relative_to(java_dir).as_posix(): p.read_text("utf-8") for p in java_dir.rglob("*.java")
    }
    units = []
    for path in sorted(NAMES.iterdir()):
        text = path.read_text("utf-8")
        units.append(Unit(parse_source(text, str(path)), package, text))
    whole = {f.path: f.content for f in generate(units, [], TARGETS["flink"])}
    assert sorted(per_unit) == sorted(whole)
    assert "nexflow/tests/names/ShipJob.java" in per_unit  # proc Ship's job
    assert "nexflow/tests/names/ShipJob$.java" in per_unit  # schema ShipJob
    assert cli.main(["generate-runtime", "--output-dir", str(java_dir)]) == 0
    javatools.javac(sorted(java_dir.rglob("*.java")), tmp_path / "classes")


def _java_lang_classes() -> set[str]:
    home = javatools.java_home()
    listing = subprocess.run(
        [str(home / "bin" / "jimage"), "list", str(home / "lib" / "modules")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(re.findall(r"^\s*java/lang/([A-Za-z0-9]+)\.class$", listing, re.M))


def _simple_names(source: str) -> set[str]:
    """Capitalised names not qualified by a package or an outer name, outside comments and
    string literals."""
    source = re.sub(r"/\*.*?\*/|//[^\n]*", " ", source, flags=re.S)
    source = re.sub(r'"(?:\\.|[^"\\])*"', '""', source)
    return set(re.findall(r"(?<![\w.$])([A-Z]\w*)", source))


def test_generated_code_uses_no_java_lang_class_outside_the_reserved_set(tmp_path: Path) -> None:
    java_lang = _java_lang_classes()
    assert {"String", "Object", "Math"} <= java_lang
    sources = [p.read_text("utf-8") for p in GOLDEN.rglob("*.java")]
    files = javatools.generate_sources(CLASH, "clash", tmp_path / "clash")
    cards = javatools.dsl_sources(Path("tests/pipelines/cards"))
    files += javatools.generate_sources(cards, "cards", tmp_path / "cards")
    sources += [p.read_text("utf-8") for p in files if p.parent.name != "runtime"]
    used = set().union(*(_simple_names(s) for s in sources)) & java_lang
    assert used <= java.JAVA_LANG_TYPES, sorted(used - java.JAVA_LANG_TYPES)


def test_the_language_reference_lists_the_reserved_type_names() -> None:
    text = DOCS.read_text("utf-8")
    section = text[text.index("## Names in the generated Java") :]
    listed = re.search(r"<!-- reserved-type-names -->(.*?)<!-- /reserved-type-names -->",
                       section, re.S)  # fmt: skip
    assert listed, "docs/language/schema.md lists the reserved type names"
    assert set(re.findall(r"`(\w+)`", listed.group(1))) == java.RESERVED_TYPES
