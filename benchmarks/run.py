"""Run the skface benchmarks and write benchmarks/results/benchmarks.json and docs/benchmarks.md.

    python -m benchmarks.run                 # CPU, the full run (about 10-15 minutes on 2 cores)
    python -m benchmarks.run --smoke --out /tmp/bench   # tiny sizes, seconds: checks the code path
    python -m benchmarks.run --profile gpu --out "$OUT" # what benchmarks/gpu.sh runs

One process trains every case on the same cached synthetic JPEGs (and on the
same images decoded into an array), warms each one up, then times one epoch
of training and one prediction pass per case, ``--repeats`` times, the cases
interleaved and rotated each round so that a change in machine load hits all
of them alike. Images/s are from the fastest round; the spread of the paired
per-round ratios shows the noise. Peak memory is measured in a fresh child
process per path count (see benchmarks/memory.py).
"""

import argparse
import datetime
import gc
import json
import os
import subprocess
import sys
from dataclasses import dataclass

if __package__ in (None, ""):  # python benchmarks/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"  # noqa: A001

import numpy as np

from benchmarks import cases as _cases
from benchmarks import report
from benchmarks.common import load_array, machine_details, output_paths, render_paths, synthetic_faces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JSON_NAME, MD_NAME = "benchmarks.json", "benchmarks.md"

PROFILES = {
    # n_train, n_test, batch, predict batch, repeats, memory path counts, memory steps, the epochs of
    # the whole fits timed (none: skipped), the folds of the timed GridSearchCV (0: skipped)
    "cpu": dict(n_train=1024, n_test=2048, image_size=80, batch_size=32, predict_batch_size=256,
                repeats=3, memory_paths=(10_000, 50_000, 100_000), memory_steps=20, whole_epochs=(1, 3), grid_folds=3),
    "gpu": dict(n_train=12288, n_test=4096, image_size=80, batch_size=256, predict_batch_size=1024,
                repeats=3, memory_paths=(10_000, 50_000, 100_000), memory_steps=30, whole_epochs=(1, 3), grid_folds=3),
    "smoke": dict(n_train=64, n_test=32, image_size=16, batch_size=16, predict_batch_size=32,
                  repeats=1, memory_paths=(200, 400), memory_steps=2, whole_epochs=(1, 2), grid_folds=0),
}


@dataclass
class Config:
    profile: str
    n_train: int
    n_test: int
    image_size: int
    batch_size: int
    predict_batch_size: int
    repeats: int
    memory_paths: tuple
    memory_steps: int
    whole_epochs: tuple
    grid_folds: int
    cache: str
    out: str
    only: tuple = ()
    smoke: bool = False

    @property
    def hw(self):
        return (self.image_size, self.image_size)


