"""Procedural synthetic faces that stand in for CelebA (numpy + Pillow only).

Owns the synthetic data set: every random quantity drawn first, per face, then
each face drawn part by part at twice its size, halved, lit and noised;
``make_faces`` returns it, ``write_faces`` writes it in the reference layout.
"""

import numbers
import os
import warnings

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFilter
from sklearn.utils import Bunch, check_random_state

from .._atomic import atomic_path
from .._validation import check_int, check_probability, check_rate_pair

__all__ = ["make_faces", "write_faces"]

# Hair colour is one number in [0, 1] from black to platinum; a face is blond
# when it is at least BLOND_THRESHOLD. The palette changes slowly around the
# threshold, so light brown and dark blond look alike (as in CelebA, where
# annotators disagree on them).
BLOND_THRESHOLD = 0.70
# Label noise weight of a face far from the threshold or with eyeglasses,
# relative to one exactly at it: CelebA's blond labels are what its
# annotators disagree on, its eyeglasses labels are nearly clean.
_NOISE_FLOOR = 0.02
_HAIR_STOPS = np.array([0.0, 0.15, 0.30, 0.45, 0.60, 0.70, 0.80, 0.90, 1.0])
_HAIR_RGB = np.array(
    [
        (28, 22, 20),
        (50, 35, 28),
        (80, 55, 38),
        (115, 80, 52),
        (150, 110, 70),
        (170, 131, 84),
        (200, 165, 105),
        (228, 200, 140),
        (240, 222, 175),
    ],
    dtype=float,
)
_HAIR_NAMES = (
    (0.15, "black"),
    (0.35, "dark brown"),
    (0.55, "brown"),
    (BLOND_THRESHOLD, "light brown"),
    (0.82, "dark blond"),
    (0.94, "blond"),
    (np.inf, "platinum"),
)
_SKIN_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_SKIN_RGB = np.array(
    [(255, 224, 200), (236, 190, 150), (198, 140, 95), (141, 90, 55), (88, 56, 38)],
    dtype=float,
)

# (name, women, men) category probabilities
_HAIR_LENGTHS = (
    ("bald", 0.0, 0.08),
    ("short", 0.12, 0.67),
    ("medium", 0.30, 0.20),
    ("long", 0.58, 0.05),
)
_FACIAL_HAIR = (
    ("none", 1.0, 0.58),
    ("stubble", 0.0, 0.12),
    ("moustache", 0.0, 0.09),
    ("beard", 0.0, 0.15),
    ("goatee", 0.0, 0.06),
)
_GLASSES_STYLES = (
    ("thin", 0.10),
    ("thick", 0.30),
    ("dark", 0.30),
    ("coloured", 0.15),
    ("sunglasses", 0.15),
)
_LENS_SHAPES = ("round", "rectangular", "oval")
_FACE_SHAPES = ("oval", "round", "long", "square")
_FACE_RATIOS = {"oval": 1.3, "round": 1.14, "long": 1.45, "square": 1.22}  # height / width
_BACKGROUNDS = ("plain", "gradient", "blobs")
_EYE_RGB = np.array([(70, 45, 30), (40, 30, 25), (60, 100, 140), (80, 110, 70), (110, 80, 50)])
_METAL_RGB = np.array([(200, 170, 90), (185, 185, 190), (45, 45, 50), (150, 110, 60)])

_MAKE_FACES_PARAMS = (
    "image_size",
    "female_fraction",
    "blond_rate",
    "eyeglasses_rate",
    "label_noise",
)


def _interp_rgb(value, stops, rgb):
    return np.stack([np.interp(value, stops, rgb[:, k]) for k in range(3)], axis=-1)


def _hair_name(value):
    for upper, name in _HAIR_NAMES:
        if value < upper:
            return name
    return _HAIR_NAMES[-1][1]  # pragma: no cover


def _by_gender(rng, is_woman, table):
    """Draw a category per face from a (name, women, men) table."""
    names = [row[0] for row in table]
    out = np.empty(is_woman.shape[0], dtype=object)
    for mask, col in ((is_woman, 1), (~is_woman, 2)):
        probs = np.array([row[col] for row in table], dtype=float)
        out[mask] = np.asarray(names, dtype=object)[
            rng.choice(len(names), size=int(mask.sum()), p=probs / probs.sum())
        ]
    return out


def _make_rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    seed = check_random_state(random_state).randint(0, 2**32 - 1, dtype=np.uint64)
    return np.random.default_rng(int(seed))


