"""The speed benchmark's report (``benchmarks.run``): per-case numbers, targets and the markdown page."""


import numpy as np

GB = 1e9
MiB = 2**20


def case_result(case, cfg, flops):
    n = cfg.n_train
    train, pred = np.asarray(case.train_seconds), np.asarray(case.predict_seconds)
    train_cpu, pred_cpu = np.asarray(case.train_cpu_seconds), np.asarray(case.predict_cpu_seconds)
    return {
        "key": case.key,
        "title": case.title,
        "source": case.source,
        "precision": case.precision,
        "resolved_precision": case.resolved_precision,
        "jit_compile": case.jit,
        "n_images": n,
        "train_seconds": train.tolist(),
        "predict_seconds": pred.tolist(),
        "train_images_per_s": float(n / train.min()),
        "train_images_per_s_median": float(n / np.median(train)),
        "predict_images_per_s": float(n / pred.min()),
        "predict_images_per_s_median": float(n / np.median(pred)),
        # images per CPU-second (all threads of the process): robust to other
        # processes' load, which takes wall time but not this process's CPU time
        "train_cpu_seconds": train_cpu.tolist(),
        "predict_cpu_seconds": pred_cpu.tolist(),
        "train_cpu_images_per_s": float(n / train_cpu.min()),
        "predict_cpu_images_per_s": float(n / pred_cpu.min()),
        "train_gflops_per_s": float(n / train.min() * flops["train_flops_per_image"] / GB),
        "predict_gflops_per_s": float(n / pred.min() * flops["forward_flops_per_image"] / GB),
        "test_accuracy": getattr(case, "accuracy", None),
    }


def _ratio(results, a, b, what):
    """Best-round ratio a/b of images/s, with the range of the per-round (paired) ratios.

    ``what`` is "train" or "predict" (wall-clock) or "train_cpu" or
    "predict_cpu" (images per CPU-second of the process).
    """
    by_key = {c["key"]: c for c in results["cases"]}
    if a not in by_key or b not in by_key:
        return None
    ca, cb = by_key[a], by_key[b]
    paired = [tb / ta for ta, tb in zip(ca[f"{what}_seconds"], cb[f"{what}_seconds"])]
    return {
        "value": ca[f"{what}_images_per_s"] / cb[f"{what}_images_per_s"],
        "paired_min": min(paired),
        "paired_median": float(np.median(paired)),
        "paired_max": max(paired),
    }


