"""The `[nexflow]` options: where the generator and the L0 runtime live."""

from __future__ import annotations

from pants.option.option_types import BoolOption, StrListOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap


class NexflowSubsystem(Subsystem):
    options_scope = "nexflow"
    help = "Nexflow: compile stream-processing DSLs into Apache Flink Java."

    generator = StrOption(
        default="//nexflow_core:nexflow",
        help=softwrap(
            """
            Address of the `pex_binary` that runs the Nexflow compiler. Codegen processes run it
            in a sandbox, so editing the compiler re-runs exactly the codegen it affects.
            """
        ),
    )
    runtime = StrOption(
        default="//:nexflow-runtime",
        help=softwrap(
            """
            Address of the `nexflow_runtime` target (the L0 runtime). Every Nexflow target
            depends on it.
            """
        ),
    )
    provided_artifacts = StrListOption(
        default=[
            "org.apache.flink:flink-streaming-java",
            "org.apache.flink:flink-clients",
            "org.apache.flink:flink-runtime",
            "org.apache.flink:flink-core",
            "org.apache.flink:flink-connector-base",
            "org.apache.flink:flink-connector-files",
            "org.apache.logging.log4j:log4j-slf4j-impl",
            "org.apache.logging.log4j:log4j-core",
        ],
        help=softwrap(
            """
            `group:artifact` of the JVM artifacts a Flink cluster already provides (its lib/).
            A `nexflow_flink_job` leaves them, and everything they depend on, out of its jar.
            """
        ),
    )
    tailor = BoolOption(
        default=True,
        help="If true, `pants tailor` adds `nexflow_*` targets for DSL files no target owns.",
    )
    infer_dependencies = BoolOption(
        default=True,
        help=softwrap(
            """
            If true, infer each Nexflow target's dependencies from the names its DSL file uses
            (a schema, a stream, a transform, an environment, ...). A name declared by several
            targets is settled by listing one of them in `dependencies`; otherwise Pants warns
            and infers none of them.
            """
        ),
    )