def _sample_attributes(n, rng, female_fraction, blond_rate, eyeglasses_rate):
    """Draw every per-face random quantity, before any rendering."""
    is_woman = rng.random(n) < female_fraction
    gender = np.where(is_woman, -1, 1)
    blond = rng.random(n) < np.where(is_woman, blond_rate[0], blond_rate[1])
    glasses = rng.random(n) < np.where(is_woman, eyeglasses_rate[0], eyeglasses_rate[1])

    # Women's non-blond hair leans towards light brown, men's towards dark:
    # most of the faces near the blond threshold are women's, which makes the
    # task harder for women (the reference CNN was less accurate on women).
    non_blond = BLOND_THRESHOLD * np.where(
        is_woman, rng.beta(2.4, 1.25, n), rng.beta(1.5, 1.9, n)
    )
    blond_value = BLOND_THRESHOLD + (1 - BLOND_THRESHOLD) * np.where(
        is_woman, rng.beta(1.4, 1.6, n), rng.beta(1.3, 1.6, n)
    )
    hair = np.where(blond, blond_value, non_blond)

    styles = np.asarray([s for s, _ in _GLASSES_STYLES], dtype=object)[
        rng.choice(len(_GLASSES_STYLES), size=n, p=[p for _, p in _GLASSES_STYLES])
    ]
    styles = np.where(glasses, styles, "none").astype(object)

    a = {
        "gender": gender,
        "blond": blond,
        "eyeglasses": glasses,
        "hair_color": hair,
        "hair_length": _by_gender(rng, is_woman, _HAIR_LENGTHS),
        "facial_hair": _by_gender(rng, is_woman, _FACIAL_HAIR),
        "eyeglasses_style": styles,
        "lens_shape": np.asarray(_LENS_SHAPES, dtype=object)[rng.integers(0, 3, n)],
        "face_shape": np.asarray(_FACE_SHAPES, dtype=object)[
            rng.choice(4, size=n, p=[0.4, 0.25, 0.2, 0.15])
        ],
        "skin_tone": rng.beta(1.6, 2.2, n),
        "background": np.asarray(_BACKGROUNDS, dtype=object)[
            rng.choice(3, size=n, p=[0.4, 0.35, 0.25])
        ],
        "rotation": rng.uniform(-12.0, 12.0, n),
        "scale": rng.uniform(0.86, 1.12, n),
        "shift_x": rng.uniform(-0.07, 0.07, n),
        "shift_y": rng.uniform(-0.06, 0.06, n),
        "brightness": rng.uniform(0.8, 1.15, n),
        "light_angle": rng.uniform(0.0, 2 * np.pi, n),
        "light_strength": rng.uniform(0.0, 0.35, n),
        "contrast": rng.uniform(0.8, 1.1, n),
        "blur": np.where(rng.random(n) < 0.35, rng.uniform(0.0, 0.9, n), 0.0),
        "noise": rng.uniform(0.0, 4.0, n),
    }
    # appearance details that are not reported as attributes
    a["_face_w"] = rng.uniform(0.36, 0.43, n) * np.where(is_woman, 0.96, 1.02)
    a["_ratio_jitter"] = rng.uniform(-0.05, 0.05, n)
    a["_hair_jitter"] = rng.uniform(0.93, 1.07, (n, 3))
    a["_hair_volume"] = rng.uniform(0.02, 0.07, n)
    a["_hairline"] = rng.uniform(0.22, 0.34, n)
    a["_fringe"] = rng.random(n) < np.where(is_woman, 0.35, 0.2)
    a["_parting"] = rng.uniform(-1.0, 1.0, n)
    a["_long_drop"] = rng.uniform(0.55, 1.1, n)
    a["_skin_jitter"] = rng.uniform(0.95, 1.05, (n, 3))
    a["_eye_rgb"] = _EYE_RGB[rng.integers(0, len(_EYE_RGB), n)]
    a["_eye_dx"] = rng.uniform(0.17, 0.22, n)
    a["_eye_y"] = rng.uniform(-0.08, 0.0, n)
    a["_mouth_w"] = rng.uniform(0.22, 0.34, n)
    a["_smile"] = rng.uniform(0.0, 1.0, n)
    a["_lips"] = rng.uniform(0.0, 1.0, n) * np.where(is_woman, 1.0, 0.35)
    a["_shirt_rgb"] = rng.integers(20, 236, (n, 3))
    background = rng.integers(30, 246, (n, 2, 3))
    # less saturated than uniform RGB, as most photo backgrounds are
    a["_bg_rgb"] = (0.6 * background + 0.4 * background.mean(axis=-1, keepdims=True)).astype(int)
    a["_blobs"] = rng.uniform(0.0, 1.0, (n, 4, 4))
    a["_blob_rgb"] = rng.integers(20, 246, (n, 4, 3))
    a["_frame_rgb"] = rng.integers(0, 256, (n, 3))
    a["_metal"] = _METAL_RGB[rng.integers(0, len(_METAL_RGB), n)]
    a["_tortoise"] = rng.uniform(0.0, 1.0, n)
    a["_lens_tint"] = rng.integers(10, 70, (n, 3))
    a["_strands"] = rng.uniform(0.0, 1.0, (n, 6, 2))

    # colours of every face at once: per-face numpy calls are slow
    skin = _interp_rgb(a["skin_tone"], _SKIN_STOPS, _SKIN_RGB) * a["_skin_jitter"]
    hair = _interp_rgb(a["hair_color"], _HAIR_STOPS, _HAIR_RGB) * a["_hair_jitter"]
    a["_skin"] = skin
    for name, value in (
        ("_skin_c", skin),
        ("_shade_c", skin * 0.85),
        ("_hair_c", hair),
        ("_hair_dark_c", hair * 0.82),
        ("_hair_light_c", hair * 1.12 + 8),
        ("_brow_c", hair * 0.75),
    ):
        a[name] = np.clip(value, 0, 255).astype(int)
    return a


