"""What decoding files once (``cache_images``) saves on photographs.

    python -m benchmarks.cache_photos --utkface ../shared/data/utkface     # 3,000 faces at 64 px, 3 epochs
    python -m benchmarks.cache_photos --utkface DIR --epochs 10 --rounds 3  # the estimator's epochs
    python -m benchmarks.cache_photos --render                             # only the markdown

UTKFace's 200x200 JPEGs cost more to decode and resize than the 80x80
synthetic faces of ``benchmarks.run``. Each round fits a new
``FaceCNNClassifier(image_size=64, epochs=3, early_stopping=False)`` on the
same ``--n`` photographs given as paths, once with ``cache_images=True``
(decoded once, at the start of ``fit``) and once with ``cache_images=False``
(decoded every epoch), in alternating order; it records the whole fit and
every epoch (``benchmarks.common.epoch_timer``). The ratio is the streaming
fit's seconds over the cached one's, per round.
"""

import argparse
import datetime
import json
import os
import sys

if __package__ in (None, ""):  # python benchmarks/cache_photos.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"  # noqa: A001

import numpy as np

from .common import epoch_timer, machine_summary, merged_runs, results_and_page

JSON_NAME, MD_NAME = "cache_photos.json", "cache_photos.md"
SETUPS = (("cached", True), ("streamed", False))


def one_fit(paths, y, cache, args):
    import time

    from skface import FaceCNNClassifier

    timer = epoch_timer()
    start = time.perf_counter()
    FaceCNNClassifier(image_size=args.size, epochs=args.epochs, early_stopping=False, cache_images=cache,
                      random_state=0, callbacks=[timer], **json.loads(args.params)).fit(paths, y)
    return {"seconds": time.perf_counter() - start, "epoch_seconds": timer.seconds}


def measure(args, log=print):
    from skface.datasets import load_utkface

    frame = load_utkface(args.utkface).sample(n=args.n, random_state=0)
    paths, y = frame["filename"].to_numpy(), frame["class"].to_numpy()
    one_fit(paths[:64], y[:64], False, args)  # warm-up: TensorFlow's own start-up
    rows = {name: {"setup": name, "cache_images": cache, "rounds": []} for name, cache in SETUPS}
    for r in range(args.rounds):
        for name, cache in SETUPS[r % 2:] + SETUPS[: r % 2]:
            run = one_fit(paths, y, cache, args)
            rows[name]["rounds"].append(run)
            log(f"round {r + 1}/{args.rounds} {name}: {run['seconds']:.1f} s, epochs "
                f"{', '.join(f'{s:.1f}' for s in run['epoch_seconds'])}")
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_summary(), "n_images": len(paths), "image_size": args.size, "epochs": args.epochs,
            "rows": list(rows.values())}


def render(results):
    first_run = results["runs"][0]
    m = first_run["machine"]
    lines = [
        "# Decoding photographs once",
        "",
        f"Written by `python -m benchmarks.cache_photos`; do not edit by hand, rerun it. Raw numbers: "
        f"`benchmarks/results/{JSON_NAME}`. Machine: {m['cpu_model']}, {m['cores_available']} cores.",
        "",
        f"{first_run['n_images']:,} UTKFace photographs (200x200 JPEGs) as paths, `FaceCNNClassifier(image_size="
        f"{first_run['image_size']}, epochs=E, early_stopping=False)`, a new estimator per fit, the rounds "
        "alternating the order. \"streamed / cached\" is the streaming fit's seconds over the cached one's in "
        "the same round: above 1, the cache is faster.",
        "",
        "| epochs E (rounds, date) | | cached (s, median) | streamed (s, median) | streamed / cached "
        "(median [lowest-highest]) |",
        "|---|---|---:|---:|---:|",
    ]
    for run in results["runs"]:
        cached, streamed = (next(r for r in run["rows"] if r["setup"] == name)["rounds"] for name, _ in SETUPS)
        for label, part in (
            ("whole fit", lambda t: t["seconds"]),
            ("first epoch (the cache decodes before it)", lambda t: t["epoch_seconds"][0]),
            ("later epochs (mean)", lambda t: np.mean(t["epoch_seconds"][1:])),
        ):
            ratio = np.asarray([part(b) / part(a) for a, b in zip(cached, streamed)])
            lines.append(
                f"| {run['epochs']} ({len(cached)}, {run['date'][:16].replace('T', ' ')}) | {label} | "
                f"{np.median([part(t) for t in cached]):.1f} | {np.median([part(t) for t in streamed]):.1f} | "
                f"{np.median(ratio):.2f} [{ratio.min():.2f}-{ratio.max():.2f}] |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utkface", help="the UTKFace folder")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--params", default="{}", help="more estimator parameters, a JSON object")
    parser.add_argument("--out", default=None, help="one folder for the JSON and the page (default: results/, docs/)")
    parser.add_argument("--render", action="store_true", help="only write the markdown from the JSON")
    args = parser.parse_args(argv)
    if not args.render and not (args.utkface and os.path.isdir(args.utkface)):
        parser.error(f"--utkface {args.utkface!r} is not a folder; give the UTKFace folder")

    def measured(json_path):  # one run per number of epochs: a rerun replaces its own
        return merged_runs(json_path, measure(args), key=lambda r: r["epochs"], order=lambda r: r["epochs"])

    return results_and_page(args.out, args.render, JSON_NAME, MD_NAME, measured, render)

if __name__ == "__main__":
    main()
