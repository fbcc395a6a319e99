"""The `[nexflow]` options: where the generator and the L0 runtime live, what a job jar leaves
out, and the upgrade gate `pants check` runs (docs/upgrades.md)."""

from __future__ import annotations

from typing import Optional

from pants.option.option_types import BoolOption, SkipOption, StrListOption, StrOption
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
    baseline = StrOption(
        default=None,
        help=softwrap(
            """
            A directory under the build root holding the baseline of the last release: what
            `nexflow baseline --from-jar JAR... --output-dir DIR` extracts from the release's
            `nexflow_flink_job` jars (or `nexflow baseline` writes). When set, `pants check`
            runs the upgrade gate (the `nexflow-compat` checker): every proc bound to an
            `environment` is compared with its jobs' state descriptions there, every schema
            file's streams and stores with the interfaces there, and a change whose savepoint
            would not restore, that loses a state not allowed below, or that breaks a stream's
            contract fails the check. Unset: no gate.
            """
        ),
    )
    allow_state_loss = StrListOption(
        default=[],
        help=softwrap(
            """
            `JOB.STATE` of each state the upgrade gate may lose (it starts empty or is dropped
            on restore): the state's DSL name, e.g. `Payments.last_amount`, `Payments.dedup`.
            The gate's `--allow-loss`.
            """
        ),
    )
    allow_non_restored_state = BoolOption(
        default=False,
        help=softwrap(
            """
            If true, the jobs will be started with Flink's `--allowNonRestoredState`: the
            upgrade gate takes the state of removed operators as dropped (a loss, see
            `allow_state_loss`) instead of a savepoint Flink refuses.
            """
        ),
    )

    def baseline_dir(self) -> Optional[str]:
        """The baseline directory, relative to the build root (None: no gate)."""
        value = (self.baseline or "").strip().rstrip("/")
        return value or None


class NexflowTestSubsystem(Subsystem):
    options_scope = "nxtest"
    name = "nxtest"
    help = softwrap(
        """
        `pants test` for `nexflow_test` targets: each `.nxtest` file runs through `nexflow test`
        against the Java generated from the DSL files it tests (docs/language/tests.md).
        """
    )

    skip = SkipOption("test")