def targets(results):
    """Each target of issue 6 with its status, judged on wall-clock images/s (the issue's measure).

    "met" when the best-round ratio meets the threshold; "not resolved" when it
    falls short by less than this run's noise, read from an A/A pair: on a CPU
    without bfloat16, (6) and (4) are the same computation, so their ratio's
    distance from 1 is how finely the run can tell two set-ups apart; else
    "missed". "n/a" where the target does not apply to this machine. The
    CPU-time ratio is recorded beside it, for information only.
    """
    gpu = results["config"]["profile"] == "gpu"
    bf16 = results["machine"]["cpu_has_bfloat16"]
    out = []
    if gpu:
        aa = None
    else:  # an A/A pair: two copies of one computation (on a CPU without bfloat16, (6) is (4))
        aa = _ratio(results, "1-bf16-copy", "1-bf16", "train") if bf16 else _ratio(results, "6", "4", "train")
    noise = abs(1 - aa["value"]) if aa else 0.0

    def add(name, a, b, what, threshold, applies=True, why=""):
        wall, cpu = _ratio(results, a, b, what), _ratio(results, a, b, what + "_cpu")
        if wall is None:
            out.append({"target": name, "status": "not run"})
            return
        status = judged(wall["value"], threshold, noise) if applies else "n/a"
        out.append({"target": name, "kind": "ratio", "threshold": threshold, "wall": wall, "cpu": cpu,
                    "status": status, "why": why})

    add("train (3)/(1) >= 0.97", "3", "1", "train", 0.97)
    add("train (2)/(1): plain scikeras, for comparison", "2", "1", "train", 0.97)
    add("train (4)/(1) >= 0.90 (JPEG decoding hidden behind compute)", "4", "1", "train", 0.90)
    add("predict (4)/(1) >= 0.95", "4", "1", "predict", 0.95)
    if gpu:
        add("train (6)/(4): precision='auto' (mixed_float16) vs float32", "6", "4", "train", 1.0,
            applies=False, why="no target for GPUs in the issue")
    else:
        why = "" if bf16 else ("no bfloat16 matrix instructions (avx512_bf16/amx_bf16) on this CPU: "
                               "precision='auto' resolves to float32, so (6) is (4)")
        add("train (6)/(4) >= 1.4 on a CPU with bfloat16 matrix instructions", "6", "4", "train", 1.4,
            applies=bf16, why=why)
        add("train (6b)/(4): mixed_bfloat16 vs float32, measured whatever the CPU", "6b", "4", "train", 1.4,
            applies=bf16, why="" if bf16 else "reported, not judged: no bfloat16 instructions here")
        if bf16:
            add("noise floor: (1-bf16-copy)/(1-bf16), two copies of one computation", "1-bf16-copy", "1-bf16",
                "train", 1.0, applies=False, why="should be 1.00; its distance from 1 is this run's noise")
            # against raw Keras at the precision precision="auto" picks here
            add("train (3-auto)/(1-bf16) >= 1.0: uint8 array, same precision", "3-auto", "1-bf16", "train", 1.0)
            add("train (6)/(1-bf16) >= 0.95: JPEG paths against raw Keras on the array, same precision",
                "6", "1-bf16", "train", 0.95)
            add("predict (3-auto)/(1-bf16) >= 1.0: uint8 array, same precision", "3-auto", "1-bf16", "predict", 1.0)
            add("predict (6)/(1-bf16) >= 0.9: JPEG paths against raw Keras on the array, same precision",
                "6", "1-bf16", "predict", 0.9)
        if not bf16:
            # (6) and (4) are the same computation here: their ratio is an A/A test
            add("noise floor: (6)/(4), the same float32 computation on this CPU", "6", "4", "train", 1.0,
                applies=False, why="should be 1.00; its distance from 1 is this run's noise")
    out += _whole_fit_targets(results, noise)
    by_key = {c["key"]: c for c in results["cases"]}
    low = "6b" if "6b" in by_key else "6"
    if "4" in by_key and low in by_key and by_key[low]["test_accuracy"] is not None:
        diff = by_key[low]["test_accuracy"] - by_key["4"]["test_accuracy"]
        fp32 = [c["test_accuracy"] for c in results["cases"]
                if c["resolved_precision"] == "float32" and c["test_accuracy"] is not None]
        spread = (min(fp32), max(fp32))
        if abs(diff) <= 0.01:
            status, why = "met", ""
        elif spread[0] <= by_key[low]["test_accuracy"] <= spread[1]:
            status = "within the float32 spread"
            why = (f"the float32 set-ups, which differ only in data order and pipeline, range "
                   f"{spread[0]:.3f}-{spread[1]:.3f}")
        else:
            status, why = "missed", ""
        out.append({"target": f"test accuracy of ({low}) within 1 point of (4) after the same epochs",
                    "kind": "accuracy", "value": diff, "threshold": 0.01, "float32_range": spread,
                    "status": status, "why": why})
    memory = results["memory"]
    if memory:
        top = max(memory, key=lambda m: m["n_paths"])
        low_m = min(memory, key=lambda m: m["n_paths"])
        growth = top["peak_rss_bytes"] / low_m["peak_rss_bytes"] - 1
        big = top["n_paths"] >= 100_000
        out.append({"target": f"peak RSS for {top['n_paths']:,} paths <= 1.5 GB", "kind": "GB",
                    "value": top["peak_rss_bytes"] / GB, "threshold": 1.5,
                    "status": ("met" if top["peak_rss_bytes"] <= 1.5 * GB else "missed") if big else "n/a"})
        out.append({"target": f"peak RSS flat from {low_m['n_paths']:,} to {top['n_paths']:,} paths (growth < 10 %)",
                    "kind": "growth", "value": growth, "threshold": 0.10,
                    "status": "met" if growth < 0.10 else "missed"})
    return out


def judged(value, threshold, noise):
    """A ratio's status against its target: met, short by less than the run's A/A noise, or missed."""
    if value >= threshold:
        return "met"
    if value >= threshold - noise:
        return f"not resolved: short by less than this run's noise (A/A {1 - noise:.2f})"
    return "missed"


