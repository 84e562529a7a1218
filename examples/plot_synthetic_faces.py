"""
Synthetic faces and their attributes
====================================

:func:`skface.datasets.make_faces` draws cartoon faces that stand in for
CelebA in the "blond hair OR eyeglasses" task. Each face comes with its
attributes: gender, hair colour on a continuum from black to platinum,
eyeglasses style, facial hair, pose and lighting. The label is blond hair or
eyeglasses, after 3 % label noise.

This example draws a grid of faces, one row per kind: neither blond nor
eyeglasses, blond, eyeglasses, and hair near the blond threshold, where light
brown and dark blond look alike.

Run it standalone to show the figure, or with ``--save PATH`` to write it
(``docs/_static/faces_grid.png`` in the documentation).
"""

import argparse

import matplotlib
import numpy as np

from skface.datasets import make_faces

# %%
# Generate faces with the default statistics of CelebA and pick six of each kind.
faces = make_faces(600, image_size=80, random_state=7)
attributes = faces.attributes
near_threshold = (attributes["hair_color"] - 0.70).abs() < 0.04
rows = {
    "neither": np.flatnonzero(
        (attributes["blond"] == 0) & (attributes["eyeglasses"] == 0) & ~near_threshold
    ),
    "blond": np.flatnonzero(
        (attributes["blond"] == 1) & (attributes["eyeglasses"] == 0) & ~near_threshold
    ),
    "eyeglasses": np.flatnonzero(attributes["eyeglasses"] == 1),
    "near the threshold": np.flatnonzero(near_threshold & (attributes["eyeglasses"] == 0)),
}
n_columns = 6


def describe(i):
    a = attributes.iloc[i]
    who = "woman" if faces.gender[i] == -1 else "man"
    lines = [
        f"{who}, class {faces.target[i]}"
        + ("*" if faces.target[i] != faces.target_clean[i] else ""),
        f"{a['hair_color_name']} ({a['hair_color']:.2f})",
    ]
    extras = []
    if a["eyeglasses"]:
        style = a["eyeglasses_style"]
        extras.append(style if style == "sunglasses" else f"{style} glasses")
    if a["facial_hair"] != "none":
        extras.append(a["facial_hair"])
    lines.append(", ".join(extras) or a["hair_length"] + " hair")
    return "\n".join(lines)


# %%
# Draw the grid: a star marks a label flipped by the label noise.
def plot(save=None):
    if save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(rows), n_columns, figsize=(1.9 * n_columns, 2.45 * len(rows)), squeeze=False
    )
    for r, (kind, indices) in enumerate(rows.items()):
        for c in range(n_columns):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(indices):
                i = indices[c]
                ax.imshow(faces.images[i])
                ax.set_title(describe(i), fontsize=7.5)
            if c == 0:
                ax.set_ylabel(kind, fontsize=10)
    fig.suptitle("skface.datasets.make_faces: class = blond hair OR eyeglasses", fontsize=11)
    fig.tight_layout()
    if save:
        fig.savefig(save, dpi=80)
    else:
        plt.show()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Plot a grid of synthetic faces.")
    parser.add_argument("--save", metavar="PATH", help="write the figure to PATH")
    plot(parser.parse_args().save)
