"""The symbol map: which Nexflow target declares each DSL name, and which names each refers to.

One cached run of `nexflow symbols` reads every Nexflow DSL file of the repository (names only,
no checking); an edit to one file re-runs it, which takes about as long as starting the compiler.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Tuple

from pants.backend.python.util_rules.pex import VenvPexProcess
from pants.build_graph.address import Address
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.engine.fs import Digest, DigestContents
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.target import AllTargets, Targets
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

from nexflow.codegen import NexflowGenerator, speculate_late
from nexflow.target_types import NexflowSourceField

# (namespace, name): namespace is "type", "stream", "store" or "environment".
Symbol = Tuple[str, str]


class AllNexflowTargets(Targets):
    pass


@rule(desc="Find all Nexflow targets", level=LogLevel.DEBUG)
def find_all_nexflow_targets(targets: AllTargets) -> AllNexflowTargets:
    return AllNexflowTargets(tgt for tgt in targets if tgt.has_field(NexflowSourceField))


@dataclass(frozen=True)
class NexflowFileSymbols:
    address: Address
    path: str
    kind: str
    references: Tuple[Symbol, ...]
    may_depend_on: Tuple[str, ...]


@dataclass(frozen=True)
class NexflowSymbolMap:
    declared_by: FrozenDict[Symbol, FrozenSet[Address]]
    files: FrozenDict[Address, NexflowFileSymbols]

    def kind_of(self, address: Address) -> str:
        return self.files[address].kind if address in self.files else ""

    def path_of(self, address: Address) -> str:
        return self.files[address].path if address in self.files else address.spec

    def names_in(self, namespace: str) -> Tuple[str, ...]:
        return tuple(sorted(name for ns, name in self.declared_by if ns == namespace))


_OUTPUT = "nexflow-symbols.json"


@dataclass(frozen=True)
class NexflowSymbolMapRequest:
    """Asked for inside a rule's body rather than taken as a rule parameter, so that a rule that
    turns out not to need the map (inference switched off, a proc without an environment) does
    not build and run the compiler for it."""


@rule(desc="Map Nexflow names to targets", level=LogLevel.DEBUG)
async def build_nexflow_symbol_map(
    request: NexflowSymbolMapRequest, targets: AllNexflowTargets, generator: NexflowGenerator
) -> NexflowSymbolMap:
    sources = await Get(
        SourceFiles, SourceFilesRequest(tgt[NexflowSourceField] for tgt in targets)
    )
    owner: Mapping[str, Address] = {
        path: tgt.address
        for tgt in targets
        for path in [tgt[NexflowSourceField].file_path]
    }
    process = await Get(
        Process,
        VenvPexProcess(
            generator.pex,
            argv=["symbols", "--output", _OUTPUT, *sorted(sources.snapshot.files)],
            input_digest=sources.snapshot.digest,
            output_files=(_OUTPUT,),
            description=f"Reading the names of {len(sources.snapshot.files)} Nexflow files",
            level=LogLevel.DEBUG,
        ),
    )
    result = await Get(ProcessResult, Process, speculate_late(process))
    (content,) = await Get(DigestContents, Digest, result.output_digest)
    return symbol_map_from_report(json.loads(content.content), owner)


def symbol_map_from_report(
    report: Iterable[Mapping[str, Any]], owner: Mapping[str, Address]
) -> NexflowSymbolMap:
    """The map from what `nexflow symbols` reports (one entry per file) and each file's owner."""
    declared_by: Dict[Symbol, set] = defaultdict(set)
    files: Dict[Address, NexflowFileSymbols] = {}
    for entry in report:
        address = owner[entry["path"]]
        for name in entry["declares"]:
            declared_by[(name["namespace"], name["name"])].add(address)
        files[address] = NexflowFileSymbols(
            address=address,
            path=entry["path"],
            kind=entry["kind"],
            references=tuple((n["namespace"], n["name"]) for n in entry["references"]),
            may_depend_on=tuple(entry["may_depend_on"]),
        )
    return NexflowSymbolMap(
        declared_by=FrozenDict({k: frozenset(v) for k, v in declared_by.items()}),
        files=FrozenDict(files),
    )


def rules() -> Iterable[Rule]:
    return collect_rules()
