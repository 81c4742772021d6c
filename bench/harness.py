"""Benchmark harness: modules in this package register functions with `@benchmark`.

A benchmark function takes no arguments and returns `result(...)`: one dict with at least the keys
of `RESULT_KEYS`. `floor_p50_ms` is the p50 of the least the kernel must do for the same work (None when
there is no meaningful floor); `ratio` is p50 / floor; `goal` says in words what the numbers should meet.

    from bench.harness import benchmark, result, sample

    @benchmark
    def sandbox_create():
        samples = sample(create_and_destroy, n=25)
        return result("sandbox_create", samples, floor_p50_ms=0.28, goal="p50 <= 60 ms")
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

Benchmark = Callable[[], dict]

RESULT_KEYS = ("name", "p50_ms", "p95_ms", "n", "floor_p50_ms", "ratio", "goal")
RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
_NOT_BENCHMARKS = {"harness", "__main__", "reaper"}

REGISTRY: dict[str, Benchmark] = {}


def benchmark(fn: Benchmark | None = None, *, name: str = ""):
    """Register `fn` (`@benchmark`) under its function name, or under `name` (`@benchmark(name=...)`:
    the name its result gets when that depends on the run, e.g. a class size); the names of all
    registered benchmarks are unique."""

    def register(fn: Benchmark) -> Benchmark:
        key = name or fn.__name__
        if key in REGISTRY:
            raise ValueError(f"benchmark {key!r} is registered twice")
        REGISTRY[key] = fn
        return fn

    return register(fn) if fn is not None else register


def sample(fn: Callable[[], object], *, n: int, warmup: int = 1) -> list[float]:
    """Wall-clock milliseconds of `n` calls of `fn`, after `warmup` calls that are not measured."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: Iterable[float], q: float) -> float:
    """The `q`th percentile (0..100) of `samples`, interpolated linearly between the nearest ranks."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def result(name: str, samples_ms: list[float], *, floor_p50_ms: float | None, goal: str) -> dict:
    """The result record of one benchmark from its samples in milliseconds."""
    p50 = percentile(samples_ms, 50)
    return {
        "name": name,
        "p50_ms": round(p50, 3),
        "p95_ms": round(percentile(samples_ms, 95), 3),
        "n": len(samples_ms),
        "floor_p50_ms": floor_p50_ms,
        "ratio": round(p50 / floor_p50_ms, 2) if floor_p50_ms else None,
        "goal": goal,
    }


def discover() -> None:
    """Import every module of the `bench` package so that their benchmarks register."""
    package = importlib.import_module("bench")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _NOT_BENCHMARKS and not module.name.startswith("_"):
            importlib.import_module(f"bench.{module.name}")


def cleanup() -> None:
    """Call `cleanup()` of every imported benchmark module that has one (resources they hold)."""
    for name, module in list(sys.modules.items()):
        ours = name.startswith("bench.") and name not in ("bench.harness", "bench.__main__")
        if ours and callable(getattr(module, "cleanup", None)):
            module.cleanup()


def run(benchmarks: dict[str, Benchmark]) -> tuple[list[dict], dict[str, BaseException]]:
    """Run `benchmarks` in order; return the results and, by name, the errors of those that failed."""
    results: list[dict] = []
    errors: dict[str, BaseException] = {}
    for name, fn in benchmarks.items():
        try:
            record = fn()
        except Exception as error:  # one broken benchmark must not hide the others' numbers
            errors[name] = error
            continue
        missing = [key for key in RESULT_KEYS if key not in record]
        if missing:
            errors[name] = ValueError(f"result lacks {', '.join(missing)}")
            continue
        # The required keys first; a benchmark may add its own (e.g. memory per sandbox).
        results.append({**{key: record[key] for key in RESULT_KEYS}, **record})
    return results, errors


def write_results(results: list[dict], path: Path = RESULTS_PATH) -> None:
    """Write `results` as a JSON list."""
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def format_table(results: list[dict]) -> str:
    """`results` as a plain-text table, one benchmark per row."""
    if not results:
        return "no benchmarks registered"
    header = ("name", "p50 ms", "p95 ms", "n", "floor p50 ms", "ratio", "goal")
    rows = [tuple("-" if r[key] is None else str(r[key]) for key in RESULT_KEYS) for r in results]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    )