@dataclass
class Data:
    train_frame: object
    test_frame: object
    paths_train: np.ndarray
    paths_test: np.ndarray
    X_train_u8: np.ndarray
    X_test_u8: np.ndarray
    X_train_f32: np.ndarray
    X_test_f32: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    w_train: np.ndarray


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="skface benchmarks (speed, memory, FLOPs)")
    parser.add_argument("--profile", choices=["cpu", "gpu"], default="cpu",
                        help="case list and sizes: cpu (default) or gpu (mixed_float16, XLA on/off, batch 256)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (16 px, 64 images): checks the code path only")
    parser.add_argument("--out", default=None, help="one folder for benchmarks.json and benchmarks.md "
                        "(default: benchmarks/results/ and docs/)")
    parser.add_argument(
        "--cache", default=os.path.join(ROOT, "benchmarks", ".cache"), help="folder of the cached JPEGs"
    )
    for name in ("n_train", "n_test", "image_size", "batch_size", "predict_batch_size", "repeats", "memory_steps"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=None)
    parser.add_argument(
        "--memory-paths", default=None, help="comma-separated path counts, e.g. 10000,50000,100000; 0 skips"
    )
    parser.add_argument("--whole-epochs", default=None,
                        help="comma-separated epochs of the timed whole fits, e.g. 1,3; 0 skips them")
    parser.add_argument("--grid-folds", type=int, default=None, help="folds of the timed GridSearchCV; 0 skips it")
    parser.add_argument("--only", default="", help="comma-separated case keys to run (default: all)")
    parser.add_argument("--render", metavar="JSON", default=None,
                        help="measure nothing: rewrite benchmarks.md from this benchmarks.json (into --out, "
                             "else docs/ for benchmarks/results/benchmarks.json, else beside it)")
    args = parser.parse_args(argv)
    if args.render:
        return args
    settings = dict(PROFILES["smoke" if args.smoke else args.profile])
    for name in ("n_train", "n_test", "image_size", "batch_size", "predict_batch_size", "repeats", "memory_steps"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if args.memory_paths is not None:
        settings["memory_paths"] = tuple(int(v) for v in args.memory_paths.split(",") if int(v) > 0)
    if args.whole_epochs is not None:
        settings["whole_epochs"] = tuple(int(v) for v in args.whole_epochs.split(",") if int(v) > 0)
    if args.grid_folds is not None:
        settings["grid_folds"] = args.grid_folds
    return Config(profile=args.profile, cache=args.cache, out=args.out,
                  only=tuple(k for k in args.only.split(",") if k), smoke=args.smoke, **settings)


def load_data(cfg):
    frame = synthetic_faces(cfg.cache, cfg.n_train + cfg.n_test, image_size=cfg.image_size)
    train, test = frame.iloc[: cfg.n_train], frame.iloc[cfg.n_train:]
    X_train, X_test = load_array(train["filename"]), load_array(test["filename"])
    return Data(
        train_frame=train.reset_index(drop=True), test_frame=test.reset_index(drop=True),
        paths_train=train["filename"].to_numpy(dtype=object), paths_test=test["filename"].to_numpy(dtype=object),
        X_train_u8=X_train, X_test_u8=X_test,
        X_train_f32=X_train.astype(np.float32) / 255.0, X_test_f32=X_test.astype(np.float32) / 255.0,
        y_train=train["label"].to_numpy(dtype=np.float32), y_test=test["label"].to_numpy(dtype=np.float32),
        w_train=train["weight"].to_numpy(dtype=np.float32),
    ), os.path.dirname(frame["filename"].iloc[0])


def time_cases(cases, data, cfg, log):
    for case in cases:
        log(f"warm-up {case.key}: {case.title}")
        case.setup(data, cfg)
        gc.collect()
    for r in range(cfg.repeats):
        order = cases[r % len(cases):] + cases[: r % len(cases)]
        for case in order:
            case.train_epoch()
            case.predict()
            gc.collect()
            rate = len(data.y_train) / case.train_seconds[-1]
            log(f"round {r + 1}/{cfg.repeats} {case.key}: train {rate:.1f} img/s, "
                f"predict {len(data.y_train) / case.predict_seconds[-1]:.1f} img/s")
    for case in cases:
        case.accuracy = case.test_accuracy()
        log(f"{case.key}: test accuracy {case.accuracy:.4f} (precision {case.resolved_precision})")


def measure_pipeline(data, cfg, log, rounds=3):
    """The JPEG input pipeline alone (read, decode, batch, to float), as FaceCNNClassifier.predict runs it."""
    import time

    from benchmarks.cases import cpu_seconds
    from skface import _input, _validation

    images = _validation.check_images(list(data.paths_train))
    best = None
    for _ in range(rounds):
        dataset = _input.make_dataset(images, image_size=cfg.hw, batch_size=cfg.predict_batch_size)
        start, cpu = time.perf_counter(), cpu_seconds()
        n = sum(int(batch.shape[0]) for batch in dataset)
        row = {"n_images": n, "seconds": time.perf_counter() - start, "cpu_seconds": cpu_seconds() - cpu}
        if best is None or row["cpu_seconds"] < best["cpu_seconds"]:
            best = row
    best["images_per_s"] = best["n_images"] / best["seconds"]
    best["cpu_ms_per_image"] = 1000 * best["cpu_seconds"] / best["n_images"]
    log(f"JPEG pipeline alone: {best['images_per_s']:.0f} img/s, {best['cpu_ms_per_image']:.3f} ms CPU per image")
    return best


def measure_memory(cfg, image_dir, log):
    rows = []
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for n in cfg.memory_paths:
        cmd = [sys.executable, "-m", "benchmarks.memory", "--csv", os.path.join(image_dir, "labels.csv"),
               "--n-paths", str(n), "--steps", str(cfg.memory_steps), "--batch-size", str(cfg.batch_size),
               "--image-size", str(cfg.image_size)]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"memory run for {n} paths failed ({done.returncode}):\n{done.stderr[-3000:]}")
        rows.append(json.loads(lines[-1]))
        log(f"memory {n} paths: peak RSS {rows[-1]['peak_rss_bytes'] / 2**20:.0f} MiB "
            f"({rows[-1]['steps']} steps, {rows[-1]['seconds']:.0f} s)")
    return rows