def _rounded_rectangle(draw, box, radius, **kwargs):
    # Pillow rejects some small fractional rounded rectangles (tiny images)
    try:
        draw.rounded_rectangle(box, radius=radius, **kwargs)
    except ValueError:
        draw.rectangle(box, **kwargs)


def _rgb(values):
    """A colour for Pillow: a tuple of Python ints (fractions truncated)."""
    return tuple(int(c) for c in values)


class _Face:
    """Face ``i``'s attributes and the layout its parts share, on a canvas of ``size2`` pixels.

    ``face[name]`` is attribute ``name`` of this face. Every length is a
    fraction of the face width ``fw``, height ``fh`` or canvas ``S``, so a
    face looks the same at every image size.
    """

    def __init__(self, i, a, size2):
        self._i, self._a = i, a
        self.size2 = size2
        self.S = S = float(size2)
        self.woman = a["gender"][i] == -1
        self.fw = fw = a["_face_w"][i] * S
        self.fh = fh = fw * (_FACE_RATIOS[a["face_shape"][i]] + a["_ratio_jitter"][i])
        self.cx, self.cy = cx, cy = 0.5 * S, 0.47 * S
        self.top = cy - fh / 2
        self.bottom = cy + fh / 2
        self.left = cx - fw / 2
        self.right = cx + fw / 2
        self.vol = a["_hair_volume"][i] * S  # how far the hair stands off the head
        # the eyeglasses sit on the eyes, the facial hair around the mouth
        self.ey = cy + a["_eye_y"][i] * fh
        self.edx = a["_eye_dx"][i] * fw * 1.0
        self.mw = a["_mouth_w"][i] * fw
        self.my = cy + fh * 0.29
        self.skin_t, self.shade_t = _rgb(a["_skin_c"][i]), _rgb(a["_shade_c"][i])
        self.hair_t, self.hair_dark_t = _rgb(a["_hair_c"][i]), _rgb(a["_hair_dark_c"][i])
        self.hair_light_t, self.brow_t = _rgb(a["_hair_light_c"][i]), _rgb(a["_brow_c"][i])

    def __getitem__(self, name):
        return self._a[name][self._i]


def _draw_shoulders(d, f):
    shirt = _rgb(f["_shirt_rgb"]) + (255,)
    d.ellipse(
        (f.cx - f.fw * 1.25, f.cy + f.fh * 0.62, f.cx + f.fw * 1.25, f.cy + f.fh * 1.7),
        fill=shirt,
    )


def _draw_hair_back(d, f):
    """Hair behind the head, falling to the shoulders for long hair."""
    length, vol = f["hair_length"], f.vol
    if length not in ("medium", "long"):
        return
    drop = f.cy + f.fh * (0.15 if length == "medium" else f["_long_drop"])
    _rounded_rectangle(
        d,
        (f.left - vol * 1.6, f.top - vol, f.right + vol * 1.6, drop),
        f.fw * 0.45,
        fill=f.hair_t + (255,),
    )
    if length == "long":
        for k in range(6):
            sx = f.left - vol + (f.right - f.left + 2 * vol) * f["_strands"][k, 0]
            d.line(
                (sx, f.top + f.fh * 0.3, sx + (f["_strands"][k, 1] - 0.5) * f.fw * 0.2, drop),
                fill=f.hair_dark_t + (255,),
                width=max(1, int(f.S * 0.008)),
            )


def _draw_neck_and_ears(d, f):
    cx, cy, fw, fh = f.cx, f.cy, f.fw, f.fh
    d.rectangle((cx - fw * 0.19, cy + fh * 0.25, cx + fw * 0.19, cy + fh * 0.78), fill=f.shade_t)
    ear_w, ear_h = fw * 0.12, fh * 0.17
    for side in (-1, 1):
        ex = cx + side * fw * 0.49
        d.ellipse((ex - ear_w / 2, cy - ear_h / 2, ex + ear_w / 2, cy + ear_h / 2), fill=f.shade_t)


def _draw_head(d, f):
    box = (f.left, f.top, f.right, f.bottom)
    if f["face_shape"] == "square":
        _rounded_rectangle(d, box, f.fw * 0.32, fill=f.skin_t)
    else:
        d.ellipse(box, fill=f.skin_t)


