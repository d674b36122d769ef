"""The bounds a run's ratios are held to, and the checks themselves.

Bounds are set from runs on a shared 2-core machine, with margin, so that a
busy machine does not fail them.
"""

# Checkpoint.write throughput / np.save's: up to 256 MB (never faster than
# np.save; a busy run measured 0.78 at 64 MB), and above, where the kernel's
# page-cache allocation dominates both writers.
WRITE_RATIO = (0.05, 1.0)
LARGE_WRITE_RATIO = (0.1, 2.5)
# Checkpoint.read throughput / np.load's, up to 16 MB (arrays under 4 MB, so
# NumPy's huge-page hint plays no part).
MAX_SMALL_READ_RATIO = 0.8
# CPU time of the SaveV2 op / of a plain Python write of the same bytes.
MIN_SAVEV2_CPU_RATIO = 1.3
# Time to write 1024 variables / 1 variable of the same bytes.
MIN_MANY_VARIABLES_RATIO = 1.5
# Time an async write() blocks / a synchronous write, for models of at least
# MIN_ASYNC_MODEL_MB: with oneDNN on (TF's default), and off (this book).
MAX_ASYNC_BLOCK_FRACTION = 0.05
MAX_ASYNC_BLOCK_FRACTION_ONEDNN_OFF = 0.5
MIN_ASYNC_MODEL_MB = 256
# Time to a first prediction, for models of at least MIN_LOAD_CHECK_MB: frozen
# .pb / the slower of SavedModel and checkpoint, and frozen .pb / frozen .pb
# with Grappler off.
MIN_FROZEN_SLOWDOWN = 3.0
MIN_GRAPPLER_OFF_SPEEDUP = 2.0
MIN_LOAD_CHECK_MB = 64


def checks(results):
    """Lists of the texts of the checks that passed and that failed."""
    failures, passed = [], []

    def check(ok, text):
        (passed if ok else failures).append(text)

    for row in results["throughput"]:
        mb = row["size_mb"]
        r = row["methods"]["checkpoint"]["save"]["vs_numpy_best"]
        low, high = WRITE_RATIO if mb <= 256 else LARGE_WRITE_RATIO
        check(
            low <= r <= high,
            f"{mb:.0f} MB: Checkpoint.write at {r:.2f}x np.save's "
            f"throughput (bounds {low}, {high})",
        )
        if mb <= 16:
            r = row["methods"]["checkpoint"]["restore"]["vs_numpy_best"]
            check(
                r <= MAX_SMALL_READ_RATIO,
                f"{mb:.0f} MB: Checkpoint.read at {r:.2f}x np.load's "
                f"throughput (bound <= {MAX_SMALL_READ_RATIO})",
            )

    why = results["why_slower"]
    r = why["savev2_cpu_over_plain_writes"]
    check(
        r >= MIN_SAVEV2_CPU_RATIO,
        f"the SaveV2 op used {r:.2f}x the CPU time of plain writes in 8 MB "
        f"chunks (bound >= {MIN_SAVEV2_CPU_RATIO})",
    )
    cases = why["cases"]
    r = (
        cases["checkpoint_many_vars"]["best"]
        / cases["checkpoint_1_var"]["best"]
    )
    check(
        r >= MIN_MANY_VARIABLES_RATIO,
        f"1024 variables took {r:.1f}x as long to write as 1 variable of the "
        f"same bytes (bound >= {MIN_MANY_VARIABLES_RATIO})",
    )

    for key, bound, setting in (
        ("onednn_on", MAX_ASYNC_BLOCK_FRACTION, "oneDNN on, TF's default"),
        ("onednn_off", MAX_ASYNC_BLOCK_FRACTION_ONEDNN_OFF, "oneDNN off"),
    ):
        a = results["async"][key]
        if a["size_mb"] >= MIN_ASYNC_MODEL_MB:
            check(
                a["block_fraction_best"] <= bound,
                f"async write of {a['size_mb']:.0f} MB ({setting}) blocked "
                f"{a['block_fraction_best']:.1%} of a synchronous write "
                f"(best; bound <= {bound:.0%})",
            )
        check(
            a["restored_values_match_after_sync"],
            f"async checkpoint ({setting}) holds the values of write() time",
        )
    exits = results.get("async_exit")
    if exits:
        check(
            exits["return"]["checkpoint_complete"],
            "a pending async write is completed when the interpreter exits "
            "normally (atexit)",
        )
        check(
            not exits["os._exit"]["checkpoint_complete"],
            "a pending async write is lost when the process ends by os._exit",
        )
        check(
            exits["sync"]["checkpoint_complete"],
            "sync() completes a pending async write",
        )

    for r in results["load_time"]:
        if r["size_mb"] < MIN_LOAD_CHECK_MB - 1:
            continue
        first = {
            k: v["best"] for k, v in r["load_and_first_prediction"].items()
        }
        slowdown = first["frozen_pb"] / max(
            first["savedmodel"], first["checkpoint"]
        )
        check(
            slowdown >= MIN_FROZEN_SLOWDOWN,
            f"{r['size_mb']:.0f} MB: the frozen .pb took {slowdown:.1f}x as "
            "long as the slower of SavedModel and checkpoint to a first "
            f"prediction (bound >= {MIN_FROZEN_SLOWDOWN})",
        )
        speedup = first["frozen_pb"] / first["frozen_pb_no_grappler"]
        check(
            speedup >= MIN_GRAPPLER_OFF_SPEEDUP,
            f"{r['size_mb']:.0f} MB: turning Grappler off made the frozen .pb "
            f"{speedup:.1f}x faster to a first prediction "
            f"(bound >= {MIN_GRAPPLER_OFF_SPEEDUP})",
        )
    return passed, failures
