"""The four PNG plots of a run, from its results."""

import numpy as np

LOAD_KEYS = ("frozen_pb", "frozen_pb_no_grappler", "savedmodel", "checkpoint")


def plot(results, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcdefaults()
    written = []

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out_dir / name, dpi=100)
        plt.close(fig)
        written.append(name)

    rows = results["throughput"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, op in zip(axes, ("save", "restore")):
        for key, method in rows[0]["methods"].items():
            if op not in method:
                continue
            ax.plot(
                [row["size_mb"] for row in rows],
                [row["methods"][key][op]["mb_per_s_best"] for row in rows],
                marker="o",
                linestyle="--" if key == "numpy" else "-",
                label=method["label"],
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("model size (MB)")
        ax.set_ylabel("throughput (MB/s, best of N)")
        ax.set_title(f"{op.capitalize()} throughput")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    save(fig, "throughput.png")

    why = results["why_slower"]
    cases = list(why["cases"].values())
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.barh(
        [c["label"] for c in cases][::-1],
        [c["mb_per_s_best"] for c in cases][::-1],
        color="#6baed6",
    )
    ax.set_xlabel("MB/s (best of N)")
    ax.set_title(f"Writing {why['size_mb']:.0f} MB: where the time goes")
    save(fig, "why_slower.png")

    rows = [
        ("synchronous write", "sync_write"),
        ("async: write() blocks", "async_block"),
        ("async: write() until sync() returns", "async_until_synced"),
        ("training step alone", "train_step_alone"),
        ("training step during the write", "train_step_after_async_write"),
    ]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ys = np.arange(len(rows))
    for i, (key, name) in enumerate(
        (
            ("onednn_off", "oneDNN off (this book)"),
            ("onednn_on", "oneDNN on (TF default)"),
        )
    ):
        a = results["async"][key]
        ax.barh(
            ys + 0.4 * i, [a[k]["median"] for _, k in rows], 0.4, label=name
        )
    ax.set_yticks(ys + 0.2, [label for label, _ in rows])
    ax.invert_yaxis()
    ax.set_xlabel("seconds (median)")
    ax.set_title(
        "Async checkpointing, "
        f"{results['async']['onednn_on']['size_mb']:.0f} MB model"
    )
    ax.legend()
    save(fig, "async.png")

    loads = results["load_time"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(loads)
    for i, r in enumerate(loads):
        ax.bar(
            [k + i * width for k in range(len(LOAD_KEYS))],
            [r["load_and_first_prediction"][k]["best"] for k in LOAD_KEYS],
            width,
            label=f"{r['size_mb']:.0f} MB model",
        )
    ax.set_xticks(
        [k + width * (len(loads) - 1) / 2 for k in range(len(LOAD_KEYS))],
        [
            "frozen .pb",
            "frozen .pb,\nGrappler off",
            "SavedModel",
            "checkpoint\n+ Python code",
        ],
    )
    ax.set_yscale("log")
    ax.set_ylabel("seconds to first prediction (best, log scale)")
    ax.set_title("Load time of the same model")
    ax.legend()
    save(fig, "load_time.png")
    return written