def _draw_hair_top(d, f):
    """Hair on top of the head: a cap, a fringe or temples, a parting."""
    cx, cy, fw, fh, vol = f.cx, f.cy, f.fw, f.fh, f.vol
    if f["hair_length"] == "bald":
        # hair is left at the sides and the back (the horseshoe of most bald
        # men), so a light scalp is not read as blond hair
        for side in (-1, 1):
            edge = f.left if side == -1 else f.right
            inner = edge - side * fw * 0.13
            d.ellipse(
                (min(edge, inner) - fw * 0.03, cy - fh * 0.3, max(edge, inner) + fw * 0.03,
                 cy + fh * 0.06),
                fill=f.hair_t,
            )
        return
    hairline = f.top + fh * f["_hairline"]
    cap_top = f.top - vol
    d.chord(
        (f.left - vol * 0.6, cap_top, f.right + vol * 0.6, 2 * hairline - cap_top),
        180,
        360,
        fill=f.hair_t,
    )
    if f["_fringe"]:
        # a side-swept fringe across the forehead
        p = f["_parting"]
        d.polygon(
            [
                (f.left + fw * 0.05, hairline),
                (f.right - fw * 0.05, hairline),
                (cx + p * fw * 0.3, hairline + fh * 0.12),
                (cx - p * fw * 0.1, hairline + fh * 0.05),
            ],
            fill=f.hair_t,
        )
    else:
        # skin below a rounded hairline leaves hair at the temples
        d.ellipse(
            (cx - fw * 0.36, hairline - fh * 0.09, cx + fw * 0.36, cy + fh * 0.25),
            fill=f.skin_t,
        )
    px = cx + f["_parting"] * fw * 0.25
    d.line(
        (px, cap_top + vol, px + fw * 0.05, hairline),
        fill=f.hair_light_t,
        width=max(1, int(f.S * 0.01)),
    )


def _draw_eyes(d, f):
    """Eyes (white, iris, pupil) and brows, thinner for women."""
    ey, fw = f.ey, f.fw
    ew, eh = fw * 0.15, fw * 0.075
    iris = _rgb(f["_eye_rgb"])
    for side in (-1, 1):
        ex = f.cx + side * f.edx
        d.ellipse((ex - ew / 2, ey - eh / 2, ex + ew / 2, ey + eh / 2), fill=(240, 240, 235))
        r = eh * 0.5
        d.ellipse((ex - r, ey - r, ex + r, ey + r), fill=iris)
        r *= 0.5
        d.ellipse((ex - r, ey - r, ex + r, ey + r), fill=(15, 12, 12))
        d.line(
            (ex - side * ew * 0.65, ey - f.fh * 0.085, ex + side * ew * 0.6, ey - f.fh * 0.1),
            fill=f.brow_t,
            width=max(1, int(fw * (0.025 if f.woman else 0.04))),
        )


def _draw_nose(d, f):
    cx, cy, fw, fh = f.cx, f.cy, f.fw, f.fh
    d.line(
        (cx, f.ey + fh * 0.04, cx - fw * 0.04, cy + fh * 0.15, cx + fw * 0.03, cy + fh * 0.16),
        fill=f.shade_t,
        width=max(1, int(f.S * 0.012)),
    )


def _draw_facial_hair(d, f):
    """Beard, stubble, goatee and moustache, in the hair colour."""
    cx, fh, mw, my = f.cx, f.fh, f.mw, f.my
    kind = f["facial_hair"]
    if kind in ("beard", "stubble"):
        colour = f.hair_t if kind == "beard" else tuple(
            int(0.55 * s + 0.45 * h) for s, h in zip(f.skin_t, f.hair_t)
        )
        d.chord((f.left, f.top + fh * 0.05, f.right, f.bottom + fh * 0.02), 15, 165, fill=colour)
    elif kind == "goatee":
        d.ellipse((cx - mw * 0.45, my, cx + mw * 0.45, f.bottom + fh * 0.02), fill=f.hair_t)
    if kind in ("moustache", "beard", "goatee"):
        d.polygon(
            [(cx - mw * 0.6, my), (cx, my - fh * 0.07), (cx + mw * 0.6, my), (cx, my - fh * 0.03)],
            fill=f.hair_dark_t,
        )


def _draw_mouth(d, f):
    """Lips tinted towards red by ``_lips``; open in a smile, else a line."""
    red = 0.5 * f["_lips"]
    lips = np.clip(f["_skin"] * (1 - red) + np.array([170, 40, 60]) * red, 0, 255)
    lips_t = _rgb(lips * 0.85)
    cx, mw, my, smile = f.cx, f.mw, f.my, f["_smile"]
    mh = f.fh * (0.03 + 0.07 * smile)
    box = (cx - mw / 2, my - mh, cx + mw / 2, my + mh)
    if smile > 0.6:
        d.chord(box, 0, 180, fill=lips_t)
    else:
        d.arc(box, 0, 180, fill=lips_t, width=max(1, int(f.S * (0.015 + 0.012 * f["_lips"]))))


def _frame_colour_and_width(f, style):
    """Colour and line width of an eyeglasses frame of ``style``."""
    S = f.S
    if style == "thin":
        # metal reads darker than its colour in photos (edge, shadow)
        return _rgb(0.7 * f["_metal"]), max(1, round(S * 0.03))
    if style == "thick":
        t = f["_tortoise"]
        colour = (int(30 + 60 * t), int(20 + 30 * t), int(10 + 10 * t))  # tortoiseshell
        return colour, max(2, round(S * 0.05))
    if style == "dark":
        return (18, 16, 16), max(2, round(S * 0.045))
    if style == "coloured":
        c = f["_frame_rgb"].astype(float)
        c = (c - c.min()) / max(np.ptp(c), 1.0) * 150  # saturated, darker than skin
        return _rgb(c), max(2, round(S * 0.04))
    return (20, 20, 22), max(2, round(S * 0.022))  # sunglasses


