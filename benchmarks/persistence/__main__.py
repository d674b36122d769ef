"""Command line of the benchmark: `python -m benchmarks.persistence --help`."""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import ROOT, log
from . import __doc__ as DOC
from .async_ import (
    async_benchmark,
    async_exit_children,
    async_in_child,
    print_async,
)
from .checks import checks
from .formats import print_sweep, sweep
from .loading import load_time, print_load
from .plots import plot
from .why import decomposition, print_decomposition

SIZES_MB = (1, 4, 16, 64, 256, 1024)


def size_in_mb(text):
    """An argparse type: a model size of at least 1 MB."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of megabytes"
        ) from None
    if not value >= 1:
        raise argparse.ArgumentTypeError(
            f"{text} MB is too small: the smallest model is 1 MB"
        )
    return value


def parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.persistence",
        description=DOC.split("\n")[0],
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="sizes up to 64 MB, 3 rounds, async at 256 MB: a few minutes",
    )
    parser.add_argument(
        "--max-mb",
        type=size_in_mb,
        default=None,
        help="largest model in the throughput sweep, at least 1 "
        "(default 1024; 64 with --quick)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "test-output" / "bench",
        help="folder for results.json and the plots (default test-output/bench)",
    )
    parser.add_argument(
        "--no-exit-test",
        action="store_true",
        help="skip the three child processes that test async writes at exit",
    )
    parser.add_argument("--async-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--async-mb", type=size_in_mb, default=256, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--async-rounds", type=int, default=5, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out}: exists and is not a folder")
    return args


def plan(args):
    max_mb = args.max_mb or (64 if args.quick else 1024)
    sizes = [s for s in SIZES_MB if s <= max_mb] or [max_mb]
    if args.quick:
        sizes = [s for s in sizes if s in (1, 16, 64)] or sizes
    why_mb = min(64 if args.quick else 256, max(sizes))
    async_mb = 256 if args.quick else 512
    load_sizes = [64] if args.quick else [64, 256]
    if args.max_mb is not None:
        async_mb = min(async_mb, max(args.max_mb, 16))
        load_sizes = [s for s in load_sizes if s <= args.max_mb] or [
            max(sizes)
        ]
    return sizes, why_mb, async_mb, load_sizes


def run_async_child(args):
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    with tempfile.TemporaryDirectory(
        prefix="persistence-bench-async-"
    ) as folder:
        result = async_benchmark(
            args.async_mb, Path(folder), args.async_rounds
        )
    args.async_child.write_text(json.dumps(result))
    return 0


def main(argv=None):
    args = parse(argv)
    if args.async_child:
        return run_async_child(args)
    sizes, why_mb, async_mb, load_sizes = plan(args)
    rounds = 3 if args.quick else 5

    started = time.perf_counter()
    import tensorflow as tf

    # Saver.restore logs an INFO line per call.
    tf.get_logger().setLevel("ERROR")
    memory_gb = (
        os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    )
    log(
        f"TensorFlow {tf.__version__}, NumPy {np.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{memory_gb:.0f} GB, load average {os.getloadavg()[0]:.1f}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="persistence-bench-"))
    results = {
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_gb),
        "load_average_start": os.getloadavg(),
        "quick": args.quick,
        "sizes_mb": sizes,
    }
    try:
        log(f"\n1. throughput, sizes {sizes} MB")
        results["throughput"] = sweep(sizes, workdir, args.quick)
        print_sweep(results["throughput"])

        log(f"\n2. why Checkpoint.write is slower, at {why_mb} MB")
        results["why_slower"] = decomposition(why_mb, workdir, rounds)
        print_decomposition(results["why_slower"])

        log(
            f"\n3. async checkpointing, {async_mb} MB model, with oneDNN off "
            "(this book's setting) and on (TensorFlow's default, in a child "
            "process)"
        )
        results["async"] = {
            "onednn_off": async_benchmark(async_mb, workdir, rounds),
            "onednn_on": async_in_child(async_mb, rounds, "1"),
        }
        exits = None
        if not args.no_exit_test:
            exits = async_exit_children(workdir, min(async_mb, 256))
            results["async_exit"] = exits
        print_async(results["async"]["onednn_off"], None)
        print_async(results["async"]["onednn_on"], exits)

        log(f"\n4. load time, models of {load_sizes} MB")
        results["load_time"] = [
            load_time(s, workdir, 3 if s <= 64 else 2, warm_up=int(i == 0))
            for i, s in enumerate(load_sizes)
        ]
        print_load(results["load_time"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    results["load_average_end"] = os.getloadavg()
    results["runtime_s"] = time.perf_counter() - started
    results["plots"] = plot(results, args.out)
    passed, failures = checks(results)
    results["checks"] = {"passed": passed, "failed": failures}
    (args.out / "results.json").write_text(json.dumps(results, indent=1))

    try:
        shown = args.out.resolve().relative_to(ROOT)
    except ValueError:
        shown = args.out
    log(
        f"\nresults and plots in {shown}/ "
        f"({', '.join(['results.json'] + results['plots'])}); "
        f"run took {results['runtime_s']:.0f} s"
    )
    log("\nCHECKS")
    for text in passed:
        log(f"  ok      {text}")
    for text in failures:
        log(f"  FAILED  {text}")
    if failures:
        print(
            f"benchmarks.persistence: {len(failures)} check(s) failed; the "
            f"numbers above and {shown}/results.json show by how much",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
