"""Time skface.datasets.make_faces: 10,000 faces of 80 x 80 pixels on one core.

Run ``python benchmarks/make_faces_speed.py`` (``--help`` for the options).
It prints the best of ``--repeat`` runs in faces per second. make_faces is
single-threaded (numpy + Pillow drawing, one face at a time); the BLAS and
OpenMP thread counts are pinned to 1 anyway so the number is for one core.
"""

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

from skface.datasets import make_faces  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--image-size", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    make_faces(100, image_size=args.image_size, random_state=0)  # warm-up
    times, cpu_times = [], []
    for seed in range(args.repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        make_faces(args.n_samples, image_size=args.image_size, random_state=seed)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    best, best_cpu = min(times), min(cpu_times)
    # CPU time is what one dedicated core would need; wall time also counts
    # waiting for a busy core
    print(
        f"make_faces({args.n_samples}, image_size={args.image_size}): "
        f"best of {args.repeat}: {best:.2f} s wall -> {args.n_samples / best:,.0f} faces/s; "
        f"{best_cpu:.2f} s CPU -> {args.n_samples / best_cpu:,.0f} faces per CPU-second "
        f"(wall: {', '.join(f'{t:.2f}' for t in times)} s)"
    )


if __name__ == "__main__":
    main()
