"""
A training curve and the faces the model gets wrong
===================================================

``history_`` records the loss and accuracy of every epoch, on the training
data and on the validation split that early stopping watches. After
training, look at the test faces the model misclassifies: with synthetic
faces we know why each one is hard (hair near the blond threshold, thin
eyeglasses, a flipped label). Finally, save the model and load it back.
"""

import os
import shutil
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split

import skface
from skface import FaceCNNClassifier
from skface.datasets import make_faces

FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 400 if FAST else 3000
image_size = 32 if FAST else 48
epochs = 2 if FAST else 15

# %%
# Train with early stopping
# -------------------------
# On 2,250 faces the default ``min_images`` (32,000 images) keeps training
# for all 15 epochs before the patience (here 2 epochs) can stop it, so the
# curve shows the validation loss turn; the weights of the best epoch are
# restored at the end.
faces = make_faces(n_samples, image_size=image_size, random_state=0)
indices = np.arange(n_samples)
idx_train, idx_test = train_test_split(
    indices, test_size=0.25, stratify=list(zip(faces.target, faces.gender)), random_state=0
)
clf = FaceCNNClassifier(image_size=image_size, epochs=epochs, n_iter_no_change=2, random_state=0)
clf.fit(faces.images[idx_train], faces.target[idx_train])

history = clf.history_
epoch = np.arange(1, len(history["loss"]) + 1)
best = int(np.argmin(history["val_loss"])) + 1
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
ax_loss.plot(epoch, history["loss"], "o-", label="training")
ax_loss.plot(epoch, history["val_loss"], "o-", label="validation")
ax_loss.axvline(best, color="grey", linestyle=":", label=f"best epoch ({best})")
ax_loss.set(xlabel="epoch", ylabel="focal loss", title="Loss")
ax_loss.legend()
ax_acc.plot(epoch, history["accuracy"], "o-", label="training")
ax_acc.plot(epoch, history["val_accuracy"], "o-", label="validation")
ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
ax_acc.legend()
plt.show()

# %%
# Misclassified test faces
# ------------------------
# Each title gives the label, the predicted probability of class 1 and what
# the face really has; a star marks a label flipped by the label noise, where
# the model may well be right.
proba = clf.predict_proba(faces.images[idx_test])[:, 1]
y_pred = clf.predict(faces.images[idx_test])
wrong = idx_test[y_pred != faces.target[idx_test]]
p_wrong = proba[y_pred != faces.target[idx_test]]
majority = DummyClassifier(strategy="most_frequent").fit(faces.images[idx_train], faces.target[idx_train])
print(f"{len(wrong)} of {len(idx_test)} test faces misclassified: accuracy "
      f"{np.mean(y_pred == faces.target[idx_test]):.3f}, against "
      f"{majority.score(faces.images[idx_test], faces.target[idx_test]):.3f} for always predicting "
      f"{majority.predict(faces.images[idx_test][:1])[0]}")


def describe(i):
    a = faces.attributes.iloc[i]
    traits = [f"{a['hair_color_name']} hair"]
    if a["eyeglasses"]:
        traits.append(f"{a['eyeglasses_style']} glasses")
    flipped = "*" if faces.target[i] != faces.target_clean[i] else ""
    who = "woman" if faces.gender[i] == -1 else "man"
    return f"{who}, label {faces.target[i]}{flipped}\n" + "\n".join(traits)


# the most confident mistakes first
order = np.argsort(-np.abs(p_wrong - 0.5))[:12]
n_columns = 6
n_rows = max(1, int(np.ceil(len(order) / n_columns)))
fig, axes = plt.subplots(n_rows, n_columns, figsize=(11, 2.6 * n_rows), squeeze=False)
for ax in axes.ravel():
    ax.set_axis_off()
for ax, k in zip(axes.ravel(), order):
    ax.imshow(faces.images[wrong[k]])
    ax.set_title(f"p(1) = {p_wrong[k]:.2f}\n{describe(wrong[k])}", fontsize=8)
plt.tight_layout()
plt.show()

# %%
# Saving and loading
# ------------------
# ``save`` writes one ``.keras`` file; :func:`skface.load` reads it back in
# Keras safe mode, with the parameters, classes and history.
folder = tempfile.mkdtemp(prefix="skface-model-")
path = clf.save(os.path.join(folder, "faces.keras"))
loaded = skface.load(path)
print(f"{os.path.getsize(path) / 1e6:.1f} MB;",
      "same probabilities:", np.allclose(loaded.predict_proba(faces.images[idx_test]),
                                         clf.predict_proba(faces.images[idx_test])))
print("history kept:", len(loaded.history_["loss"]) == len(clf.history_["loss"]))
shutil.rmtree(folder)
