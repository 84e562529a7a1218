"""Per-epoch learning curves of the default FaceCNNClassifier, for choosing an
early-stopping rule.

Trains the default network with its validation hold-out but without stopping
(patience larger than the epochs), and records after every epoch the
validation loss that early stopping monitors and the test accuracy and
predicted positive rate of the weights of that epoch. Since a stopping rule
only decides *when* to stop and *which* epoch's weights to restore, and
neither changes the epochs before it, any rule can be replayed exactly on
these curves: :func:`replay` does so for the rules compared in
docs/default_learns.md.

    nice -n 10 python benchmarks/early_stopping_curves.py --image-size 32 \
        --n-samples 3000 --epochs 20 --seeds 0 1 2

writes ``benchmarks/results/early_stopping_curves_<size>px.json``.
"""

import argparse
import json
import math
import os
import time

import numpy as np
from sklearn.model_selection import train_test_split

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def split(n_samples, image_size, seed, data_seed=11, test_size=0.25):
    from skface.datasets import make_faces

    faces = make_faces(n_samples, image_size=image_size, random_state=data_seed)
    idx = np.arange(n_samples)
    train, test = train_test_split(idx, test_size=test_size, stratify=faces.target, random_state=seed)
    return faces, train, test


def curves(n_samples, image_size, epochs, seed):
    import keras

    from skface import FaceCNNClassifier

    faces, train, test = split(n_samples, image_size, seed)
    X_test = faces.images[test].astype("float32") / 255.0
    y_test = faces.target[test]
    record = {"test_accuracy": [], "test_positive_rate": [], "seconds": []}

    class Probe(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            record["seconds"].append(time.perf_counter() - self.t0)
            p = np.asarray(self.model.predict(X_test, batch_size=256, verbose=0)).ravel()
            pred = (p > 0.5).astype(int)
            record["test_accuracy"].append(float(np.mean(pred == y_test)))
            record["test_positive_rate"].append(float(pred.mean()))

    clf = FaceCNNClassifier(
        image_size=image_size, epochs=epochs, n_iter_no_change=epochs + 1, random_state=seed,
        callbacks=[Probe()],
    )
    clf.fit(faces.images[train], faces.target[train])
    n_fit = math.ceil(len(train) * (1 - clf.validation_fraction))
    return {
        "seed": seed,
        "n_train": int(n_fit),
        "steps_per_epoch": math.ceil(n_fit / clf.batch_size),
        "true_positive_rate": float(y_test.mean()),
        "majority_accuracy": float(max(y_test.mean(), 1 - y_test.mean())),
        "val_loss": [float(v) for v in clf.history_["val_loss"]],
        **record,
        "precision": clf.precision_,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=3000)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    os.makedirs(RESULTS, exist_ok=True)
    out = os.path.join(RESULTS, f"early_stopping_curves_{args.image_size}px.json")
    runs = []
    for seed in args.seeds:
        runs.append(curves(args.n_samples, args.image_size, args.epochs, seed))
        print(json.dumps(runs[-1]), flush=True)
        with open(out, "w") as f:
            json.dump({"args": vars(args), "loadavg": os.getloadavg(), "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
