import pytest

import lossviz


def test_profile_reads_the_environment(monkeypatch):
    monkeypatch.setenv("LOSSVIZ_PROFILE", "full")
    assert lossviz.profile() == "full"
    assert lossviz.pick(smoke=1, full=30) == 30
    monkeypatch.setenv("LOSSVIZ_PROFILE", "SMOKE")
    assert lossviz.profile() == "smoke"
    assert lossviz.pick(smoke=1, full=30) == 1


def test_profile_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("LOSSVIZ_PROFILE", "fast")
    with pytest.raises(ValueError, match="expected one of .*'smoke'.*received 'fast'"):
        lossviz.profile()


def test_profile_defaults_to_device_detection(monkeypatch):
    import lossviz._profile as prof

    monkeypatch.delenv("LOSSVIZ_PROFILE", raising=False)
    monkeypatch.setattr(prof, "_keras_sees_gpu", lambda: True)
    assert lossviz.profile() == "full"
    monkeypatch.setattr(prof, "_keras_sees_gpu", lambda: False)
    assert lossviz.profile() == "smoke"


def test_report_appends_json_lines(tmp_path, monkeypatch):
    import json

    import numpy as np

    path = tmp_path / "r.jsonl"
    monkeypatch.setenv("LOSSVIZ_RESULTS", str(path))
    lossviz.report(acc=np.float32(0.5), losses={"mse": np.array(1.25)}, bad=float("nan"))
    lossviz.report(n=3)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [{"acc": 0.5, "losses": {"mse": 1.25}, "bad": None}, {"n": 3}]


def test_report_without_results_file_only_returns(monkeypatch):
    monkeypatch.delenv("LOSSVIZ_RESULTS", raising=False)
    assert lossviz.report(x=1) == {"x": 1}
