"""The Java of a decision table's hit policy: one method per policy the model carries
(`model.DecisionTable.hit_policy`; for `collect`, per aggregation), naming the macros of
table.java.j2 that document it, compute its result and help it; any other policy or
aggregation is an error, never a table that silently returns nothing."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from nexflow_core.generate import model


class HitPolicyJava(NamedTuple):
    # The macro of the class comment's sentence on the policy.
    doc: str
    # The macro computing the result from the matching rows.
    result: str
    # The first matching row is the result at once (no later row is tested).
    returns_first: bool = False
    # The macro of helper methods the result needs (None: none).
    helpers: Optional[str] = None
    # How an aggregation combines two values (sum, min, max).
    combine: str = ""


class HitPolicies:
    def java(self, table: model.DecisionTable) -> HitPolicyJava:
        method: Optional[Callable[[model.DecisionTable], HitPolicyJava]] = getattr(
            self, "policy_" + table.hit_policy, None
        )
        if method is None:
            raise ValueError(f"no Java for the hit policy {table.hit_policy!r}")
        return method(table)

    def policy_unique(self, table: model.DecisionTable) -> HitPolicyJava:
        return HitPolicyJava("doc_unique", "result_unique")

    def policy_first(self, table: model.DecisionTable) -> HitPolicyJava:
        return HitPolicyJava("doc_first", "result_unique", returns_first=True)

    def policy_any(self, table: model.DecisionTable) -> HitPolicyJava:
        return HitPolicyJava("doc_any", "result_any")

    def policy_priority(self, table: model.DecisionTable) -> HitPolicyJava:
        return HitPolicyJava("doc_priority", "result_priority", helpers="priority_helpers")

    def policy_collect(self, table: model.DecisionTable) -> HitPolicyJava:
        aggregation = table.aggregation
        if aggregation is None:
            return HitPolicyJava("doc_all", "result_all")
        if aggregation == "count":
            return HitPolicyJava("doc_count", "result_count")
        if aggregation == "sum":
            return HitPolicyJava("doc_aggregate", "result_aggregate", combine="Ops.add")
        if aggregation in ("min", "max"):
            return HitPolicyJava("doc_aggregate", "result_aggregate", combine="Fn." + aggregation)
        raise ValueError(f"no Java for the collect aggregation {aggregation!r}")


hit_policy_java = HitPolicies().java