def _whole_fit_targets(results, noise):
    """The targets on whole fits (benchmarks/whole_fits.py), judged on the median of the per-round ratios."""
    from .whole_fits import whole_fit_ratio

    whole = results.get("whole_fits")
    if not whole:
        return []
    out = []
    longest = max(r["epochs"] for r in whole["rows"])
    for name, key, epochs, steady, threshold in (
        ("a whole one-epoch fit from JPEG paths >= 0.85x raw Keras's whole one-epoch fit", "paths", 1, False, 0.85),
        (f"steady epoch (epochs 2-{longest} of a fit) from JPEG paths >= 0.95x raw Keras on the array", "paths",
         longest, True, 0.95),
        (f"steady epoch (epochs 2-{longest} of a fit) from a uint8 array >= 1.0x raw Keras", "array", longest,
         True, 1.0),
    ):
        ratio = whole_fit_ratio(whole, key, epochs, steady=steady) if epochs > 1 or not steady else None
        if ratio is None:
            out.append({"target": name, "status": "not run"})
            continue
        out.append({"target": name, "kind": "whole", "threshold": threshold, "ratio": ratio,
                    "status": judged(ratio["median"], threshold, noise)})
    return out


def _f(x, digits=0):
    return "-" if x is None else f"{x:,.{digits}f}"


