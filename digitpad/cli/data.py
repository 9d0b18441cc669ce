"""digitpad data: which MNIST is used, and its checks."""

from __future__ import annotations

import argparse
import json

from digitpad.core.data.mnist import SOURCES, load_dataset


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    data = sub.add_parser("data", help="show which MNIST source is used and its checks")
    data.add_argument("--source", choices=SOURCES, default="auto")
    data.add_argument("--json", action="store_true")
    data.set_defaults(handler=cmd_data)


def cmd_data(args: argparse.Namespace) -> int:
    data = load_dataset(args.source)
    checks = data.checks()
    if args.json:
        print(
            json.dumps(
                {
                    "source": data.source,
                    "location": data.location,
                    "sha256": data.sha256,
                    "checks": checks,
                    "notes": data.notes,
                }
            )
        )
        return 0
    print(
        f"MNIST source: {data.source}\nlocation:     {data.location}\nsha256:       {data.sha256}"
    )
    print(f"train: {data.x_train.shape} {data.x_train.dtype}   test: {data.x_test.shape}")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    for note in data.notes:
        print(f"note: {note}")
    return 0
