"""The reference CNN on a GPU with Keras 3 on the JAX backend: training and prediction images/s.

Why JAX: the lent GPU machines carry PyTorch and JAX but no TensorFlow, and the
TensorFlow wheel (over 600 MB, plus CUDA 12 libraries) cannot be carried there.
skface's model builder (``skface._model.build_model``) imports only Keras, so
the network measured here is exactly FaceCNNClassifier's; its tf.data input
path is not (the arrays are fed by Keras's own NumPy adapter), so these
numbers are the model's, not the estimator's.

Usage::

    KERAS_BACKEND=jax python benchmarks/gpu_keras_jax.py --n 20480 --out OUTDIR

Writes ``gpu_keras_jax.json`` and ``gpu_keras_jax.md`` into OUTDIR.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_images(n, size, seed=0):
    """Label-dependent synthetic images (bright square for class 1), float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype("float32")
    X = rng.random((n, size, size, 3), dtype=np.float32) * 0.5
    X[y == 1, size // 4 : size // 2, size // 4 : size // 2, :] += 0.5
    return X, y


def run_config(X, y, *, precision, batch_size, steps_per_execution, predict_batch):
    import keras

    from skface._model import build_model

    keras.utils.set_random_seed(0)
    model = build_model(image_size=X.shape[1:3], dtype=precision, seed=0)
    optimizer = keras.optimizers.Adam(1e-3)
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.BinaryFocalCrossentropy(gamma=5.0),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    # n is a multiple of every batch size: no partial last batch, whose new
    # shape would make XLA compile again inside the timed epoch.
    assert len(X) % (batch_size * steps_per_execution) == 0 and len(X) % predict_batch == 0
    warm = min(len(X), batch_size * steps_per_execution * 20)
    model.fit(X[:warm], y[:warm], batch_size=batch_size, epochs=1, verbose=0)  # compile
    train_s = predict_s = float("inf")
    for _ in range(2):  # best of two epochs
        start = time.perf_counter()
        history = model.fit(X, y, batch_size=batch_size, epochs=1, verbose=0)
        train_s = min(train_s, time.perf_counter() - start)
    model.predict(X[: predict_batch * 2], batch_size=predict_batch, verbose=0)  # compile
    for _ in range(2):
        start = time.perf_counter()
        model.predict(X, batch_size=predict_batch, verbose=0)
        predict_s = min(predict_s, time.perf_counter() - start)
    return {
        "precision": precision,
        "batch_size": batch_size,
        "steps_per_execution": steps_per_execution,
        "train_images_per_s": len(X) / train_s,
        "predict_batch": predict_batch,
        "predict_images_per_s": len(X) / predict_s,
        "train_accuracy_epoch": float(history.history["accuracy"][-1]),
    }


def reference_flops_per_image(size=80):
    """Multiply-adds x 2 of one forward pass of the reference CNN."""
    flops, s, c = 0, size, 3
    for f in (32, 64, 128):
        s -= 2
        flops += 2 * s * s * 9 * c * f
        s //= 2
        c = f
    flops += 2 * s * s * c * 512 + 2 * 512
    return flops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20480, help="a multiple of 1024")
    parser.add_argument("--size", type=int, default=80)
    parser.add_argument("--out", default=os.environ.get("OUT", "."))
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args()

    import keras

    X, y = make_images(args.n, args.size)
    configs = [
        ("float32", 32, 1),
        ("float32", 32, 16),
        ("float32", 256, 1),
        ("mixed_float16", 256, 1),
        ("mixed_bfloat16", 256, 1),
        ("mixed_float16", 1024, 1),
    ]
    if args.quick:
        configs = configs[:2]
    results = []
    for precision, batch, spe in configs:
        r = run_config(X, y, precision=precision, batch_size=batch, steps_per_execution=spe, predict_batch=1024)
        print(json.dumps(r), flush=True)
        results.append(r)

    try:
        gpu = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
    except OSError:
        gpu = "none"
    backend = keras.backend.backend()
    versions = {"keras": keras.__version__, "backend": backend}
    if backend == "jax":
        import jax

        versions["jax"] = jax.__version__
        versions["devices"] = [str(d) for d in jax.devices()]
    flops = reference_flops_per_image(args.size)
    meta = {
        "date": datetime.date.today().isoformat(),
        "gpu": gpu,
        "python": platform.python_version(),
        **versions,
        "n_images": args.n,
        "image_size": args.size,
        "forward_gflop_per_image": flops / 1e9,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu_keras_jax.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    lines = [
        f"Reference CNN ({args.size}x{args.size}x3, 4,288,577 parameters), Keras {keras.__version__} "
        f"on {backend}, GPU: {gpu}, {args.n} images, best of two epochs after a warm-up, {meta['date']}.",
        "",
        "| precision | batch | steps/execution | train images/s | train GFLOP/s (3x fwd) "
        "| predict images/s (batch 1024) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        gflops = r["train_images_per_s"] * 3 * flops / 1e9
        lines.append(
            f"| {r['precision']} | {r['batch_size']} | {r['steps_per_execution']} | "
            f"{r['train_images_per_s']:,.0f} | {gflops:,.0f} | {r['predict_images_per_s']:,.0f} |"
        )
    with open(os.path.join(args.out, "gpu_keras_jax.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
