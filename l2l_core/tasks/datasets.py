"""Small classification datasets bundled with scikit-learn (no download).

``load_dataset(name)`` returns a :class:`Dataset` with a fixed train/test
split (25 % held out, drawn once from a fixed seed) and features scaled to
the training split: digits' pixels (0..16) divided by 16, the other datasets
standardized with the training split's mean and standard deviation.

scikit-learn ships these arrays inside its wheel (``sklearn/datasets/data``),
so loading them never touches the network. Licences: digits is the UCI
"Optical Recognition of Handwritten Digits" test set, wine and breast cancer
are UCI datasets; all are distributed with scikit-learn under its BSD licence.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

DATASETS = ("digits", "wine", "breast_cancer")
TEST_FRACTION = 0.25
SPLIT_SEED = 20160606  # fixed: every task and every run sees the same split


class Dataset(NamedTuple):
    """Float32 features (n, d) and int32 labels (n,), split into train and test."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int


def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets as skd  # imported here: only the MLP tasks need it

    loader = {"digits": skd.load_digits, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer}[name]
    bunch = loader()
    return np.asarray(bunch.data, np.float64), np.asarray(bunch.target, np.int32)


@functools.lru_cache(maxsize=len(DATASETS))
def load_dataset(name: str) -> Dataset:
    """The bundled dataset ``name`` (one of :data:`DATASETS`), split and scaled."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {DATASETS}")
    x, y = _raw(name)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    n_test = int(round(TEST_FRACTION * len(x)))
    test, train = order[:n_test], order[n_test:]
    if name == "digits":
        x = x / 16.0
    else:
        mu, sd = x[train].mean(axis=0), x[train].std(axis=0)
        x = (x - mu) / np.where(sd > 0, sd, 1.0)
    f32 = lambda a: np.ascontiguousarray(a, np.float32)  # noqa: E731
    return Dataset(name, f32(x[train]), y[train], f32(x[test]), y[test], int(y.max()) + 1)
