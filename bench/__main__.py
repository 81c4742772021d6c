"""`python -m bench [NAME ...]`: run the registered benchmarks, print a table, write bench/results.json."""

import argparse
import sys
import traceback
from pathlib import Path

from bench import harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--output", type=Path, default=harness.RESULTS_PATH, help="results file (JSON)")
    parser.add_argument("--list", action="store_true", help="list the registered benchmarks and exit")
    args = parser.parse_args(argv)

    harness.discover()
    if args.list:
        print("\n".join(harness.REGISTRY))
        return 0
    unknown = [name for name in args.names if name not in harness.REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    selected = {name: fn for name, fn in harness.REGISTRY.items() if not args.names or name in args.names}

    try:
        results, errors = harness.run(selected)
    finally:
        harness.cleanup()
    harness.write_results(results, args.output)
    print(harness.format_table(results))
    for name, error in errors.items():
        print(f"benchmark {name} failed:", file=sys.stderr)
        traceback.print_exception(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
