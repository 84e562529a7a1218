"""
Loading a folder of images and CelebA
=====================================

The reference workflow keeps the images in a folder and their labels in a
CSV. :func:`skface.datasets.load_faces` reads such a CSV (yours, or one
written by :func:`skface.datasets.write_faces`) and
:func:`skface.datasets.load_celeba` reads a local copy of CelebA; both return
a DataFrame whose ``filename`` column holds absolute paths, which
:class:`~skface.FaceCNNClassifier` reads lazily, batch by batch.

skface never downloads CelebA. To run offline, this example builds a small
stand-in with CelebA's file layout from synthetic faces; with the real data
set, point ``load_celeba`` at the folder where you unpacked it.
"""

import os
import shutil
import tempfile

import numpy as np
import pandas as pd
from PIL import Image

from skface import FaceCNNClassifier
from skface.datasets import load_celeba, load_faces, make_faces, write_faces
from skface.metrics import fair_metric, group_accuracy

# sphinx_gallery_thumbnail_path = "_static/faces_grid.png"
FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 400 if FAST else 3000
image_size = 32
epochs = 2 if FAST else 10

# %%
# A folder and a CSV
# ------------------
# ``write_faces`` writes ``face_00000.jpg``, ... and ``labels.csv`` with the
# columns ``filename`` (relative to the CSV), ``gender`` (-1 woman, 1 man)
# and ``class`` (0/1): the reference's layout. Your own folder needs a CSV
# like it.
folder = tempfile.mkdtemp(prefix="skface-folder-")
csv_path = write_faces(folder, n_samples, image_size=image_size, random_state=0)
print(open(csv_path).read().splitlines()[:3])

# %%
# ``load_faces`` checks that every image exists and makes the paths absolute.
frame = load_faces(csv_path)
frame.head()

# %%
# Train on the paths: the classifier reads the ``filename`` column and
# ignores the others. The reference predicted -1/1 and wrote a CSV
# ``filename,label``: train on -1/1 labels and ``predict`` answers in them.
train, test = frame.iloc[: n_samples * 3 // 4], frame.iloc[n_samples * 3 // 4 :]
labels = np.where(train["class"] == 1, 1, -1)
clf = FaceCNNClassifier(image_size=image_size, epochs=epochs, random_state=0)
clf.fit(train, labels)
predictions = pd.DataFrame(
    {"filename": test["filename"].map(os.path.basename), "label": clf.predict(test)}
)
predictions.to_csv(os.path.join(folder, "predictions.csv"), index=False)
print(predictions.head())
test_labels = np.where(test["class"] == 1, 1, -1)
print(f"test accuracy {np.mean(predictions['label'] == test_labels):.3f}; "
      f"majority class (always -1): {np.mean(test_labels == -1):.3f}")

# %%
# A stand-in for CelebA
# ---------------------
# CelebA's official layout: the aligned images in ``img_align_celeba/``, the
# 40 binary attributes (1 present, -1 absent) in ``list_attr_celeba.txt``
# (first line: the number of images; second: the attribute names), and the
# official split (0 train, 1 valid, 2 test) in ``list_eval_partition.txt``.
# We fill the attributes that the synthetic faces have and set the others to
# -1.
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips "
    "Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin "
    "Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open "
    "Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline "
    "Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
    "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()

root = tempfile.mkdtemp(prefix="skface-celeba-")
os.makedirs(os.path.join(root, "img_align_celeba"))
faces = make_faces(n_samples, image_size=image_size, random_state=1)
names = [f"{i + 1:06d}.jpg" for i in range(n_samples)]
for name, image in zip(names, faces.images):
    Image.fromarray(image).save(os.path.join(root, "img_align_celeba", name), quality=95)

a = faces.attributes
present = pd.DataFrame(False, index=names, columns=CELEBA_ATTRIBUTES)
present["Blond_Hair"] = a["blond"].to_numpy() == 1
present["Eyeglasses"] = a["eyeglasses"].to_numpy() == 1
present["Male"] = faces.gender == 1
present["Black_Hair"] = (a["hair_color_name"] == "black").to_numpy()
present["Bald"] = (a["hair_length"] == "bald").to_numpy()
present["Mustache"] = (a["facial_hair"] == "moustache").to_numpy()
present["Goatee"] = (a["facial_hair"] == "goatee").to_numpy()
present["No_Beard"] = a["beard"].to_numpy() == 0
with open(os.path.join(root, "list_attr_celeba.txt"), "w") as f:
    f.write(f"{n_samples}\n{' '.join(CELEBA_ATTRIBUTES)}\n")
    for name, row in present.iterrows():
        f.write(name + " " + " ".join(" 1" if v else "-1" for v in row) + "\n")
partition = np.random.default_rng(0).choice([0, 1, 2], n_samples, p=[0.8, 0.1, 0.1])
with open(os.path.join(root, "list_eval_partition.txt"), "w") as f:
    f.writelines(f"{name} {part}\n" for name, part in zip(names, partition))
print(open(os.path.join(root, "list_attr_celeba.txt")).read().splitlines()[2][:70], "...")

# %%
# Reading CelebA
# --------------
# The defaults are the reference's task: ``class`` is 1 for ``Blond_Hair``
# or ``Eyeglasses``, ``gender`` is -1 where ``Male`` is absent (women) and 1
# where it is present. ``split`` picks rows of the official partition.
celeba_train = load_celeba(root, split=["train", "valid"])
celeba_test = load_celeba(root, split="test")
celeba_train[["filename", "gender", "class", "split", "Blond_Hair", "Eyeglasses"]].head()

# %%
# Train and evaluate per gender, straight from the files.
clf = FaceCNNClassifier(image_size=image_size, epochs=epochs, random_state=0)
clf.fit(celeba_train, celeba_train["class"])
y_pred = clf.predict(celeba_test)
print(group_accuracy(celeba_test["class"], y_pred, sensitive_features=celeba_test["gender"]))
print(f"test accuracy {np.mean(y_pred == celeba_test['class']):.3f}; "
      f"majority class (always 0): {np.mean(celeba_test['class'] == 0):.3f}")
score = fair_metric(celeba_test["class"], y_pred, sensitive_features=celeba_test["gender"])
print(f"Fair_Metric: {score:.3f}")

# %%
# The Kaggle mirror's layout (``img_align_celeba/img_align_celeba/`` and
# CSV files ``list_attr_celeba.csv``, ``list_eval_partition.csv``) is read
# the same way. The reference re-split CelebA 60/20/20 stratified on the
# label instead of using the official partition: load everything with
# ``load_celeba(root)`` and use :func:`sklearn.model_selection.train_test_split`.

# %%
# Remove the example's files.
shutil.rmtree(folder)
shutil.rmtree(root)
