"""Synthetic faces and loaders for face-image folders, CelebA and UTKFace.

- :func:`make_faces` -- procedural synthetic faces that reproduce the
  structure of the CelebA "blond hair or eyeglasses" task;
- :func:`write_faces` -- write synthetic faces to a folder with a CSV of labels;
- :func:`load_faces` -- read such a CSV (or your own) with absolute image paths;
- :func:`load_celeba` -- read an existing local copy of CelebA;
- :func:`load_utkface` -- read an existing local copy of UTKFace.

Nothing here downloads anything, and nothing imports TensorFlow.
"""

from ._celeba import load_celeba
from ._folders import load_faces
from ._synthetic import make_faces, write_faces
from ._utkface import load_utkface

__all__ = ["make_faces", "write_faces", "load_faces", "load_celeba", "load_utkface"]
