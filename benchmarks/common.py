"""What the benchmarks share: the machine, the faces, the splits, the results files.

Every entry point (``python -m benchmarks.NAME``, listed in ``README.md``
beside this file) takes its helpers from here and from no other entry point.
The faces are the library's own (``skface.datasets.make_faces`` and
``write_faces``), the splits its class x group split, the bootstraps its
``skface.metrics.fair_metric_bootstrap``. What was measured goes to
``RESULTS`` (JSON); what the documentation shows (markdown, figures) is
rendered from it into ``docs/``.
"""

import datetime
import importlib.metadata
import json
import math
import os
import platform
import time

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: every benchmark's raw results, as JSON
RESULTS = os.path.join(ROOT, "benchmarks", "results")
#: the pages rendered from them (markdown; figures under docs/_static)
DOCS = os.path.join(ROOT, "docs")
STATIC = os.path.join(DOCS, "_static")


def output_paths(out, *names):
    """Where a benchmark writes its JSON, its page and its figure (``names`` in
    that order; None skips one): by default the JSON into ``RESULTS``, the page
    into docs/ and the figure into docs/_static; with a folder ``out`` (smoke
    runs, tests) all of them into it."""
    folders = (RESULTS, DOCS, STATIC) if out is None else (out,) * 3
    return tuple(None if name is None else os.path.join(folder, name) for folder, name in zip(folders, names))


def render_paths(json_path, *names):
    """Where ``--render`` writes the page (and figure) made from ``json_path``:
    into docs/ for a file of ``RESULTS``, else beside the JSON."""
    here = os.path.dirname(os.path.abspath(json_path))
    return output_paths(None if here == os.path.abspath(RESULTS) else here, None, *names)[1:]


# ------------------------------------------------------------------ machine
#: CPU flags that decide what bfloat16 / float16 / int8 matrix work can run natively
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")


def cpu_model():
    """The CPU's model name, as /proc/cpuinfo gives it: the benchmarks' one reading of it."""
    return _cpuinfo()[0]


def _cpuinfo():
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("unknown", "", platform.processor()):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return model, flags


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# ----------------------------------------------------------------- the run
def machine_summary():
    """The machine in short, for the accuracy and fairness benchmarks: CPU, cores, load, versions."""
    versions = {"python": platform.python_version()}
    for name in ("skface", "numpy", "sklearn", "fairlearn", "tensorflow", "keras", "scikeras"):
        try:
            versions[name] = __import__(name).__version__
        except (ImportError, AttributeError):
            versions[name] = None
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cores_available": affinity,
        "platform": platform.platform(),
        "load_average_start": list(os.getloadavg()),
        "versions": versions,
    }


def machine_details():
    """The machine in full, for the speed benchmark: CPU flags, memory, GPUs, library versions, threads."""
    import tensorflow as tf

    from skface._device import cpu_has_bfloat16

    model, flags = _cpuinfo()
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(next(line for line in f if line.startswith("MemTotal")).split()[1]) * 1024
    except (OSError, StopIteration):
        pass
    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append({"name": details.get("device_name", device.name),
                     "compute_capability": details.get("compute_capability")})
    tf_keras = _version("tf_keras")
    if tf_keras is None:
        try:
            import tf_keras as tfk

            tf_keras = tfk.__version__
        except ImportError:
            pass
    return {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_flags": {flag: flag in flags for flag in CPU_FLAGS},
        "cpu_has_bfloat16": cpu_has_bfloat16(),
        "memory_bytes": mem,
        "gpus": gpus,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": _version("keras"),
        "scikeras": _version("scikeras"),
        "scikit_learn": _version("scikit-learn"),
        "numpy": np.__version__,
        "tf_keras": tf_keras,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 Linux)"),
        "tf_threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads() or "default (all cores)",
                       "inter_op": tf.config.threading.get_inter_op_parallelism_threads() or "default (all cores)"},
    }

# -------------------------------------------------------------------- faces
def synthetic_faces(directory, n_images, *, image_size=80, seed=0):
    """``n_images`` faces of :func:`skface.datasets.write_faces` as JPEG files, written once into a cache folder.

    Returns a DataFrame: ``filename`` (absolute path), ``label`` (0/1, with
    the generator's label noise), ``gender`` (-1/1) and ``weight`` (women
    1.0, men 0.1: the reference's fairness weighting). ``write_faces``
    writes its CSV last and atomically, so a folder with the CSV is complete
    and a second call only reads it.
    """
    from skface.datasets import write_faces

    folder = os.path.abspath(os.path.join(directory, f"write_faces_{image_size}px_seed{seed}_n{n_images}"))
    csv = os.path.join(folder, "labels.csv")
    if not os.path.isfile(csv):
        write_faces(folder, n_images, random_state=seed, image_size=image_size)
    frame = pd.read_csv(csv).rename(columns={"class": "label"})
    frame["filename"] = [os.path.join(folder, name) for name in frame["filename"]]
    frame["weight"] = np.where(frame["gender"] == 1, 0.1, 1.0)
    return frame


