"""How fast parse_email runs compared with the bare stdlib parser, and whether its memory stays flat.

Run: python -m bench.parse [--rounds 5] [--repeat 40] [--memory-parses 10000]

Throughput is measured in the same run, interleaved (A B A B ...) and reported as the median of the paired
ratios, because run-to-run noise on a shared machine is far larger than the differences we look for.
Two baselines are printed: `email.message_from_bytes` as called bare (compat32 policy), and the same call with
`policy.default`, which is what parse_email builds on; the ratio against the latter is the like-for-like one.
"""

from __future__ import annotations

import argparse
import email
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from pathlib import Path

from parsers.email import parse_email

# The development corpus the issue names, where it lies beside the checkout; else its copy here. The copy also holds
# the cases written in this repository, heavier on HTML and attachments: `--corpus tests/corpus/email` for those.
CORPUS_FOLDERS = (Path("../shared/corpus/email"), Path("tests/corpus/email"))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def corpus_mail(folders: tuple[Path, ...] = CORPUS_FOLDERS) -> list[bytes]:
    for folder in folders:
        files = sorted(folder.glob("*/*.eml"))
        if files:
            return [path.read_bytes() for path in files]
    raise SystemExit("no corpus e-mails (*/*.eml) found under " + " or ".join(map(str, folders)))


def stdlib_compat32(raw: bytes) -> object:
    return email.message_from_bytes(raw)


def stdlib_default(raw: bytes) -> object:
    return email.message_from_bytes(raw, policy=policy.default)


def gateway(raw: bytes) -> object:
    return parse_email(raw, mailbox="pomoc", received_at=NOW)


def rate(parse: Callable[[bytes], object], messages: list[bytes], repeat: int) -> float:
    """Messages per second for `repeat` passes over `messages`."""
    started = time.perf_counter()
    for _ in range(repeat):
        for raw in messages:
            parse(raw)
    return repeat * len(messages) / (time.perf_counter() - started)


def throughput(messages: list[bytes], rounds: int, repeat: int) -> None:
    rates: dict[str, list[float]] = {"stdlib compat32": [], "stdlib policy.default": [], "parse_email": []}
    ratios: dict[str, list[float]] = {"vs compat32": [], "vs policy.default": []}
    for _ in range(rounds):
        compat = rate(stdlib_compat32, messages, repeat)
        ours = rate(gateway, messages, repeat)
        default = rate(stdlib_default, messages, repeat)
        ours_again = rate(gateway, messages, repeat)
        rates["stdlib compat32"].append(compat)
        rates["stdlib policy.default"].append(default)
        rates["parse_email"].extend((ours, ours_again))
        ratios["vs compat32"].append(ours / compat)
        ratios["vs policy.default"].append(ours_again / default)
    parses = rounds * repeat * len(messages)
    print(f"throughput: {len(messages)} corpus e-mails, {rounds} interleaved rounds, {parses} parses per contender")
    for name, values in rates.items():
        print(f"  {name:<22} median {statistics.median(values):9.0f} msg/s")
    for name, values in ratios.items():
        print(
            f"  parse_email {name:<18} median ratio {statistics.median(values):.3f}  (rounds: "
            + ", ".join(f"{value:.3f}" for value in values)
            + ")"
        )


def memory(messages: list[bytes], parses: int) -> None:
    """Traced memory after each tenth of `parses`: a leak shows as a steady climb, a flat line as none."""
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    checkpoints: list[int] = []
    step = max(parses // 10, 1)
    for index in range(parses):
        gateway(messages[index % len(messages)])
        if (index + 1) % step == 0:
            gc.collect()
            checkpoints.append(tracemalloc.get_traced_memory()[0] - baseline)
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    print(f"memory: {parses} parses, traced bytes held after each {step}:")
    print("  " + " ".join(f"{value / 1024:.0f}K" for value in checkpoints))
    growth = checkpoints[-1] - checkpoints[0]
    print(f"  growth first->last checkpoint {growth / 1024:+.0f} KiB, peak {peak / 1024 / 1024:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median taken)")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus per contender per round")
    parser.add_argument("--memory-parses", type=int, default=10_000)
    parser.add_argument("--corpus", type=Path, help="a folder of */*.eml to parse instead of the development corpus")
    args = parser.parse_args()
    messages = corpus_mail((args.corpus,) if args.corpus else CORPUS_FOLDERS)
    throughput(messages, args.rounds, args.repeat)
    memory(messages, args.memory_parses)


if __name__ == "__main__":
    main()
