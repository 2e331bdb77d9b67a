"""Datasets: the download path against a local HTTP server, and the loaders on the seeded cache."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from lossviz import datasets
from lossviz.datasets import _fetch

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = ["BCCD/Annotations/BloodImage_00000.xml", "BCCD/JPEGImages/BloodImage_00000.jpg", "LICENSE"]


@pytest.fixture
def mirror(tmp_path):
    """A 127.0.0.1 HTTP server with a three-file BCCD mirror, and a manifest of those files."""
    served = tmp_path / "served"
    for rel in FILES:
        (served / "bccd" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(datasets.data_dir() / "bccd" / rel, served / "bccd" / rel)
    manifest = tmp_path / "manifest.tsv"
    lines = ["path\tbytes\tsha256"]
    for rel in FILES:
        data = (served / "bccd" / rel).read_bytes()
        lines.append(f"{rel}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}")
    manifest.write_text("\n".join(lines) + "\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "served": served, "manifest": manifest,
           "cache": tmp_path / "cache"}
    server.shutdown()


def test_download_verifies_every_file(mirror, monkeypatch):
    monkeypatch.setenv("LOSSVIZ_DATA_URL", mirror["url"])
    folder = _fetch.ensure("bccd", manifest=mirror["manifest"], root=mirror["cache"])
    for rel in FILES:
        assert (folder / rel).read_bytes() == (mirror["served"] / "bccd" / rel).read_bytes()
    assert (folder / _fetch.STAMP).exists()


def test_checksum_mismatch_is_an_error_and_nothing_is_kept(mirror, monkeypatch):
    monkeypatch.setenv("LOSSVIZ_DATA_URL", mirror["url"])
    (mirror["served"] / "bccd" / "LICENSE").write_text("not the MIT licence")
    with pytest.raises(_fetch.DataUnavailableError, match=r"LICENSE"):
        _fetch.ensure("bccd", manifest=mirror["manifest"], root=mirror["cache"])
    assert not (mirror["cache"] / "bccd" / "LICENSE").exists()


def test_truncated_cache_file_is_fetched_again(mirror, monkeypatch):
    monkeypatch.setenv("LOSSVIZ_DATA_URL", mirror["url"])
    folder = _fetch.ensure("bccd", manifest=mirror["manifest"], root=mirror["cache"])
    image = folder / FILES[1]
    good = image.read_bytes()
    image.write_bytes(good[: len(good) // 2])
    _fetch.ensure("bccd", manifest=mirror["manifest"], root=mirror["cache"])
    assert image.read_bytes() == good


def test_corrupt_file_of_the_right_size_is_fetched_again(mirror, monkeypatch):
    monkeypatch.setenv("LOSSVIZ_DATA_URL", mirror["url"])
    folder = _fetch.ensure("bccd", manifest=mirror["manifest"], root=mirror["cache"])
    xml = folder / FILES[0]
    good = xml.read_bytes()
    xml.write_bytes(b"x" * len(good))  # same size, new mtime: the stamp no longer vouches for it
    _fetch.ensure("bccd", manifest=mirror["manifest"], root=mirror["cache"])
    assert xml.read_bytes() == good


def test_offline_without_cache_names_the_url_and_the_directory(mirror, monkeypatch, tmp_path):
    monkeypatch.setenv("LOSSVIZ_DATA_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(_fetch.DataUnavailableError) as error:
        _fetch.ensure("bccd", manifest=mirror["manifest"], root=tmp_path / "empty")
    message = str(error.value)
    assert "http://127.0.0.1:9/bccd/" in message
    assert str(tmp_path / "empty" / "bccd") in message


def test_canonical_urls_are_pinned_to_a_commit(monkeypatch):
    monkeypatch.delenv("LOSSVIZ_DATA_URL", raising=False)
    for source in _fetch.SOURCES.values():
        assert len(source.origin.rstrip("/").split("/")[-1]) == 40  # a full commit hash
        assert _fetch.origin_for(source) == source.origin


def test_shipped_manifests_match_the_shared_copies():
    """Every shipped hash is the one recorded by whoever copied the canonical files (independent record)."""
    if not SHARED.exists():
        pytest.fail(f"{SHARED} is missing: the shared data copies are needed for this test")
    for name in ("bccd", "wbc_seg"):
        ours = _fetch.read_manifest(_fetch.MANIFESTS / f"{name}.tsv")
        theirs = {line.split("\t")[0]: line.split("\t")[3]
                  for line in (SHARED / name / "MANIFEST.tsv").read_text().splitlines()[1:] if line}
        assert all(theirs[path] == digest for path, (_, digest) in ours.items())
        assert not any(path.startswith("Dataset 2") for path in ours)


def test_bccd_annotations_splits_and_class_counts():
    sizes = {split: len(datasets.bccd_annotations(split)) for split in ("train", "val", "test", "trainval", "all")}
    assert sizes == {"train": 205, "val": 87, "test": 72, "trainval": 292, "all": 364}
    labels = np.concatenate([r["labels"] for r in datasets.bccd_annotations("all")])
    assert np.bincount(labels).tolist() == [4155, 372, 361]
    boxes = np.concatenate([r["boxes"] for r in datasets.bccd_annotations("all")])
    zero_area = (boxes[:, 2] <= boxes[:, 0]) & (boxes[:, 3] <= boxes[:, 1])
    assert int(zero_area.sum()) == 2


def test_bccd_cells_are_crops_with_the_real_imbalance():
    x, y = datasets.bccd_cells("all", size=24)
    assert x.shape == (4886, 24, 24, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(y).tolist() == [4153, 372, 361]  # the two zero-area RBC boxes are skipped
    x2, y2 = datasets.bccd_cells("all", size=24)
    np.testing.assert_array_equal(x, x2)


def test_bccd_wbc_boxes_are_normalised_and_valid():
    x, boxes = datasets.bccd_wbc_boxes("test", size=64)
    assert x.shape == (len(boxes), 64, 64, 3) and boxes.shape[1] == 4
    with_wbc = [r for r in datasets.bccd_annotations("test") if (r["labels"] == 1).any()]
    assert len(boxes) == len(with_wbc) < 72  # images without a WBC are skipped
    first = with_wbc[0]["boxes"][with_wbc[0]["labels"] == 1]
    np.testing.assert_allclose(boxes[0] * [640, 480, 640, 480], first[0], atol=1e-3)
    assert np.all((boxes >= 0) & (boxes <= 1))
    assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])


def test_bccd_patches_are_seeded():
    a = datasets.bccd_patches("val", size=32, count=16, seed=1)
    b = datasets.bccd_patches("val", size=32, count=16, seed=1)
    c = datasets.bccd_patches("val", size=32, count=16, seed=2)
    assert a.shape == (16, 32, 32, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="expected 1 <= size <= 480"):
        datasets.bccd_patches(size=500)


def test_wbc_segmentation_masks_and_split():
    x, y = datasets.wbc_segmentation("train", size=48, target="nucleus")
    xt, yt = datasets.wbc_segmentation("test", size=48, target="nucleus")
    assert x.shape == (240, 48, 48, 3) and y.shape == (240, 48, 48, 1) and xt.shape[0] == 60
    assert set(np.unique(y)) <= {0.0, 1.0}
    per_image = y.mean(axis=(1, 2, 3))
    assert 0.04 < per_image.min() and per_image.max() < 0.35 and 0.10 < per_image.mean() < 0.15
    _, cell = datasets.wbc_segmentation("all", size=48, target="cell")
    assert 0.27 < cell.mean() < 0.35  # SOURCE.md: whole WBC about 31%
    _, classes = datasets.wbc_segmentation("all", size=48, target="classes")
    assert set(np.unique(classes)) == {0, 1, 2}
    with pytest.raises(ValueError, match="expected one of"):
        datasets.wbc_segmentation(target="membrane")


def test_fashion_mnist_through_keras():
    (x, y), (xt, yt) = datasets.fashion_mnist()
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert np.bincount(y).tolist() == [6000] * 10


def test_credits_name_authors_and_licences():
    assert "Zheng" in datasets.credits("wbc_seg") and "Micron" in datasets.credits("wbc_seg")
    assert "Shenggan" in datasets.credits("bccd") and "MIT" in datasets.credits("bccd")
    assert "Xiao" in datasets.credits("fashion_mnist")