def markdown(r):
    m, cfg = r["machine"], r["config"]
    by_key = {c["key"]: c for c in r["cases"]}
    base = by_key.get("1")
    flags = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in m["cpu_flags"].items())
    precisions = sorted({c["resolved_precision"] for c in r["cases"]})
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m benchmarks.run{' --profile gpu' if cfg['profile'] == 'gpu' else ''}` "
        f"on {r['date']} in {r['seconds'] / 60:.1f} minutes; do not edit by hand, rerun it. "
        "Raw numbers: `benchmarks/results/benchmarks.json`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu_model']}, {m['logical_cpus']} logical cores ({m['usable_cpus']} usable) |",
        f"| CPU flags | {flags} |",
        f"| bfloat16 matrix instructions | {'yes' if m['cpu_has_bfloat16'] else 'no'} |",
        f"| memory | {_f((m['memory_bytes'] or 0) / GB, 1)} GB |",
        f"| GPU | {', '.join(g['name'] for g in m['gpus']) or 'none'} |",
        f"| software | Python {m['python']}, TensorFlow {m['tensorflow']}, Keras {m['keras']}, "
        f"scikeras {m['scikeras']}, scikit-learn {m['scikit_learn']}, NumPy {m['numpy']}, "
        f"tf_keras {m['tf_keras'] or 'not installed'} |",
        f"| oneDNN | {m['onednn']} |",
        f"| precisions used | {', '.join(precisions)} |",
        f"| load average (1, 5, 15 min) | start {', '.join(f'{x:.1f}' for x in r['load_average']['start'])}; "
        f"end {', '.join(f'{x:.1f}' for x in r['load_average']['end'])} |",
        "",
        "## Speed",
        "",
        f"{cfg['n_train']:,} synthetic {cfg['image_size']}x{cfg['image_size']} JPEGs (the same files, or the "
        f"same images decoded into an array), the reference CNN ({r['flops']['params']:,} parameters), "
        f"binary focal loss, Adam, per-sample weights, training batch {cfg['batch_size']}, prediction batch "
        f"{cfg['predict_batch_size']}. Each case is warmed up, then one epoch of training and one prediction "
        f"pass are timed, {cfg['repeats']} rounds with the cases interleaved; images/s are from the fastest "
        "round, \"x (1)\" is the ratio to raw Keras with, in brackets, the range of the per-round ratios "
        "(the noise); img/CPU-s counts images per CPU-second of the process (see Notes). Test accuracy: on "
        f"{cfg['n_test']:,} held-out images after the same training (warm-up + {cfg['repeats']} epochs).",
        "",
        "| # | set-up | precision | XLA | train img/s | x (1) | train img/CPU-s | x (1) | predict img/s | x (1) "
        "| predict img/CPU-s | x (1) | train GFLOP/s | test acc. |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def rel(c, what):
        ratio = _ratio(r, c["key"], "1", what)
        if ratio is None:
            return "-"
        return f"{ratio['value']:.2f} [{ratio['paired_min']:.2f}-{ratio['paired_max']:.2f}]"

    for c in r["cases"]:
        prec = c["resolved_precision"] + (" (auto)" if c["precision"] == "auto" else "")
        jit = {None: "default", True: "on", False: "off"}[c["jit_compile"]]
        lines.append(
            f"| {c['key']} | {c['title']} | {prec} | {jit} | {_f(c['train_images_per_s'])} | {rel(c, 'train')} | "
            f"{_f(c['train_cpu_images_per_s'])} | {rel(c, 'train_cpu')} | "
            f"{_f(c['predict_images_per_s'])} | {rel(c, 'predict')} | "
            f"{_f(c['predict_cpu_images_per_s'])} | {rel(c, 'predict_cpu')} | "
            f"{_f(c['train_gflops_per_s'], 1)} | {_f(c['test_accuracy'], 3)} |"
        )
    if "5" not in by_key:
        lines += ["", "(5), the tf_keras ImageDataGenerator pipeline, was not run: tf_keras is not installed "
                  "(`pip install tf_keras` matching the TensorFlow version adds it)."]
    lines += ["", "## Targets (issue 6)", "",
              "Judged on wall-clock images/s: the ratio of the best rounds, with the per-round ratios in "
              "brackets (lowest / median / highest). CPU time is shown for information (see Notes).", "",
              "| target | wall clock | CPU time | status |", "|---|---:|---:|---|"]
    for t in r["targets"]:
        why = f" ({t['why']})" if t.get("why") else ""
        if t["status"] == "not run":
            lines.append(f"| {t['target']} | - | - | not run |")
        elif t["kind"] == "whole":
            q = t["ratio"]
            lines.append(f"| {t['target']} | {q['median']:.2f} [{q['min']:.2f} / {q['median']:.2f} / {q['max']:.2f}] "
                         f"| | {t['status']} |")
        elif t["kind"] == "ratio":
            w, c = t["wall"], t["cpu"]
            lines.append(
                f"| {t['target']} | {w['value']:.2f} [{w['paired_min']:.2f} / {w['paired_median']:.2f} / "
                f"{w['paired_max']:.2f}] | {c['value']:.2f} [{c['paired_min']:.2f} / {c['paired_median']:.2f} / "
                f"{c['paired_max']:.2f}] | {t['status']}{why} |"
            )
        else:
            value = {"accuracy": f"{t['value'] * 100:+.1f} points", "GB": f"{t['value']:.2f} GB",
                     "growth": f"{t['value'] * 100:+.1f} %"}[t["kind"]]
            lines.append(f"| {t['target']} | {value} | | {t['status']}{why} |")
    lines += _whole_fit_section(r)
    if r["memory"]:
        lines += [
            "", "## Memory", "",
            "Peak resident memory (VmHWM) of a fresh process that imports TensorFlow, builds the estimator and "
            f"trains it with precision='float32' from a list of paths (the cached files repeated), stopped after "
            f"{r['memory'][0]['steps']} batches; the pipeline's footprint does not grow along the epoch (it holds "
            "the path strings and a few decoded batches). Against it, the memory the same images would take as "
            "an in-memory array.",
            "",
            "| paths | batches trained | RSS before fit (MiB) | peak RSS (MiB) | as float32 array (MiB) "
            "| as uint8 array (MiB) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for mm in r["memory"]:
            lines.append(
                f"| {mm['n_paths']:,} | {mm['steps']} | {_f(mm['rss_before_fit_bytes'] / MiB)} | "
                f"{_f(mm['peak_rss_bytes'] / MiB)} | {_f(mm['float32_array_bytes'] / MiB)} | "
                f"{_f(mm['uint8_array_bytes'] / MiB)} |"
            )
        top = max(r["memory"], key=lambda m: m["n_paths"])
        low = min(r["memory"], key=lambda m: m["n_paths"])
        if top["n_paths"] > low["n_paths"]:
            extra = top["peak_rss_bytes"] - low["peak_rss_bytes"]
            per_path = extra / (top["n_paths"] - low["n_paths"])
            per_image = top["float32_array_bytes"] / top["n_paths"]
            lines += ["", f"From {low['n_paths']:,} to {top['n_paths']:,} paths the peak grows by "
                      f"{extra / MiB:,.0f} MiB, about {per_path:,.0f} bytes per path (the path strings, the label "
                      f"and weight arrays, one shuffle-buffer entry each), against {per_image:,.0f} bytes per "
                      "image as a float32 array: the pixels in memory do not grow with the path count."]
    fl = r["flops"]
    lines += [
        "", "## FLOPs", "",
        f"Multiply-accumulates per {cfg['image_size']}x{cfg['image_size']} image, Conv2D and Dense layers "
        "(bias, activations and pooling left out): forward FLOPs = 2 x MACs, training ~ 3 x forward.",
        "",
        "| layer | kind | MACs per image |",
        "|---|---|---:|",
    ]
    lines += [f"| {la['name']} | {la['kind']} | {la['macs']:,} |" for la in fl["layers"]]
    lines += [
        f"| **total** | | **{fl['macs_per_image']:,}** |",
        "",
        f"Forward: {fl['forward_flops_per_image'] / 1e6:.1f} MFLOP per image; training: "
        f"{fl['train_flops_per_image'] / 1e6:.1f} MFLOP per image.",
    ]
    if base:
        lines.append(
            f"Raw Keras achieves {base['train_gflops_per_s']:.1f} GFLOP/s training and "
            f"{base['predict_gflops_per_s']:.1f} GFLOP/s predicting."
        )
    lines += _peak_lines(r)
    lines += ["", "## Notes", ""] + _notes(r, by_key)
    lines += ["", "## Headline (for the README)", "", _headline(r, by_key), ""]
    return "\n".join(lines)


def _whole_fit_section(r):
    from .whole_fits import whole_fit_ratio

    whole, grid = r.get("whole_fits"), r.get("grid_search")
    lines = []
    if whole:
        lines += [
            "", "## Whole fits", "",
            f"What a user's `fit` costs, and each candidate and fold of a search: a new network built, traced and "
            f"trained on the {whole['n_images']:,} images, then `fit` returns; raw Keras builds, compiles and fits "
            f"the same network from a float32 array. All at {whole['precision']} (what `precision='auto'` picks "
            "here), `early_stopping=False`, interleaved over "
            f"{len(whole['rows'][0]['rounds'])} rounds after one warm-up fit each. \"x raw\" is raw Keras's "
            "seconds over the set-up's, the median of the per-round ratios [lowest-highest]; a steady epoch is "
            "the mean of the 2nd and later epochs of a fit; \"after training\" is the time from Keras's "
            "`on_train_end` to the return of `fit` (for FaceCNNClassifier: its post-fit check on at most 256 "
            "images, and whatever Keras and tf.data do at the end).",
            "",
            "| set-up | epochs | whole fit s (median) | x raw | steady epoch s | x raw | after training s "
            "(median, max) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in whole["rows"]:
            runs = row["rounds"]
            whole_ratio = whole_fit_ratio(whole, row["key"], row["epochs"])
            text = (f"{whole_ratio['median']:.2f} [{whole_ratio['min']:.2f}-{whole_ratio['max']:.2f}]"
                    if row["key"] != "raw" else "1.00")
            steady, steady_text = "-", "-"
            if row["epochs"] > 1:
                steady = f"{np.median([np.mean(run['epoch_seconds'][1:]) for run in runs]):.2f}"
                q = whole_fit_ratio(whole, row["key"], row["epochs"], steady=True)
                steady_text = f"{q['median']:.2f} [{q['min']:.2f}-{q['max']:.2f}]" if row["key"] != "raw" else "1.00"
            after = [run["after_training_seconds"] for run in runs]
            lines.append(
                f"| {row['title']} | {row['epochs']} | {np.median([run['seconds'] for run in runs]):.2f} | {text} | "
                f"{steady} | {steady_text} | {np.median(after):.2f}, {max(after):.2f} |"
            )
    if grid:
        lines += [
            "", "## A search", "",
            f"`GridSearchCV(FaceCNNClassifier(epochs=1, early_stopping=False), {grid['grid']}, cv={grid['folds']} "
            f"folds, refit=False)` on the JPEG paths: {grid['n_fits']} fits, each scored on its held-out fold, in "
            f"{grid['search_seconds']:.0f} s, **{grid['search_seconds_per_fit']:.2f} s per fit**; a loop of the same "
            f"{grid['n_fits']} raw Keras fits and predictions (same candidates, same folds, from the float32 array, "
            f"{grid['precision']}) took {grid['raw_seconds']:.0f} s, {grid['raw_seconds_per_fit']:.2f} s per fit: "
            f"the search runs at **{grid['raw_seconds'] / grid['search_seconds']:.2f}x** the loop's speed. "
            "One round each, not interleaved: read it with the whole-fit ratios above.",
        ]
    return lines


