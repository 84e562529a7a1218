"""Synthetic face-like JPEGs for the benchmarks, generated once and cached.

Each image is a face-shaped ellipse on a noisy background with a hair region
and, for some, a dark glasses band. As in the reference task, class 1 is
"blond hair OR eyeglasses" (about a quarter of the images), with 5 % of the
labels flipped (label noise). A small CNN learns it in a few epochs, so the
benchmark can also compare test accuracies after the same training.

Only NumPy and Pillow are used: the cache is made without TensorFlow.
"""

import json
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

#: bump when the images change, so that old caches are rebuilt
VERSION = 1
_HAIR_DARK = np.array([[40, 28, 20], [70, 45, 25], [25, 22, 22], [110, 55, 30]], dtype=np.float32)
_HAIR_BLOND = np.array([[225, 200, 120], [235, 215, 150], [210, 180, 100]], dtype=np.float32)


def _draw(seed, size):
    """One image (uint8, size x size x 3) and its attributes."""
    rng = np.random.default_rng(seed)
    blond = rng.random() < 0.15
    glasses = rng.random() < 0.12
    gender = 1 if rng.random() < 0.4 else -1  # 1 = man (under-represented, as in CelebA)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    cy, cx = 0.52 + rng.normal(0, 0.03), 0.5 + rng.normal(0, 0.03)
    ry, rx = 0.30 * rng.uniform(0.9, 1.1), 0.22 * rng.uniform(0.9, 1.1)
    image = rng.uniform(30, 220, 3).astype(np.float32) * np.ones((size, size, 3), np.float32)
    face = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
    hair_len = 0.05 if gender == 1 else rng.uniform(0.2, 0.35)
    hair = (((yy - (cy - 0.05)) / (ry + 0.06)) ** 2 + ((xx - cx) / (rx + 0.06)) ** 2 <= 1.0) & (
        (yy < cy - ry * 0.55) | ((yy < cy + hair_len) & ~face)
    )
    palette = _HAIR_BLOND if blond else _HAIR_DARK
    skin = np.array([225, 185, 155], np.float32) * rng.uniform(0.55, 1.1)
    image[face] = skin
    image[hair] = palette[rng.integers(len(palette))] * rng.uniform(0.85, 1.1)
    eyes_y = cy - ry * 0.2
    if glasses:
        band = (np.abs(yy - eyes_y) < 0.035) & (np.abs(xx - cx) < rx * 0.95)
        image[band] = rng.uniform(0, 40)
    else:
        for side in (-1, 1):  # two small eyes
            eye = ((yy - eyes_y) / 0.025) ** 2 + ((xx - cx - side * rx * 0.45) / 0.04) ** 2 <= 1
            image[eye] = 40
    image *= rng.uniform(0.75, 1.2)  # lighting
    image += rng.normal(0, 12, image.shape)
    label = int(blond or glasses)
    if rng.random() < 0.05:
        label = 1 - label
    return np.clip(image, 0, 255).astype(np.uint8), label, gender, blond, glasses


def _write_chunk(args):
    from PIL import Image

    directory, seeds, size = args
    rows = []
    for seed in seeds:
        image, label, gender, blond, glasses = _draw(seed, size)
        name = f"face_{seed:06d}.jpg"
        Image.fromarray(image).save(os.path.join(directory, name), quality=90)
        rows.append((name, label, gender, int(blond), int(glasses)))
    return rows


def synthetic_faces(directory, n_images, *, image_size=80, seed=0, n_jobs=None):
    """Return a DataFrame of ``n_images`` cached JPEGs, writing them if needed.

    Columns: ``filename`` (absolute path), ``label`` (0/1), ``gender``
    (-1/1), ``blond``, ``glasses``, ``weight`` (women 1.0, men 0.1, the
    reference's fairness weighting). A manifest records what the folder holds,
    so a second call with the same arguments only reads it.
    """
    directory = os.path.abspath(os.path.join(directory, f"faces_v{VERSION}_{image_size}px_seed{seed}"))
    manifest = os.path.join(directory, "manifest.csv")
    frame = None
    if os.path.exists(manifest):
        frame = pd.read_csv(manifest)
        if len(frame) < n_images or not all(
            os.path.exists(os.path.join(directory, f)) for f in frame["filename"][:n_images]
        ):
            frame = None
    if frame is None:
        os.makedirs(directory, exist_ok=True)
        seeds = np.arange(n_images) + seed * 1_000_003
        n_jobs = n_jobs or min(16, os.cpu_count() or 1)
        chunks = [(directory, part.tolist(), image_size) for part in np.array_split(seeds, max(1, n_jobs * 4))]
        if n_jobs > 1 and n_images >= 2000:
            with ProcessPoolExecutor(n_jobs) as pool:
                rows = [row for part in pool.map(_write_chunk, chunks) for row in part]
        else:
            rows = [row for chunk in chunks for row in _write_chunk(chunk)]
        frame = pd.DataFrame(rows, columns=["filename", "label", "gender", "blond", "glasses"])
        frame.to_csv(manifest, index=False)
        with open(os.path.join(directory, "info.json"), "w") as f:
            json.dump({"version": VERSION, "n_images": n_images, "image_size": image_size, "seed": seed}, f)
    frame = frame.iloc[:n_images].copy()
    frame["filename"] = [os.path.join(directory, f) for f in frame["filename"]]
    frame["weight"] = np.where(frame["gender"] == 1, 0.1, 1.0)
    return frame.reset_index(drop=True)


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