def _draw_eyeglasses(d, f):
    """Two lenses, temple arms towards the ears and a bridge."""
    style = f["eyeglasses_style"]
    if style == "none":
        return
    cx, ey, fw = f.cx, f.ey, f.fw
    rectangular = f["lens_shape"] == "rectangular"
    lw, lh = fw * 0.3, fw * (0.19 if rectangular else 0.22)
    colour, width = _frame_colour_and_width(f, style)
    # keep the frame inside the lens on small images (Pillow needs it
    # thinner than the lens's half height; 40 % leaves the lens open)
    width = max(1, min(width, int(lh / 2.5)))
    fill = _rgb(f["_lens_tint"]) if style == "sunglasses" else None
    boxes = []
    for side in (-1, 1):
        ex = cx + side * f.edx
        box = (ex - lw / 2, ey - lh / 2, ex + lw / 2, ey + lh / 2)
        boxes.append(box)
        if rectangular:
            _rounded_rectangle(d, box, lh * 0.25, outline=colour, fill=fill, width=width)
        else:
            d.ellipse(box, outline=colour, fill=fill, width=width)
        outer = box[2] if side == 1 else box[0]
        d.line((outer, ey - lh * 0.25, cx + side * fw * 0.5, ey - lh * 0.1), fill=colour, width=width)
    bridge = (boxes[0][2], ey - lh * 0.15, boxes[1][0], ey - lh * 0.15)
    d.line(bridge, fill=colour, width=width)


# back to front: each part is drawn over the ones before it
_FACE_PARTS = (
    _draw_shoulders,
    _draw_hair_back,
    _draw_neck_and_ears,
    _draw_head,
    _draw_hair_top,
    _draw_eyes,
    _draw_nose,
    _draw_facial_hair,
    _draw_mouth,
    _draw_eyeglasses,
)


def _pose(layer, f):
    """Rotate, scale and shift the face layer (by the inverse affine map)."""
    theta = np.deg2rad(f["rotation"])
    s = f["scale"]
    tx, ty = f["shift_x"] * f.S, f["shift_y"] * f.S
    cos, sin = np.cos(theta) / s, np.sin(theta) / s
    cx, cy = f.cx, f.cy
    ox, oy = cx + tx, cy + ty
    coeffs = (cos, sin, cx - cos * ox - sin * oy, -sin, cos, cy + sin * ox - cos * oy)
    # nearest-neighbour is ten times faster than bilinear here, and the 2x
    # downsampling that follows smooths its jagged edges
    return layer.transform(
        (f.size2, f.size2), Image.Transform.AFFINE, coeffs, Image.Resampling.NEAREST
    )


def _background(f, gradient):
    """A plain, two-colour gradient or blob background, as RGB."""
    size2, S = f.size2, f.S
    background = Image.new("RGB", (size2, size2), _rgb(f["_bg_rgb"][0]))
    kind = f["background"]
    if kind == "gradient":
        other = Image.new("RGB", (size2, size2), _rgb(f["_bg_rgb"][1]))
        background = Image.composite(background, other, gradient)
    elif kind == "blobs":
        bd = ImageDraw.Draw(background)
        for k in range(4):
            x, y, w, h = f["_blobs"][k] * np.array([S, S, 0.6 * S, 0.6 * S])
            bd.ellipse((x - w, y - h, x + w, y + h), fill=_rgb(f["_blob_rgb"][k]))
    return background


