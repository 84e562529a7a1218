"""The one data path (skface._input): tf.data pipelines of arrays and files, in order or balanced."""

import numpy as np
import pytest
from conftest import make_toy_images, write_pngs

from skface._input import make_dataset
from skface._validation import ImageSet


def _batches(dataset, n_batches=None):
    out = []
    for i, batch in enumerate(dataset):
        if n_batches is not None and i == n_batches:
            break
        out.append([np.asarray(part) for part in (batch if isinstance(batch, tuple) else (batch,))])
    return out


@pytest.mark.parametrize("kind", ["array", "paths"])
def test_images_come_in_the_order_of_indices_scaled_with_their_labels_and_weights(kind, tmp_path):
    X, y = make_toy_images(n=10, size=8)
    images = ImageSet(array=X) if kind == "array" else ImageSet(paths=np.array(write_pngs(str(tmp_path), X)))
    order = np.array([7, 2, 9, 0, 5])
    weights = np.arange(10, dtype=np.float32)
    batches = _batches(make_dataset(images, image_size=(8, 8), batch_size=2, y=y, sample_weight=weights,
                                    indices=order))
    assert [len(b[0]) for b in batches] == [2, 2, 1]
    x, labels, w = (np.concatenate([b[i] for b in batches]) for i in range(3))
    np.testing.assert_allclose(x, X[order] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(labels, y[order])
    np.testing.assert_array_equal(w, weights[order])


def test_images_of_another_size_are_resized_and_grayscale_becomes_rgb():
    gray = np.random.default_rng(0).integers(0, 255, (3, 12, 10), dtype=np.uint8)
    (x,), = _batches(make_dataset(ImageSet(array=gray[..., None]), image_size=(8, 8), batch_size=3))
    assert x.shape == (3, 8, 8, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_shuffle_is_seeded_and_changes_every_epoch():
    X, y = make_toy_images(n=12, size=8)
    ids = np.arange(12, dtype=np.float32)

    def epochs(seed):
        dataset = make_dataset(ImageSet(array=X), image_size=(8, 8), batch_size=12, y=ids, shuffle=True,
                               seed=seed, repeat=True)
        return [b[1].tolist() for b in _batches(dataset, 2)]

    first, second = epochs(3)
    assert sorted(first) == list(range(12)) and sorted(second) == list(range(12)) and first != second
    assert epochs(3) == [first, second] and epochs(4) != [first, second]


def test_balance_draws_every_cell_equally_often():
    X, _ = make_toy_images(n=40, size=8)
    cells = np.where(np.arange(40) < 36, 0, 1)  # a 9-to-1 imbalance
    ids = np.arange(40, dtype=np.float32)
    dataset = make_dataset(ImageSet(array=X), image_size=(8, 8), batch_size=50, y=ids, balance=cells, seed=0)
    drawn = np.concatenate([b[1] for b in _batches(dataset, 20)]).astype(int)
    assert abs(np.mean(drawn >= 36) - 0.5) < 0.05  # 1,000 draws
    # within a cell the samples come in a reshuffled order, each once per pass
    rare = drawn[drawn >= 36]
    assert sorted(rare[:4]) == [36, 37, 38, 39] and sorted(rare[4:8]) == [36, 37, 38, 39]
