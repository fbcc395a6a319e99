"""The JVM versions generated code targets and a generated Maven project pins. They must equal
the pins in 3rdparty/jvm/BUILD (the one place the repository pins them) and what its lockfile
resolves; tests/cli checks that they do."""

from __future__ import annotations

FLINK_VERSION = "2.2.1"
# The official Kafka connector is versioned <connector>-<Flink major.minor>.
FLINK_KAFKA_CONNECTOR_VERSION = "5.0.0-" + FLINK_VERSION.rsplit(".", 1)[0]
JACKSON_VERSION = "2.18.2"
# The official MongoDB Java driver: the L0 runtime's client of `type: mongodb` stores.
MONGODB_DRIVER_VERSION = "5.14.0"
# The logging API the L0 runtime uses. Flink clusters bring it (provided scope); Maven does not
# see it through Flink's poms, so the pom names it. The version is the one 3rdparty/jvm's
# lockfile resolves for Flink.
SLF4J_VERSION = "1.7.36"
JAVA_RELEASE = "17"
# Maven plugins, pinned so that a verify build does the same thing on every machine.
MAVEN_COMPILER_PLUGIN_VERSION = "3.13.0"
MAVEN_RESOURCES_PLUGIN_VERSION = "3.3.1"