def _peak_lines(r):
    peak = r.get("matmul_peak_gflops_per_s")
    if not peak:
        return []
    lines = [
        "",
        f"The machine's reachable peak, measured in the same run as chained {peak.get('size', 2048)}x"
        f"{peak.get('size', 2048)} matrix products: "
        f"{peak['float32']:,.0f} GFLOP/s in float32, {peak['bfloat16']:,.0f} GFLOP/s in bfloat16. Training "
        "throughput as a share of the peak at its precision (mixed_bfloat16 against the bfloat16 peak):",
        "",
        "| # | set-up | precision | train GFLOP/s | share of the peak |",
        "|---|---|---|---:|---:|",
    ]
    for c in r["cases"]:
        if c["resolved_precision"] == "mixed_float16":
            continue  # no float16 peak measured (GPU)
        top = peak["bfloat16"] if c["resolved_precision"] == "mixed_bfloat16" else peak["float32"]
        lines.append(f"| {c['key']} | {c['title']} | {c['resolved_precision']} | {c['train_gflops_per_s']:.1f} | "
                     f"{c['train_gflops_per_s'] / top:.2f} |")
    return lines


def _loaded(r):
    m = r["machine"]
    return max(r["load_average"]["start"][0], r["load_average"]["end"][0]) > (m["usable_cpus"] or 1)


