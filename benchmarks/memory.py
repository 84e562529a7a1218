"""Peak resident memory of FaceCNNClassifier training from a long list of JPEG paths.

Run as a child process, one per path count, so that each peak (VmHWM, the
high-water mark of the resident set) belongs to that run alone::

    python -m benchmarks.memory --csv DIR/labels.csv --n-paths 100000 --steps 100

``DIR/labels.csv`` is the CSV of ``skface.datasets.write_faces``.

The list is made by repeating the cached files. Training stops after
``--steps`` batches (a callback sets ``stop_training``) so that the run stays
short whatever the path count; ``--steps 0`` trains the whole epoch. The
pipeline's memory does not depend on how far into the epoch it is: the
shuffle buffer holds the path strings (not pixels) from the first step, and
only a few decoded batches are in flight at any time. Prints one JSON line.
"""

import argparse
import json
import os
import sys
import time


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", required=True, help="the labels.csv of skface.datasets.write_faces")
    parser.add_argument("--n-paths", type=int, required=True)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=80)
    parser.add_argument("--precision", default="float32")
    args = parser.parse_args(argv)

    import numpy as np
    import pandas as pd

    frame = pd.read_csv(args.csv)
    directory = os.path.dirname(os.path.abspath(args.csv))
    files = np.array([os.path.join(directory, f) for f in frame["filename"]], dtype=object)
    reps = -(-args.n_paths // len(files))
    paths = np.tile(files, reps)[: args.n_paths]
    y = np.tile(frame["class"].to_numpy(), reps)[: args.n_paths]
    w = np.tile(np.where(frame["gender"].to_numpy() == 1, 0.1, 1.0), reps)[: args.n_paths]

    import keras

    from skface import FaceCNNClassifier

    class StopAfter(keras.callbacks.Callback):
        def __init__(self, n):
            super().__init__()
            self.n, self.done = n, 0

        def on_train_batch_end(self, batch, logs=None):
            self.done += 1
            if self.n and self.done >= self.n:
                self.model.stop_training = True

    stopper = StopAfter(args.steps)
    rss_before = _status_kb("VmRSS")
    clf = FaceCNNClassifier(
        image_size=args.image_size, precision=args.precision, batch_size=args.batch_size,
        epochs=1, early_stopping=False, callbacks=[stopper], random_state=0,
        cache_images=False,  # what is measured: the streaming pipeline, whatever the memory
    )
    start = time.perf_counter()
    clf.fit(list(paths), y, sample_weight=w)
    seconds = time.perf_counter() - start
    h, wd = args.image_size, args.image_size
    print(json.dumps({
        "n_paths": args.n_paths,
        "steps": stopper.done,
        "images_seen": min(stopper.done * args.batch_size, args.n_paths),
        "full_epoch": args.steps == 0 or stopper.done * args.batch_size >= args.n_paths,
        "seconds": seconds,
        "rss_before_fit_bytes": rss_before * 1024,
        # the kernel updates the high-water mark lazily (per-thread counters, synced every
        # few dozen pages): it can read a little below an RSS read earlier
        "peak_rss_bytes": max(_status_kb("VmHWM"), _status_kb("VmRSS"), rss_before) * 1024,
        "float32_array_bytes": args.n_paths * h * wd * 3 * 4,
        "uint8_array_bytes": args.n_paths * h * wd * 3,
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
