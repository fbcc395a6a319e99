"""An environment's Kafka client settings (model.KafkaClient) → the properties of the Kafka
client the Flink job's KafkaSource and KafkaSink use: the one place the Flink adapter spells
Kafka's property names.

The job's generated `defaults()` puts them as `kafka.<property>` (the key its program
arguments override them with; the L0 runtime's JobArgs hands what follows `kafka.` to the
client); a local run's plan carries the same keys. Secrets stay config-provider references
(`${env:VAR}`, `${dir:/dir:name}`), so the job also registers Kafka's env and dir providers.
"""

from __future__ import annotations

from typing import Optional

from nexflow_core.generate import model

# What the program arguments and defaults() prefix a Kafka client property with.
PREFIX = "kafka."

# Settings with a name of their own in the DSL; the rest pass through (`a_b` → `a.b`).
_NAMES = {
    "brokers": "bootstrap.servers",
    "security_protocol": "security.protocol",
    "truststore": "ssl.truststore.location",
    "truststore_password": "ssl.truststore.password",
    "truststore_type": "ssl.truststore.type",
    "keystore": "ssl.keystore.location",
    "keystore_password": "ssl.keystore.password",
    "keystore_type": "ssl.keystore.type",
    "key_password": "ssl.key.password",
}
# The DSL's SASL mechanism → (Kafka's name for it, the JAAS login module a username and
# password are given to; None: the mechanism logs in otherwise).
_SASL: dict[str, tuple[str, Optional[str]]] = {
    "PLAIN": ("PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule"),
    "SCRAM_SHA_256": ("SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule"),
    "SCRAM_SHA_512": ("SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule"),
    "GSSAPI": ("GSSAPI", None),
    "OAUTHBEARER": ("OAUTHBEARER", None),
}
_PROVIDERS = {
    "config.providers": "env,dir",
    "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    "config.providers.dir.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
}


def property_name(name: str) -> str:
    """Kafka's property name for a setting of the DSL's `kafka { … }` block."""
    return _NAMES.get(name, name.replace("_", "."))


def client_settings(client: model.KafkaClient) -> list[model.Setting]:
    """The client's properties, keyed `kafka.<property>`, by key."""
    out = [
        model.Setting(
            key=PREFIX + property_name(s.key), value=s.value, kind=s.kind, origin=s.origin
        )
        for s in client.settings
    ]
    mechanism = client.sasl_mechanism
    if mechanism is not None:
        wire, module = _SASL.get(mechanism.name, (mechanism.name, None))
        out.append(
            model.Setting(key=PREFIX + "sasl.mechanism", value=wire, origin=mechanism.origin)
        )
        user, password = client.username, client.password
        if module is not None and user is not None and password is not None:
            jaas = f'{module} required username="{user.value}" password="{password.value}";'
            kind = "secret" if "secret" in (user.kind, password.kind) else "literal"
            out.append(
                model.Setting(
                    key=PREFIX + "sasl.jaas.config", value=jaas, kind=kind, origin=password.origin
                )
            )
    if any(s.kind == "secret" for s in out):
        for k, v in _PROVIDERS.items():
            out.append(model.Setting(key=PREFIX + k, value=v))
    return sorted(out, key=lambda s: s.key)
