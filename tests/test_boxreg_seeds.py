"""scripts/boxreg_seeds.py: DETR's box loss by hand, and a tiny run of a subset of the losses."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import boxreg_seeds  # noqa: E402


def test_detr_box_loss_by_hand():
    # target (0, 0, 2, 2), prediction (1, 1, 3, 3): intersection 1, union 7, enclosing box 9,
    # GIoU = 1/7 - (9 - 7)/9; DETR: 5 * (|1| + |1| + |1| + |1|) + 2 * (1 - GIoU)
    t = np.array([[0.0, 0.0, 2.0, 2.0], [0.1, 0.2, 0.5, 0.6]], "float32")
    p = np.array([[1.0, 1.0, 3.0, 3.0], [0.1, 0.2, 0.5, 0.6]], "float32")
    giou = 1 / 7 - 2 / 9
    expected = [5 * 4 + 2 * (1 - giou), 0.0]
    got = keras.ops.convert_to_numpy(boxreg_seeds.detr_box_loss(t, p))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    plain = keras.ops.convert_to_numpy(boxreg_seeds.l1_plus_giou(t, p))
    np.testing.assert_allclose(plain, [1 + (1 - giou), 0.0], rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore")
def test_a_subset_of_the_losses_is_recorded_under_its_own_name(tmp_path, capsys):
    code = boxreg_seeds.main(["--seeds", "0", "--epochs", "1", "--img", "32", "--width", "4",
                              "--losses", "5 L1 + 2 GIoU", "L1", "--out", str(tmp_path)])
    assert code == 0
    records = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [r["lesson"] for r in records] == ["05_box_losses:regressor_seeds[L1,5 L1 + 2 GIoU]"]
    (metrics,) = records[0]["metrics"]
    assert records[0]["profile"] == "custom"
    assert records[0]["software"].startswith("python ") and f"keras {keras.__version__}" in records[0]["software"]
    assert set(metrics) == {"img", "epochs", "width", "seeds", "L1", "5 L1 + 2 GIoU"}
    for name in ("L1", "5 L1 + 2 GIoU"):
        assert 0.0 <= metrics[name]["per_seed_mean_iou"]["0"] <= 1.0
    assert "5 L1 + 2 GIoU" in capsys.readouterr().out.splitlines()[-1]