def load_array(paths):
    """Decode JPEGs into one uint8 array (n, H, W, 3) with Pillow."""
    from PIL import Image

    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])


def utkface_arrays(root, image_size, *, n=None, random_state=0):
    """UTKFace adults of ``root`` (``load_utkface``'s default task) as arrays.

    The photographs are decoded and resized once with Pillow (bilinear), so
    that every network of a benchmark trains on the same pixels without
    decoding 200 x 200 JPEGs every epoch. ``n`` draws that many faces at
    random. Returns ``(images, frame)``: uint8 ``(n, size, size, 3)`` and
    load_utkface's DataFrame, in the same order.
    """
    from PIL import Image

    from skface.datasets import load_utkface

    frame = load_utkface(root)
    if n is not None and n < len(frame):
        frame = frame.sample(n=n, random_state=random_state).reset_index(drop=True)
    size = (image_size, image_size)
    images = np.empty((len(frame), *size, 3), dtype=np.uint8)
    for i, path in enumerate(frame["filename"]):
        with Image.open(path) as image:
            images[i] = np.asarray(image.convert("RGB").resize(size, Image.Resampling.BILINEAR))
    return images, frame



def synthetic_parts(n_train, n_val, n_test, image_size, seed):
    """``make_faces`` for a train / validation / test split of these sizes:
    ``(images, y, gender, sizes)``, the input of :func:`stratified_parts`."""
    from skface.datasets import make_faces

    faces = make_faces(n_train + n_val + n_test, image_size=image_size, random_state=seed)
    return faces.images, faces.target, faces.gender, [n_train, n_val, n_test]


def utkface_parts(root, image_size, n=None):
    """UTKFace adults (:func:`utkface_arrays`) for a 60/20/20 train / validation /
    test split: ``(images, y, gender, sizes)``; ``n`` draws that many faces."""
    images, frame = utkface_arrays(root, image_size, n=n)
    y, gender = frame["class"].to_numpy(), frame["gender"].to_numpy()
    n_val = n_test = int(round(0.2 * len(frame)))
    return images, y, gender, [len(frame) - n_val - n_test, n_val, n_test]


# ------------------------------------------------------------------- splits
def stratified_parts(y, gender, sizes, seed):
    """Disjoint index arrays of the given sizes (None: the rest), stratified on class x gender."""
    from skface._split import class_group_split

    rest = np.arange(len(y))
    parts = []
    for size in sizes[:-1]:
        fraction = size / len(rest)
        rest_idx, part = class_group_split(rest, fraction, y, gender, random_state=seed)
        parts.append(np.asarray(part))
        rest = np.asarray(rest_idx)
    last = sizes[-1]
    parts.append(rest if last is None else rest[:last])
    return parts


def split_indices(y, gender, seed):
    """One seed's 60/20/20 train / validation / test rows, stratified on class x gender."""
    from skface._split import class_group_split

    rest, test = class_group_split(len(y), 0.2, y, gender, random_state=seed)
    train, val = class_group_split(rest, 0.25, y, gender, random_state=seed)
    return train, val, test


# ------------------------------------------------------------------ results
def read_runs(path):
    """The results JSON of a benchmark that records run by run (``{"runs": []}`` before the first)."""
    if not os.path.isfile(path):
        return {"runs": []}
    with open(path) as handle:
        return json.load(handle)


def merged_runs(path, run, key, order):
    """The results of the JSON file ``path`` (``{"runs": []}`` if missing) with ``run`` in place
    of the run with the same ``key(run)``, the runs sorted by ``order``; nothing is written."""
    results = read_runs(path)
    results["runs"] = sorted([r for r in results["runs"] if key(r) != key(run)] + [run], key=order)
    return results


