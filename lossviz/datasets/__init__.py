"""Real image data for the lessons: downloaded from the canonical sources, verified, cached.

* BCCD blood-cell smears with boxes (:func:`bccd_annotations`, :func:`bccd_cells`,
  :func:`bccd_wbc_boxes`, :func:`bccd_patches`),
* WBC segmentation Dataset 1 with nucleus / cytoplasm masks (:func:`wbc_segmentation`),
* Fashion-MNIST through ``keras.datasets`` (:func:`fashion_mnist`).

Files are cached under ``$LOSSVIZ_DATA`` (default ``~/.lossviz/data``) and checked against sha256
manifests; ``$LOSSVIZ_DATA_URL`` points the downloads at a mirror. :data:`CREDITS` names each dataset's
authors, licence and citation.
"""

from __future__ import annotations

import numpy as np

from lossviz.datasets._fetch import SOURCES, DataUnavailableError, data_dir, ensure
from lossviz.datasets.bccd import BCCD_CLASSES, bccd_annotations, bccd_cells, bccd_patches, bccd_wbc_boxes
from lossviz.datasets.wbc import wbc_segmentation

CREDITS = {
    "bccd": "BCCD Dataset (MIT), github.com/Shenggan/BCCD_Dataset by Shenggan; original images and annotations "
            "from github.com/cosmicad/dataset and github.com/akshaylamba/all_CELL_data.",
    "wbc_seg": "WBC segmentation Dataset 1 (GPL-3.0), github.com/zxaoyou/segmentation_WBC; images courtesy of "
               "Jiangxi Tecom Science Corporation, China. Xin Zheng, Yong Wang, Guoyou Wang, Jianguo Liu: Fast and "
               "Robust Segmentation of White Blood Cell Images by Self-supervised Learning. Micron 107:55-71 (2018), "
               "doi:10.1016/j.micron.2018.01.010.",
    "fashion_mnist": "Fashion-MNIST (MIT), Zalando SE: Han Xiao, Kashif Rasul, Roland Vollgraf. Fashion-MNIST: a "
                     "Novel Image Dataset for Benchmarking Machine Learning Algorithms. arXiv:1708.07747 (2017).",
}


def credits(name: str) -> str:
    """The credit line for a dataset (``"bccd"``, ``"wbc_seg"`` or ``"fashion_mnist"``)."""
    if name not in CREDITS:
        raise ValueError(f"Invalid value for `name`: expected one of {sorted(CREDITS)}; received {name!r}")
    return CREDITS[name]


def fashion_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST through ``keras.datasets`` (cached in ``$KERAS_HOME/datasets/fashion-mnist``).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 (60000, 28, 28) / (10000, 28, 28) images and
        uint8 labels 0..9.
    """
    import keras

    return keras.datasets.fashion_mnist.load_data()


__all__ = [
    "BCCD_CLASSES", "CREDITS", "SOURCES", "DataUnavailableError", "bccd_annotations", "bccd_cells", "bccd_patches",
    "bccd_wbc_boxes", "credits", "data_dir", "ensure", "fashion_mnist", "wbc_segmentation",
]