def _notes(r, by_key):
    m = r["machine"]
    notes = []
    if r["config"]["profile"] == "cpu" and not m["cpu_has_bfloat16"] and "6b" in by_key and "4" in by_key:
        wall, cpu = _ratio(r, "6b", "4", "train"), _ratio(r, "6b", "4", "train_cpu")
        pwall = _ratio(r, "6b", "4", "predict")
        verdict = "slower than" if max(wall["value"], cpu["value"]) < 0.95 else (
            "faster than" if min(wall["value"], cpu["value"]) > 1.05 else "about as fast as")
        acc = by_key["6b"]["test_accuracy"], by_key["4"]["test_accuracy"]
        fp32 = [c["test_accuracy"] for c in r["cases"] if c["resolved_precision"] == "float32"]
        notes.append(
            "- **bfloat16 on this CPU.** The CPU has AVX-512"
            f"{' and AVX512-VNNI (int8 dot products)' if m['cpu_flags'].get('avx512_vnni') else ''} but neither "
            "`avx512_bf16` nor `amx_bf16`: it has no bfloat16 dot-product instructions, so oneDNN has no native "
            "bfloat16 kernels to use; bfloat16 products are emulated (converted to float32 and multiplied with "
            "float32 FMAs) and every mixed_bfloat16 layer also pays for casting its inputs and weights. Measured "
            f"here, mixed_bfloat16 (6b) trains at {wall['value']:.2f}x the float32 images/s of (4) "
            f"(per round {wall['paired_min']:.2f}-{wall['paired_max']:.2f}; {cpu['value']:.2f}x on CPU time) and "
            f"predicts at {pwall['value']:.2f}x: {verdict} float32, not 1.5x faster. Test accuracy after the same "
            f"training: {acc[0]:.3f} (bfloat16) vs {acc[1]:.3f} (float32), the float32 set-ups ranging "
            f"{min(fp32):.3f}-{max(fp32):.3f}. `precision='auto'` resolves to "
            "float32 on this CPU (`skface._device.cpu_has_bfloat16()` is False), so (6) is (4) up to noise. The "
            "1.4x target applies to CPUs with avx512_bf16 or AMX-BF16 (Intel Cooper Lake, Sapphire Rapids and "
            "later; AMD Zen 4 and later)."
        )
    if r["config"]["profile"] == "cpu" and m["cpu_has_bfloat16"] and "1-bf16" in by_key and "1" in by_key:
        instructions = " and ".join(f"`{f}`" for f in ("avx512_bf16", "amx_bf16") if m["cpu_flags"].get(f))
        speedup = _ratio(r, "1-bf16", "1", "train")
        same = {key: (_ratio(r, key, "1-bf16", "train"), _ratio(r, key, "1-bf16", "predict"))
                for key in ("3-auto", "6") if key in by_key}
        text = (f"- **bfloat16 on this CPU.** It has {instructions}, so `precision='auto'` trains in "
                f"mixed_bfloat16 (float32 output layer). Raw Keras in mixed_bfloat16 (1-bf16) trains at "
                f"{speedup['paired_median']:.2f}x its float32 speed (1) (per round {speedup['paired_min']:.2f}-"
                f"{speedup['paired_max']:.2f}), so the comparison that matters is at that same precision: ")
        text += "; ".join(
            f"({key}) trains at {train['paired_median']:.2f}x (1-bf16) and predicts at {pred['paired_median']:.2f}x"
            for key, (train, pred) in same.items()) + "."
        copy = _ratio(r, "1-bf16-copy", "1-bf16", "train")
        if copy:
            text += (f" Two copies of (1-bf16) measured {copy['paired_median']:.2f}x each other (per round "
                     f"{copy['paired_min']:.2f}-{copy['paired_max']:.2f}): ratios closer to 1 than that are not "
                     "resolved by this run.")
        notes.append(text)
    if "5" in by_key and "1" in by_key:
        notes.append(
            "- **(5)** is the reference's pipeline: tf_keras `ImageDataGenerator(rescale=1/255)."
            "flow_from_dataframe(..., weight_col='weight', class_mode='raw')` fed to the same Keras 3 model "
            "through a `keras.utils.PyDataset` with `workers=1` (Keras 3 does not take a tf_keras Sequence); "
            "as with tf.keras 2's default `workers=1`, files are read and decoded with Pillow in the training "
            "thread, one batch at a time."
        )
    pipe, base = r.get("pipeline"), by_key.get("1")
    if pipe and base:
        train_ms = 1000 / base["train_cpu_images_per_s"]
        pred_ms = 1000 / base["predict_cpu_images_per_s"]
        notes.append(
            f"- **Decoding on a CPU.** skface's JPEG pipeline alone (read, decode, batch, to float) takes "
            f"{pipe['cpu_ms_per_image']:.2f} ms of CPU per image ({pipe['images_per_s']:,.0f} images/s). Raw Keras "
            f"takes {train_ms:.1f} ms of CPU per image to train and {pred_ms:.2f} ms to predict. On a CPU the "
            "decoding runs on the cores the model uses, so it is hidden only where cores would otherwise idle; "
            f"where the model keeps all {m['usable_cpus']} cores busy it adds its CPU time, about "
            f"{pipe['cpu_ms_per_image'] / train_ms * 100:.0f} % to training and "
            f"{pipe['cpu_ms_per_image'] / pred_ms * 100:.0f} % to prediction. On a GPU machine the "
            "decoding runs on CPU cores the model does not use."
        )
    notes.append(
        "- (1) and (2) get the images as a float32 array (uint8 / 255, converted once, untimed); (3) gets the "
        "uint8 array and scales each batch in its tf.data pipeline (timed); (4), (5), (6) read the JPEG files."
    )
    notes.append(
        "- The estimators run with `early_stopping=False`, `epochs=1`, `warm_start=True`, so each timed `fit` "
        "is one epoch of the already built model; each timed call includes the wrapper's own work (input "
        "validation, one `stat` per file, the tf.data set-up)."
    )
    if base:
        cores = base["train_images_per_s"] / base["train_cpu_images_per_s"]
        notes.append(
            "- img/CPU-s is images per CPU-second of the benchmark process (user + system time of all its "
            "threads). It is not a cleaner measure of cost than wall-clock time: it leaves out other processes' "
            "load but counts the time TensorFlow's threads spend spinning while they wait for work, which grows "
            "with the number of busy pipeline threads and with idle cores. Raw Keras kept on average "
            f"{cores:.1f} of the {m['usable_cpus']} cores busy while training (wall images/s over CPU images/s): "
            "with batch 32 the model does not fill the cores, which leaves room for the input pipeline."
        )
    if _loaded(r):
        notes.append(
            f"- The machine was shared with other work (load average above its {m['usable_cpus']} cores): "
            "absolute images/s are low and the wall-clock ratios noisy (see the per-round ranges)."
        )
    aa, aa_cpu = _ratio(r, "6", "4", "train"), _ratio(r, "6", "4", "train_cpu")
    if aa and not m["cpu_has_bfloat16"] and r["config"]["profile"] == "cpu":
        notes.append(
            f"- **Noise floor.** (6) and (4) run the same float32 computation on this CPU, so their ratio should be "
            f"1.00; this run measured {aa['value']:.2f} on wall-clock (per round {aa['paired_min']:.2f}-"
            f"{aa['paired_max']:.2f}) and {aa_cpu['value']:.2f} on CPU time. Ratio differences smaller than that "
            "distance from 1 are not resolved by this run; rerun on an idle machine (or with more `--repeats`) "
            "to judge the 0.97 and 0.95 targets finely."
        )
    return notes