def write_results(path, results):
    """Write a benchmark's results JSON (its folder created if missing) and return the results."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(results, handle, indent=1)
    return results


def record_run(path, run, key, order):
    """Add ``run`` to the ``runs`` of the JSON file ``path`` (see :func:`merged_runs`), write the
    file and return its contents: a long benchmark records each run as it finishes, and a rerun
    replaces its own."""
    return write_results(path, merged_runs(path, run, key, order))


def results_and_page(out, render_only, json_name, md_name, measure, render):
    """The flow of a benchmark with one results file and one page: ``measure(json_path)`` returns
    the results, which are written (into ``out``, else results/), or with ``render_only`` the
    JSON is read; then the page is rendered from them (into ``out``, else docs/)."""
    json_path, md_path = output_paths(out, json_name, md_name)
    if render_only:
        with open(json_path) as handle:
            results = json.load(handle)
    else:
        results = write_results(json_path, measure(json_path))
    with open(md_path, "w") as handle:
        handle.write(render(results))
    print(f"wrote {md_path}")
    return results


def mean_std_text(values):
    """``"mean ± standard deviation"`` of per-seed values (0 spread for one)."""
    values = np.asarray(values, dtype=float)
    spread = values.std(ddof=1) if values.size > 1 else 0.0
    return f"{values.mean():.3f} ± {spread:.3f}"



def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def run_data_sets(args, data_sets, run_seed, json_path, *, summary, log=print, **extra):
    """The per-data-set, per-seed loop of a benchmark that records as it goes.

    ``data_sets`` is a list of ``(key, title, loader)``: ``loader(args)``
    returns ``(images, y, gender, sizes)``; ``run_seed(args, data, seed, key)``
    returns one seed's record, and ``summary(record)`` the line logged for it.
    The results (with the machine, the arguments and ``extra``) are written to
    ``json_path`` after every seed, so an interrupted run keeps what it
    finished, and returned.
    """
    results = {"schema": 1, "started": _now(), "machine": machine_summary(),
               "arguments": {k: v for k, v in vars(args).items() if k not in ("out", "render", "utkface")},
               **extra, "datasets": {}}
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    for key, title, loader in data_sets:
        images, y, gender, _ = data = loader(args)
        results["datasets"][key] = {"title": title, "n_faces": int(len(y)), "positive_rate": float(np.mean(y)),
                                    "women_share": float(np.mean(gender == -1)), "seeds": []}
        if isinstance(getattr(args, "image_size", None), dict):
            results["datasets"][key]["image_size"] = args.image_size[key]
        for seed in range(args.seeds):
            record = run_seed(args, data, seed, key)
            results["datasets"][key]["seeds"].append(record)
            results["finished"] = _now()
            results["machine"]["load_average_end"] = list(os.getloadavg())
            with open(json_path, "w") as handle:
                json.dump(results, handle, indent=1)
            log(f"{key} seed {seed}: {summary(record)}")
    return results



def written_by(module, results, json_name):
    """The first line of a page that :func:`run_data_sets` results render to."""
    return (f"Written by `python -m benchmarks.{module}` (started {results['started']}, last seed "
            f"{results.get('finished', '?')}); do not edit by hand, rerun it. "
            f"Raw numbers: `benchmarks/results/{json_name}`.")


# ----------------------------------------------------------------- training
def epoch_timer():
    """A Keras callback that keeps the wall seconds of every epoch (training and its validation pass)
    in ``seconds``, and in ``train_end`` the ``time.perf_counter()`` at which training ended (before
    ``fit``'s own clean-up and whatever the caller does after it)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self.train_end = [], None

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

        def on_train_end(self, logs=None):
            self.train_end = time.perf_counter()

    return EpochTimer()


def scored_fit(clf, y, pred, g, seconds, load_start):
    """What every fit of these benchmarks reports on its test faces (noisy labels)."""
    from skface.metrics import fair_metric, group_accuracy

    per_gender = group_accuracy(y, pred, sensitive_features=g)
    return {
        "accuracy_women": float(per_gender.loc[-1]),
        "accuracy_men": float(per_gender.loc[1]),
        "fair_metric": float(fair_metric(y, pred, sensitive_features=g)),
        "predicted_positive_rate": float(np.mean(pred == 1)),
        "true_positive_rate": float(np.mean(y == 1)),
        "majority_accuracy": float(max(np.mean(y == 1), np.mean(y == 0))),
        "train_seconds": seconds,
        "precision": clf.precision_,
        "loadavg_start": list(load_start),
        "loadavg_end": list(os.getloadavg()),
    }


def replay(val_loss, *, patience_epochs, start_epoch=0, tol=0.0, max_epochs=None):
    """Epochs run and epoch restored (0-based) under a rule: do not stop before
    ``start_epoch`` epochs are done, stop after ``patience_epochs`` epochs
    without an improvement larger than ``tol``, restore the best epoch."""
    max_epochs = len(val_loss) if max_epochs is None else min(max_epochs, len(val_loss))
    best, best_epoch, wait = math.inf, 0, 0
    for epoch in range(max_epochs):
        if val_loss[epoch] < best - tol:
            best, best_epoch, wait = val_loss[epoch], epoch, 0
        else:
            wait += 1
        if wait >= patience_epochs and epoch + 1 >= start_epoch:
            return epoch + 1, best_epoch
    return max_epochs, best_epoch
