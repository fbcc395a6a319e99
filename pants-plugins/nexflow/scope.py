"""Which directory's blocks an environment name means (no Pants imports: tests load it).

The same rule as `nexflow_core.check.infra_check.nearest_scope`, which the compiler applies
to the interface files it is given; the plugin runs in Pants' interpreter without the
compiler's dependencies, so it keeps its own copy, and tests/generate/test_environment_scope.py
checks the two agree.
"""

from __future__ import annotations

from typing import Iterable, Optional


def nearest_scope(consumer_dir: str, declaring_dirs: Iterable[str]) -> Optional[str]:
    """The nearest of `declaring_dirs` that is `consumer_dir` itself or one of its ancestors
    (None if there is none): a proc never sees a sibling directory's environment."""
    best: Optional[str] = None
    for d in set(declaring_dirs):
        inside = d == "" or consumer_dir == d or consumer_dir.startswith(d.rstrip("/") + "/")
        if inside and (best is None or len(d) > len(best)):
            best = d
    return best