def _headline(r, by_key):
    what, unit = "train", "wall-clock images/s, median of the per-round ratios"
    parts = []
    for key, label in (("2", "plain scikeras trains at"), ("3", "FaceCNNClassifier on an array at"),
                       ("4", "FaceCNNClassifier streaming JPEG paths at")):
        ratio = _ratio(r, key, "1", what)
        if ratio:
            parts.append(f"{label} {ratio['paired_median']:.2f}x")
    ratio = _ratio(r, "4", "1", "predict")
    if ratio:
        parts.append(f"and it predicts from paths at {ratio['paired_median']:.2f}x")
    ratio = _ratio(r, "5", "1", what)
    if ratio:
        parts.append(f"(the reference's ImageDataGenerator pipeline trains at {ratio['paired_median']:.2f}x)")
    where = f"{r['machine']['cpu_model']} ({r['machine']['usable_cpus']} cores)"
    if r["machine"]["gpus"]:
        where = f"{r['machine']['gpus'][0]['name']} with {where}"
    text = (f"On {where}, against raw Keras "
            f"`model.fit` on an in-memory array ({unit}): " + ", ".join(p for p in parts if p[0] != "(")
            + "".join(" " + p for p in parts if p[0] == "(") + ".")
    if r["memory"]:
        top = max(r["memory"], key=lambda m: m["n_paths"])
        low = min(r["memory"], key=lambda m: m["n_paths"])
        text += (f" Training from {top['n_paths']:,} JPEG paths peaks at {top['peak_rss_bytes'] / GB:.2f} GB "
                 f"resident ({low['peak_rss_bytes'] / GB:.2f} GB for {low['n_paths']:,}); the same images as a "
                 f"float32 array would take {top['float32_array_bytes'] / GB:.1f} GB.")
    if "1-bf16" in by_key and "3-auto" in by_key:
        array, paths = _ratio(r, "3-auto", "1-bf16", what), _ratio(r, "6", "1-bf16", what)
        text += (f" At the precision `precision='auto'` picks on this CPU (mixed_bfloat16), against raw Keras at that "
                 f"precision: FaceCNNClassifier() trains at {array['paired_median']:.2f}x from a uint8 array and "
                 f"{paths['paired_median']:.2f}x from JPEG paths.")
    if "6b" in by_key and "4" in by_key and not r["machine"]["cpu_has_bfloat16"]:
        ratio = _ratio(r, "6b", "4", what)
        text += (f" This CPU has no bfloat16 instructions: mixed_bfloat16 trains at {ratio['paired_median']:.2f}x the "
                 "float32 speed, so `precision='auto'` keeps float32 there.")
    whole = r.get("whole_fits")
    if whole:
        from .whole_fits import whole_fit_ratio

        longest = max(row["epochs"] for row in whole["rows"])
        one, steady = whole_fit_ratio(whole, "paths", 1), whole_fit_ratio(whole, "paths", longest, steady=True)
        stream = whole_fit_ratio(whole, "paths-stream", longest, steady=True)
        if one and steady and stream:
            text += (f" Whole fits from JPEG paths, a new estimator each as a search makes them: one epoch at "
                     f"{one['median']:.2f}x raw Keras's build-compile-fit on the array; in a {longest}-epoch fit "
                     f"the epochs after the first at {steady['median']:.2f}x with the files decoded once "
                     f"(`cache_images`), {stream['median']:.2f}x decoding them every epoch.")
    if _loaded(r):
        text += " (A shared 2-core machine: see the noise floor in docs/benchmarks.md.)"
    return text
