"""The one data path (skface._input): tf.data pipelines of arrays and files, in order or balanced."""

import numpy as np
import pytest
from conftest import make_toy_images, write_pngs

from skface import _input
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


def test_files_decoded_once_hold_the_pixels_the_file_pipeline_gives(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = write_pngs(str(tmp_path), rng.integers(0, 255, (3, 12, 10, 3), dtype=np.uint8))
    gray = str(tmp_path / "gray.jpg")
    Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(gray, quality=90)
    images = ImageSet(paths=np.array([*paths, gray]))
    cached = _input.decoded_once(images, True, (8, 8), epochs=2)
    assert cached.kind == "array" and cached.array.dtype == np.uint8 and cached.array.shape == (4, 8, 8, 3)
    (streamed,), = _batches(make_dataset(images, image_size=(8, 8), batch_size=4))
    (from_cache,), = _batches(make_dataset(cached, image_size=(8, 8), batch_size=4))
    np.testing.assert_array_equal(from_cache, streamed)


@pytest.mark.parametrize(("cache", "epochs", "memory", "decoded"), [
    ("auto", 2, 10**9, True),
    ("auto", 1, 10**9, False),  # read once: nothing to reuse
    ("auto", 2, 8 * 4 * 8 * 8 * 3 - 1, False),  # would take more than 1/8 of the memory
    (True, 1, 0, True),
    (False, 5, 10**9, False),
])
def test_cache_images_decides_from_epochs_and_memory(cache, epochs, memory, decoded, tmp_path, monkeypatch):
    monkeypatch.setattr(_input._device, "available_memory", lambda: memory)
    X, _ = make_toy_images(n=4, size=8)
    images = ImageSet(paths=np.array(write_pngs(str(tmp_path), X)))
    assert _input.decoded_once(images, cache, (8, 8), epochs).kind == ("array" if decoded else "paths")
    array = ImageSet(array=X)
    assert _input.decoded_once(array, cache, (8, 8), epochs) is array


def test_a_fit_from_files_learns_the_same_with_and_without_the_cache(tmp_path):
    from conftest import TINY

    from skface import FaceCNNClassifier

    X, y = make_toy_images(n=48, size=16)
    paths = write_pngs(str(tmp_path), X)
    probas = [FaceCNNClassifier(**TINY, cache_images=cache).fit(paths, y).predict_proba(paths)
              for cache in (True, False)]
    np.testing.assert_allclose(probas[0], probas[1], atol=1e-5)


def test_a_file_that_fails_to_decode_in_the_cache_is_named(tmp_path):
    from conftest import TINY

    from skface import FaceCNNClassifier

    X, y = make_toy_images(n=8, size=16)
    paths = write_pngs(str(tmp_path), X)
    with open(paths[3], "r+b") as f:
        f.truncate(60)  # a PNG header and nothing after it
    with pytest.raises(ValueError, match=r"img_0003\.png"):
        FaceCNNClassifier(**TINY, cache_images=True).fit(paths, y)