def write(results, json_path, page):
    """Targets from the raw numbers, then benchmarks.json and benchmarks.md."""
    results["targets"] = report.targets(results)
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(results, f, indent=2, default=float)
        f.write("\n")
    with open(page, "w") as f:
        f.write(report.markdown(results))
    return page


def main(argv=None):
    cfg = parse_args(argv)
    if isinstance(cfg, argparse.Namespace):  # --render
        with open(cfg.render) as f:
            results = json.load(f)
        json_path, page = (output_paths(cfg.out, JSON_NAME, MD_NAME) if cfg.out
                           else (cfg.render, render_paths(cfg.render, MD_NAME)[0]))
        print(f"wrote {write(results, json_path, page)} from {cfg.render}")
        return results
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # the memory runs are child processes: on a GPU, let each process take
    # device memory as it needs it instead of all of it at start
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

    def log(message):
        print(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}", flush=True)

    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    log(f"profile {'smoke' if cfg.smoke else cfg.profile}: {cfg.n_train} training / {cfg.n_test} test images "
        f"of {cfg.image_size} px, batch {cfg.batch_size}, {cfg.repeats} rounds")
    data, image_dir = load_data(cfg)
    log(f"images cached in {image_dir}")

    cases = _cases.reference_cases(cfg.profile)
    if cfg.only:
        cases = [c for c in cases if c.key in cfg.only]
    time_cases(cases, data, cfg, log)

    from benchmarks import whole_fits
    from benchmarks.flops import flops_summary

    whole = whole_fits.time_whole_fits(data, cfg, log, epochs=cfg.whole_epochs) if cfg.whole_epochs else None
    grid = whole_fits.time_grid_search(data, cfg, log, folds=cfg.grid_folds) if cfg.grid_folds else None
    flops = flops_summary(cfg.hw)
    peak = whole_fits.matmul_peak(size=256 if cfg.smoke else 2048)
    log(f"matmul peak: {peak['float32']:.0f} GFLOP/s float32, {peak['bfloat16']:.0f} bfloat16")
    pipeline = measure_pipeline(data, cfg, log)
    memory = measure_memory(cfg, image_dir, log) if cfg.memory_paths else []

    results = {
        "schema": 1,
        "date": started.isoformat(timespec="seconds"),
        "seconds": (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(),
        "machine": machine_details(),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "config": {k: v for k, v in vars(cfg).items() if k not in ("cache", "out")} | {"image_dir": image_dir},
        "cases": [report.case_result(c, cfg, flops) for c in cases],
        "flops": flops,
        "matmul_peak_gflops_per_s": peak,
        "whole_fits": whole,
        "grid_search": grid,
        "pipeline": pipeline,
        "memory": memory,
    }
    json_path, page = output_paths(cfg.out, JSON_NAME, MD_NAME)
    log(f"wrote {write(results, json_path, page)} and {json_path}")
    return results


if __name__ == "__main__":
    main()
