"""What a user would pick instead: the same network in Keras 3 on TensorFlow and on JAX, on this CPU.

    python -m benchmarks.peers                        # 1,024 faces at 80 px, 3 rounds
    python -m benchmarks.peers --render               # only the markdown
    python -m benchmarks.peers --n 64 --size 16 --rounds 1 --out /tmp/peers   # a smoke run

The network is skface's (``skface._model.build_model``, which imports only
Keras), trained with the same focal loss, Adam and batch 32 on the same
synthetic faces as ``benchmarks.run`` (decoded into a float32 array), in
float32 and in mixed_bfloat16. A backend is chosen when Keras is imported,
so every set-up runs in a child process of its own; the set-ups are
interleaved round by round, each child warms up (traces or compiles) and then
times ``--epochs`` epochs and one prediction pass, keeping the fastest epoch.
The ratios are against Keras on TensorFlow in float32 in the same round.

PyTorch is not measured: its CPU wheels come from download.pytorch.org, which
this machine cannot reach, and the PyPI wheel brings about 3 GB of CUDA
libraries; the page says so rather than show numbers from elsewhere.
"""

import argparse
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import time

if __package__ in (None, ""):  # python benchmarks/peers.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"  # noqa: A001

import numpy as np

from .common import ROOT, machine_details, results_and_page

JSON_NAME, MD_NAME = "peers.json", "peers.md"
#: (backend, precision): the set-ups, the baseline first
SETUPS = (("tensorflow", "float32"), ("tensorflow", "mixed_bfloat16"), ("jax", "float32"), ("jax", "mixed_bfloat16"))


def child(args):
    """One set-up in this process (KERAS_BACKEND already set): print its timings as JSON."""
    import keras

    from benchmarks.cases import raw_network
    from benchmarks.common import load_array, synthetic_faces

    frame = synthetic_faces(args.cache, args.n, image_size=args.size)
    x = load_array(frame["filename"]).astype(np.float32) / 255.0
    y, w = frame["label"].to_numpy(np.float32), frame["weight"].to_numpy(np.float32)
    keras.utils.set_random_seed(0)
    model = raw_network((args.size, args.size), args.precision)
    # the warm-up covers a full batch and the partial last one, so no epoch below traces again
    warm = min(args.n, 3 * args.batch + args.n % args.batch)
    model.fit(x[:warm], y[:warm], sample_weight=w[:warm], batch_size=args.batch, epochs=1, verbose=0)
    model.predict(x[: min(args.n, 256 + args.n % 256)], batch_size=256, verbose=0)
    epochs = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(x, y, sample_weight=w, batch_size=args.batch, epochs=1, shuffle=True, verbose=0)
        epochs.append(time.perf_counter() - start)
    start = time.perf_counter()
    model.predict(x, batch_size=256, verbose=0)
    predict = time.perf_counter() - start
    backend = keras.backend.backend()
    version = __import__(backend).__version__
    print(json.dumps({"backend": backend, "precision": args.precision, "epoch_seconds": epochs,
                      "predict_seconds": predict, "keras": keras.__version__, "backend_version": version}))


def run_setup(backend, precision, args):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    cmd = [sys.executable, "-m", "benchmarks.peers", "--child", "--precision", precision, "--n", str(args.n),
           "--size", str(args.size), "--batch", str(args.batch), "--epochs", str(args.epochs), "--cache", args.cache]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{backend} {precision} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def measure(args, log=print):
    setups = [s for s in SETUPS if s[0] != "jax" or importlib.util.find_spec("jax") is not None]
    rows = {s: {"backend": s[0], "precision": s[1], "rounds": []} for s in setups}
    for r in range(args.rounds):
        order = setups[r % len(setups):] + setups[: r % len(setups)]
        for setup in order:
            result = run_setup(*setup, args)
            rows[setup]["rounds"].append(result)
            rows[setup]["keras"], rows[setup]["backend_version"] = result["keras"], result["backend_version"]
            log(f"round {r + 1}/{args.rounds} {setup[0]} {setup[1]}: {args.n / min(result['epoch_seconds']):.0f} "
                f"train img/s, {args.n / result['predict_seconds']:.0f} predict img/s")
    missing = [] if importlib.util.find_spec("jax") else ["jax (pip install jax)"]
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_details(), "n_images": args.n, "image_size": args.size, "batch_size": args.batch,
            "epochs_timed": args.epochs, "rows": list(rows.values()), "not_measured": missing + [
                "PyTorch (eager and torch.compile): its CPU wheels are on download.pytorch.org, which this machine "
                "cannot reach; the PyPI wheel brings about 3 GB of CUDA libraries"]}


def _rates(row, n):
    train = [n / min(r["epoch_seconds"]) for r in row["rounds"]]
    predict = [n / r["predict_seconds"] for r in row["rounds"]]
    return np.asarray(train), np.asarray(predict)


def render(results):
    n = results["n_images"]
    base = next(r for r in results["rows"] if (r["backend"], r["precision"]) == SETUPS[0])
    base_train, base_predict = _rates(base, n)
    m = results["machine"]
    bf16 = ", ".join(f for f in ("avx512_bf16", "amx_bf16") if m["cpu_flags"].get(f)) or "no bfloat16 instructions"
    lines = [
        "# The same network on other Keras backends",
        "",
        f"Written by `python -m benchmarks.peers` on {results['date']}; do not edit by hand, rerun it. Raw numbers: "
        f"`benchmarks/results/{JSON_NAME}`. Machine: {m['cpu_model']} ({bf16}), {m['usable_cpus']} usable cores.",
        "",
        f"skface's network, focal loss, Adam, batch {results['batch_size']}, {n:,} synthetic "
        f"{results['image_size']}x{results['image_size']} faces as a float32 array, Keras's own `fit` and "
        f"`predict`; each set-up in a fresh process per round, warmed up, fastest of {results['epochs_timed']} "
        f"epochs; {len(base['rounds'])} rounds, the set-ups interleaved. \"x TF float32\" is the median of the "
        "per-round ratios to Keras on TensorFlow in float32 [lowest-highest].",
        "",
        "| backend | precision | train img/s (median) | x TF float32 | predict img/s (median) | x TF float32 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        train, predict = _rates(row, n)
        tr, pr = train / base_train, predict / base_predict
        lines.append(
            f"| Keras {row['keras']} on {row['backend']} {row['backend_version']} | {row['precision']} | "
            f"{np.median(train):,.0f} | "
            f"{np.median(tr):.2f} [{tr.min():.2f}-{tr.max():.2f}] | {np.median(predict):,.0f} | "
            f"{np.median(pr):.2f} [{pr.min():.2f}-{pr.max():.2f}] |"
        )
    lines += ["", "Not measured here: " + "; ".join(results["not_measured"]) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--size", type=int, default=80)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed per child (the fastest is kept)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", default=os.path.join(ROOT, "benchmarks", ".cache"), help="folder of the faces")
    parser.add_argument("--out", default=None, help="one folder for the JSON and the page (default: results/, docs/)")
    parser.add_argument("--render", action="store_true", help="only write the markdown from the JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    return results_and_page(args.out, args.render, JSON_NAME, MD_NAME, lambda _: measure(args), render)

if __name__ == "__main__":
    main()