def _render_face(i, a, size2, gradient):
    """Draw face ``i`` on a canvas of ``size2`` pixels, return it halved, as RGB."""
    face = _Face(i, a, size2)
    layer = Image.new("RGBA", (size2, size2), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for part in _FACE_PARTS:
        part(draw, face)
    layer = _pose(layer, face)
    image = _background(face, gradient)
    image.paste(layer, (0, 0), layer)
    image = image.reduce(2)
    if face["blur"] > 0.15:
        # the radius is in pixels of an 80-pixel image, scaled with the image
        image = image.filter(ImageFilter.GaussianBlur(float(face["blur"]) * size2 / 160))
    return image


def _finish(images, a, rng, start):
    """Lighting, contrast and sensor noise on a chunk of images, in place."""
    n, size = images.shape[0], images.shape[1]
    idx = slice(start, start + n)

    def col(name):
        return a[name][idx].astype(np.float32)[:, None, None]

    grid = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    light = 1.0 + 2.0 * col("light_strength") * (
        np.cos(col("light_angle")) * grid[None, None, :]
        + np.sin(col("light_angle")) * grid[None, :, None]
    )
    gain = (light * col("brightness"))[..., None]
    contrast = col("contrast")[..., None]
    mean = images.mean(axis=(1, 2, 3), dtype=np.float32, keepdims=True)
    # contrast around the mean, then the light: x * c * g + mean * (1 - c) * g
    x = images * (contrast * gain)
    x += mean * (1 - contrast) * gain
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    noise *= col("noise")[..., None]
    x += noise
    x += 0.5  # round to nearest on the cast below
    np.clip(x, 0, 255, out=x)
    images[...] = x.astype(np.uint8)


def _water_fill(weights, total, cap):
    """Amounts ``min(cap, s * weights)`` summing to ``total``, or every cap if less.

    ``cap`` is one number or one per item; items of weight 0 get 0. The items
    whose cap is reached at the smallest ``s`` saturate first, and ``s`` only
    grows with ``total``, so a lower total gives lower amounts item by item.
    """
    weights = np.asarray(weights, dtype=float)
    cap = np.broadcast_to(np.asarray(cap, dtype=float), weights.shape)
    amounts = np.zeros_like(weights)
    live = weights > 0
    if total <= 0 or not live.any():
        return amounts
    if total >= cap[live].sum():
        amounts[live] = cap[live]
        return amounts
    w, c = weights[live], cap[live]
    order = np.argsort(c / w, kind="stable")
    w, c = w[order], c[order]
    # with the first k items saturated, the rest share what is left by weight
    saturated = np.concatenate([[0.0], np.cumsum(c)[:-1]])
    rest = np.cumsum(w[::-1])[::-1]
    scale = (total - saturated) / rest
    k = np.argmax(scale * w <= c)
    amounts[live] = np.minimum(cap[live], scale[k] * weights[live])
    return amounts


def _noisy_labels(rng, clean, is_woman, hair, glasses, label_noise, width):
    """Flip labels where annotators would disagree, keeping each gender's positives.

    Each face gets a weight: ``_NOISE_FLOOR`` plus, for a face without
    eyeglasses, a bump ``exp(-((hair - BLOND_THRESHOLD) / width) ** 2)``
    (light brown and dark blond, where CelebA's annotators disagree; ``width``
    None gives every face the same weight). The ``label_noise * n`` expected
    flips are shared between the genders in proportion to their weight, and
    within a gender half are positives flipped to 0 and half negatives
    flipped to 1, each in proportion to the face's weight, at most 0.5 per face.
    A gender whose rarer class cannot take its half at that cap gives the rest
    to the other gender, so the expected number of flips is ``label_noise * n``
    unless no gender can take more (then a warning says how many). Both
    sharings, between genders and between faces, are the same water filling.
    """
    n = clean.shape[0]
    weight = np.ones(n)
    if width is not None:
        bump = np.exp(-(((hair - BLOND_THRESHOLD) / width) ** 2))
        weight = _NOISE_FLOOR + np.where(glasses, 0.0, bump)
    cells = [
        [mask & (clean == 1), mask & (clean == 0)] for mask in (is_woman, ~is_woman)
    ]
    # flips per direction for each gender: shared by weight, capped by half its rarer class
    capacity = [0.5 * min(pos.sum(), neg.sum()) for pos, neg in cells]
    share = [weight[pos | neg].sum() for pos, neg in cells]
    per_direction = _water_fill(share, label_noise * n / 2, capacity)
    wanted, possible = label_noise * n, 2 * per_direction.sum()
    if wanted - possible > 1:
        warnings.warn(
            f"label_noise={label_noise:g} asks for {wanted:.0f} flipped labels of "
            f"{n}, but keeping each gender's positive rate with at most a 0.5 "
            f"chance per face allows {possible:.0f}: about {possible / n:.3f} of "
            "the labels are flipped.",
            UserWarning,
            stacklevel=3,
        )
    flip_prob = np.zeros(n)
    for (pos, neg), flips in zip(cells, per_direction):
        for cell in (pos, neg):
            flip_prob[cell] = _water_fill(weight[cell], flips, 0.5)
    flips = rng.random(n) < flip_prob
    return np.where(flips, 1 - clean, clean)


_DESCR = """\
Synthetic faces (skface.datasets.make_faces)
-------------------------------------------

Procedural cartoon faces that reproduce the structure of the CelebA task
"blond hair OR eyeglasses" studied by skface: an over-represented gender,
a rare positive class, gender-dependent base rates and noisy labels.

    n_samples      : {n}
    image_size     : {size} x {size} x 3 (uint8)
    female_fraction: {ff}
    blond_rate     : {br} (women, men)
    eyeglasses_rate: {er} (women, men)
    label_noise    : {ln} (width {lw} around the blond threshold)

target       : 1 when the (noisy) label says blond hair or eyeglasses, else 0.
target_clean : the same label before label noise.
gender       : -1 woman, 1 man.
attributes   : hair_color (0 black .. 1 platinum; blond when >= {thr}),
               hair_color_name, blond, eyeglasses, eyeglasses_style,
               lens_shape, facial_hair, beard, hair_length, face_shape,
               skin_tone (0 light .. 1 dark), background, rotation (degrees),
               scale, shift_x, shift_y (fractions of the image), brightness,
               light_angle, light_strength, contrast, blur, noise.

Light brown and dark blond hair look alike, most such faces are women's and
most flipped labels are theirs, so the task is harder for women than for
men, as for CelebA.
"""


def make_faces(
    n_samples=1000,
    *,
    image_size=80,
    female_fraction=0.59,
    blond_rate=(0.24, 0.02),
    eyeglasses_rate=(0.025, 0.12),
    label_noise=0.03,
    label_noise_width=0.06,
    random_state=None,
):
    """Generate synthetic face images for the "blond hair or eyeglasses" task.

    A procedural stand-in for CelebA: each face has a skin tone, a face shape,
    a hair style and a hair colour taken from a continuum (light brown and
    dark blond look alike), maybe eyeglasses (thin, thick, dark, coloured
    frames or sunglasses), maybe a beard or moustache (men), a background, and
    random lighting, pose (shift, rotation, scale), blur and noise. The label
    is 1 when the face has blond hair or eyeglasses, then flipped for a share
    ``label_noise`` of the faces, mostly those whose hair colour is near the
    blond threshold. The defaults reproduce the statistics of CelebA: about
    59 % women, about 21 % positives, blond hair mostly on women and
    eyeglasses mostly on men, and noisier labels for women than for men.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of faces, at least 1.
    image_size : int, default=80
        Height and width of the images in pixels, at least 8.
    female_fraction : float, default=0.59
        Probability that a face is a woman's, in [0, 1].
    blond_rate : float or (float, float), default=(0.24, 0.02)
        Probability of blond hair for (women, men); one number for both.
    eyeglasses_rate : float or (float, float), default=(0.025, 0.12)
        Probability of eyeglasses for (women, men); one number for both.
    label_noise : float, default=0.03
        Expected share of flipped labels, in [0, 0.5]. Within each gender the
        flips are split evenly between the two classes, so the positive rate
        of each gender is the same with and without noise. That caps the
        share near the positive rate (about 0.21 at the default rates): a
        larger value warns and flips as many as the cap allows.
    label_noise_width : float or None, default=0.06
        Where the flips go. A face's chance of a flip is proportional to
        ``0.02 + exp(-((hair_color - 0.70) / label_noise_width) ** 2)``, the
        second term only for faces without eyeglasses, at most 0.5 per face:
        the noise sits on light brown and dark blond hair, as annotators'
        disagreement does on CelebA, and so mostly on women. A number in
        (0, 1]; None gives every face of a gender and class the same chance.
    random_state : int, RandomState instance, Generator or None, default=None
        Seed or generator; the same seed gives the same faces and labels.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the keys

        - ``images``: uint8 array of shape (n_samples, image_size, image_size, 3);
        - ``target``: int array of 0/1, blond hair or eyeglasses, after label noise;
        - ``target_clean``: the same before label noise;
        - ``gender``: int array, -1 woman, 1 man;
        - ``attributes``: DataFrame with one row per face: ``hair_color``
          (float in [0, 1]), ``hair_color_name``, ``blond``, ``eyeglasses``,
          ``eyeglasses_style``, ``lens_shape``, ``facial_hair``, ``beard``,
          ``hair_length``, ``face_shape``, ``skin_tone``, ``background``,
          ``rotation``, ``scale``, ``shift_x``, ``shift_y``, ``brightness``,
          ``light_angle``, ``light_strength``, ``contrast``, ``blur``, ``noise``;
        - ``frame``: DataFrame with ``gender``, ``target``, ``target_clean``
          and the attributes;
        - ``DESCR``: a description of the data set.

    See Also
    --------
    write_faces : Write such faces to a folder with a CSV of labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skface.datasets import make_faces
    >>> faces = make_faces(200, image_size=32, random_state=0)
    >>> faces.images.shape, faces.images.dtype
    ((200, 32, 32, 3), dtype('uint8'))
    >>> np.unique(faces.gender).tolist(), np.unique(faces.target).tolist()
    ([-1, 1], [0, 1])
    >>> faces.attributes[["hair_color_name", "eyeglasses_style"]].shape
    (200, 2)
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    size = check_int(image_size, "image_size", minimum=8)
    female_fraction = check_probability(female_fraction, "female_fraction")
    blond_rate = check_rate_pair(blond_rate, "blond_rate")
    eyeglasses_rate = check_rate_pair(eyeglasses_rate, "eyeglasses_rate")
    label_noise = check_probability(label_noise, "label_noise", high=0.5)
    if label_noise_width is not None:
        accepted = "label_noise_width must be None or a number in (0, 1]"
        if isinstance(label_noise_width, (bool, np.bool_)) or not isinstance(
            label_noise_width, numbers.Real
        ):
            raise TypeError(
                f"{accepted}, got {label_noise_width!r} of type "
                f"{type(label_noise_width).__name__}."
            )
        if not 0.0 < label_noise_width <= 1.0:  # also rejects NaN
            raise ValueError(f"{accepted}, got {label_noise_width!r}.")
        label_noise_width = float(label_noise_width)
    rng = _make_rng(random_state)

    a = _sample_attributes(n, rng, female_fraction, blond_rate, eyeglasses_rate)
    is_woman = a["gender"] == -1
    clean = (a["blond"] | a["eyeglasses"]).astype(int)
    target = _noisy_labels(
        rng, clean, is_woman, a["hair_color"], a["eyeglasses"], label_noise, label_noise_width
    )

    # Draw at twice the size and halve: cheap anti-aliasing, and thin frames
    # become faint one-pixel lines as in real low-resolution photos.
    size2 = 2 * size
    gradient = Image.linear_gradient("L").resize((size2, size2))
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    chunk = 64  # small enough for the lighting arrays to stay in cache
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        for i in range(start, stop):
            images[i] = np.asarray(_render_face(i, a, size2, gradient))
        _finish(images[start:stop], a, rng, start)

    attributes = pd.DataFrame(
        {
            "hair_color": a["hair_color"],
            "hair_color_name": [_hair_name(v) for v in a["hair_color"]],
            "blond": a["blond"].astype(int),
            "eyeglasses": a["eyeglasses"].astype(int),
            "eyeglasses_style": a["eyeglasses_style"].astype(str),
            "lens_shape": np.where(a["eyeglasses"], a["lens_shape"], "none").astype(str),
            "facial_hair": a["facial_hair"].astype(str),
            "beard": (a["facial_hair"] != "none").astype(int),
            "hair_length": a["hair_length"].astype(str),
            "face_shape": a["face_shape"].astype(str),
            "skin_tone": a["skin_tone"],
            "background": a["background"].astype(str),
            "rotation": a["rotation"],
            "scale": a["scale"],
            "shift_x": a["shift_x"],
            "shift_y": a["shift_y"],
            "brightness": a["brightness"],
            "light_angle": a["light_angle"],
            "light_strength": a["light_strength"],
            "contrast": a["contrast"],
            "blur": a["blur"],
            "noise": a["noise"],
        }
    )
    gender = a["gender"].astype(int)
    frame = pd.concat(
        [
            pd.DataFrame({"gender": gender, "target": target, "target_clean": clean}),
            attributes,
        ],
        axis=1,
    )
    descr = _DESCR.format(
        n=n,
        size=size,
        ff=female_fraction,
        br=blond_rate,
        er=eyeglasses_rate,
        ln=label_noise,
        lw=label_noise_width,
        thr=BLOND_THRESHOLD,
    )
    return Bunch(
        images=images,
        target=target,
        target_clean=clean,
        gender=gender,
        attributes=attributes,
        frame=frame,
        DESCR=descr,
    )


_FORMATS = {"jpg": ("jpg", "JPEG"), "jpeg": ("jpg", "JPEG"), "png": ("png", "PNG")}


def write_faces(
    directory, n_samples=1000, *, format="jpg", random_state=None, **make_faces_kwargs
):
    """Write synthetic faces to a folder, with a CSV in the reference layout.

    The images are written as ``face_00000.jpg``, ``face_00001.jpg``, ... and
    the labels to ``labels.csv`` with the columns ``filename`` (relative to
    ``directory``), ``gender`` (-1 woman, 1 man) and ``class`` (0/1, after
    label noise). The CSV is written last and atomically (to a temporary file
    in ``directory``, then renamed), so it never lists unwritten images and is
    never left half-written.

    Parameters
    ----------
    directory : str or path-like
        Folder to write to; created if missing. Existing files of the same
        names are replaced.
    n_samples : int, default=1000
        Number of faces.
    format : {"jpg", "jpeg", "png"}, default="jpg"
        Image format; JPEG is written at quality 95.
    random_state : int, RandomState instance, Generator or None, default=None
        Passed to :func:`make_faces`.
    **make_faces_kwargs
        Other keyword arguments of :func:`make_faces`, e.g. ``image_size``.

    Returns
    -------
    csv_path : str
        Absolute path of the CSV file.

    See Also
    --------
    load_faces : Read the CSV back with absolute image paths.

    Examples
    --------
    >>> import tempfile
    >>> from skface.datasets import write_faces, load_faces
    >>> folder = tempfile.mkdtemp()
    >>> csv_path = write_faces(folder, 20, image_size=24, random_state=0)
    >>> frame = load_faces(csv_path)
    >>> list(frame.columns), len(frame)
    (['filename', 'gender', 'class'], 20)
    """
    fmt = format.lower() if isinstance(format, str) else format
    if fmt not in _FORMATS:
        raise ValueError(f"format must be one of 'jpg', 'jpeg' or 'png', got {format!r}.")
    unknown = sorted(set(make_faces_kwargs) - set(_MAKE_FACES_PARAMS))
    if unknown:
        raise TypeError(
            f"write_faces got unexpected keyword argument(s) {unknown}; "
            f"the make_faces arguments it accepts are {list(_MAKE_FACES_PARAMS)}."
        )
    faces = make_faces(n_samples, random_state=random_state, **make_faces_kwargs)
    directory = os.path.abspath(os.fspath(directory))
    os.makedirs(directory, exist_ok=True)
    ext, pil_format = _FORMATS[fmt]
    width = max(5, len(str(len(faces.images) - 1)))
    names = [f"face_{i:0{width}d}.{ext}" for i in range(len(faces.images))]
    options = {"quality": 95} if pil_format == "JPEG" else {}
    for name, image in zip(names, faces.images):
        # each image under a temporary name first: a killed run never leaves a
        # truncated face_*.jpg that an older labels.csv lists
        with atomic_path(os.path.join(directory, name), durable=False) as tmp:
            Image.fromarray(image).save(tmp, pil_format, **options)

    frame = pd.DataFrame({"filename": names, "gender": faces.gender, "class": faces.target})
    csv_path = os.path.join(directory, "labels.csv")
    with atomic_path(csv_path) as tmp:
        with open(tmp, "w", newline="") as handle:
            frame.to_csv(handle, index=False)
    return csv_path
