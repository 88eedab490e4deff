"""main_job: trains the digits MLP, reports accuracies, saves a reloadable model and its curves."""

import numpy as np
import pytest

from chainrule import io
from chainrule.data import scaler_from_dict
from chainrule.train import main_job as main_job_module
from chainrule.train.main_job import main_job
from chainrule.train import evaluate

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
pytest.importorskip("safetensors")


def test_main_job_end_to_end(tmp_path, capsys):
    out = tmp_path / "runs" / "digits"
    result = main_job(out, verbose=2)
    acc = result["accuracy"]
    assert acc["test"] >= 0.97 and acc["validation"] >= 0.95 and acc["train"] >= acc["test"]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("epoch 1/40: loss") and len(printed) == 41
    assert printed[-1] == " / ".join(f"{k} accuracy {v:.4f}" for k, v in acc.items())
    assert sorted(p.name for p in out.iterdir()) == ["curves.png", "history.csv", "model.safetensors"]
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len((out / "history.csv").read_text().splitlines()) == 41

    # The saved file carries its preprocessing: reload, rescale raw pixels, get the same test accuracy.
    model, meta = io.load(out / "model.safetensors", with_metadata=True)
    from chainrule.data import load_dataset, split_dataset

    test = split_dataset(load_dataset("digits"), val=0.1, test=0.2, stratify=True, seed=0).test
    scaler = scaler_from_dict(meta["scaler"])
    again = evaluate(model, "cross_entropy", (scaler.transform(test.X), test.y), metrics=["accuracy"])
    assert again["accuracy"] == pytest.approx(acc["test"]) and meta["accuracy"]["test"] == pytest.approx(acc["test"])
    assert meta["class_names"] == [str(d) for d in range(10)]
    assert (meta["task"], meta["loss"]) == ("classification", "cross_entropy")
    assert meta["feature_names"][:2] == ["pixel_0_0", "pixel_0_1"] and len(meta["feature_names"]) == 64


def test_main_job_refuses_to_overwrite_before_training(tmp_path, monkeypatch):
    main_job(tmp_path, epochs=1, verbose=0)
    before = (tmp_path / "model.safetensors").read_bytes()
    with monkeypatch.context() as m:
        m.setattr(main_job_module, "fit", lambda *a, **k: pytest.fail("main_job trained before refusing"))
        with pytest.raises(FileExistsError, match="pass overwrite=True to replace it"):
            main_job(tmp_path, epochs=1, verbose=0)
    assert (tmp_path / "model.safetensors").read_bytes() == before
    result = main_job(tmp_path, epochs=2, seed=1, verbose=0, overwrite=True)
    assert result["epochs"] == 2 and (tmp_path / "model.safetensors").read_bytes() != before
    assert np.isfinite(result["accuracy"]["test"])
