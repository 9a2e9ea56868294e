"""Shared pieces of the reader fuzz: profiles, the per-reader counter and mutations.

Profiles: ``ci`` (the default: a bounded number of examples per reader, run by the
suite) and ``fuzz`` (a long run): ``HYPOTHESIS_PROFILE=fuzz make fuzz``. The counts of
inputs tried per reader are printed at the end of the session.
"""

from __future__ import annotations

import collections
import copy
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("GRIDCORE_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("GRIDCORE_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FUZZ = settings.get_profile(PROFILE if PROFILE in ("ci", "fuzz") else "ci")
"""The settings every fuzz test runs with (the profile named by HYPOTHESIS_PROFILE)."""

TRIED: collections.Counter[str] = collections.Counter()
"""Inputs tried per reader in this session."""
REFUSED: collections.Counter[str] = collections.Counter()
"""Of those, the ones refused with a GridcoreError."""

# JSON-like values of every kind, with the awkward ones made likely
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, -1, 1, 2**63, -(2**63) - 1, 10**30, 250, 1_000_000_000])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e30, 2.5, float("nan"), float("inf"), -0.0, 1e-300])
    | st.text(max_size=12)
    | st.sampled_from(["", "250", "grid", "../../etc/passwd", "Mars/Olympus", "\x00", "1e9"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, (*prefix, i)))
    return out


@st.composite
def mutated(draw: st.DrawFn, doc: Any, max_edits: int = 3) -> Any:
    """`doc` with 1 to `max_edits` edits: a value replaced, a key dropped or added."""
    out = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_edits))):
        paths = _paths(out)
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        node = out
        for part in path[:-1]:
            node = node[part]
        last = path[-1]
        op = draw(st.sampled_from(["replace", "replace", "drop", "add", "stringify"]))
        if op == "replace":
            node[last] = draw(json_values)
        elif op == "drop":
            del node[last]
        elif op == "stringify":
            node[last] = str(node[last])
        elif isinstance(node[last], dict):
            node[last][draw(st.text(max_size=8))] = draw(json_values)
        elif isinstance(node[last], list):
            node[last].append(draw(json_values))
    return out


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with bytes flipped, cut or inserted (non-UTF-8 included), or random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not buf:
            break
        i = draw(st.integers(0, len(buf) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if op == "flip":
            buf[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del buf[i : i + draw(st.integers(1, 20))]
        elif op == "insert":
            buf[i:i] = draw(st.binary(min_size=1, max_size=8))
        else:
            del buf[i:]
    return bytes(buf)
