"""Fitted estimators leave the process that made them: pickle, joblib and
``save`` / ``skface.load`` read back in a fresh Python process, and parallel
scikit-learn tools (whose workers are other processes) return usable models.

An in-process round trip would hide what goes wrong between processes (a
class registered under another name, a module nothing imports), so every
load here happens in a subprocess.
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import TINY, make_toy_images, write_pngs
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skface import FaceCNNClassifier, load
from skface.fairness import DeepFeatureReweighting, FairThresholdClassifier
from skface.metrics import fair_metric, make_fair_scorer


def _faces(n=96, seed=0):
    X, y = make_toy_images(n, seed=seed)
    gender = np.where(np.arange(n) % 3 == 0, -1, 1)
    return X, y, gender


def _run_fresh(code, cwd):
    """Run ``code`` in a new Python process (nothing of this one's imports or
    registrations); return its JSON printed on the last line."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """Every kind of fitted skface estimator, pickled, joblib-dumped and saved
    here; then read back in one fresh process."""
    folder = tmp_path_factory.mktemp("shipped")
    X, y, gender = _faces()
    models = {
        "plain": FaceCNNClassifier(**TINY).fit(X, y),
        "fixed_threshold": FaceCNNClassifier(**TINY, threshold=0.4).fit(X, y),
        "group_dro": FaceCNNClassifier(**TINY, fairness="group_dro").fit(X, y, sensitive_features=gender),
        "pipeline": make_pipeline(FunctionTransformer(), FaceCNNClassifier(**TINY)).fit(X, y),
        "grid_best": GridSearchCV(FaceCNNClassifier(**TINY), {"dense_units": [4, 8]}, cv=2).fit(X, y).best_estimator_,
        "thresholds": FairThresholdClassifier(FaceCNNClassifier(**TINY), random_state=0).fit(
            X, y, sensitive_features=gender),
        "inferred": FairThresholdClassifier(
            FaceCNNClassifier(**TINY), group_estimator=FaceCNNClassifier(**TINY), random_state=0
        ).fit(X, y, sensitive_features=gender),
        "dfr": DeepFeatureReweighting(FaceCNNClassifier(**TINY), C=1.0, n_repeats=2, random_state=0).fit(
            X, y, sensitive_features=gender),
    }
    expected = {}
    for name, model in models.items():
        # pickled twice first: no number of pickles may change what save writes
        pickle.dumps(model)
        with open(folder / f"{name}.pkl", "wb") as handle:
            pickle.dump(model, handle)
        joblib.dump(model, folder / f"{name}.joblib")
        if hasattr(model, "save"):
            model.save(folder / f"{name}.keras")
        if isinstance(model, FairThresholdClassifier):
            expected[name] = model.predict(X, sensitive_features=gender).tolist()
        else:
            expected[name] = model.predict(X).tolist()
    expected["inferred_without_groups"] = models["inferred"].predict(X).tolist()
    np.save(folder / "X.npy", X)
    np.save(folder / "gender.npy", gender)
    read = _run_fresh(
        """
        import glob, json, os, pickle
        import joblib, numpy as np, skface
        X, gender = np.load("X.npy"), np.load("gender.npy")
        out = {}
        for path in sorted(glob.glob("*.pkl") + glob.glob("*.joblib") + glob.glob("*.keras")):
            name, kind = os.path.splitext(path)
            if kind == ".pkl":
                with open(path, "rb") as handle:
                    model = pickle.load(handle)
            else:
                model = joblib.load(path) if kind == ".joblib" else skface.load(path)
            key = f"{name}{kind}"
            out[key] = {"class": type(model).__name__}
            if hasattr(model, "thresholds_"):
                out[key]["pred"] = model.predict(X, sensitive_features=gender).tolist()
                if hasattr(model, "group_estimator_"):
                    out[key]["pred_no_groups"] = model.predict(X).tolist()
            else:
                out[key]["pred"] = model.predict(X).tolist()
                out[key]["threshold_"] = getattr(model, "threshold_", None)
        print(json.dumps(out))
        """,
        folder,
    )
    return models, expected, read, folder


@pytest.mark.parametrize("name", ["plain", "fixed_threshold", "group_dro", "pipeline", "grid_best", "thresholds",
                                  "inferred", "dfr"])
@pytest.mark.parametrize("kind", [".pkl", ".joblib"])
def test_pickle_and_joblib_load_in_a_fresh_process(shipped, name, kind):
    models, expected, read, _ = shipped
    got = read[f"{name}{kind}"]
    assert got["class"] == type(models[name]).__name__
    assert got["pred"] == expected[name]
    if name == "inferred":
        assert got["pred_no_groups"] == expected["inferred_without_groups"]


@pytest.mark.parametrize("name", ["plain", "fixed_threshold", "group_dro", "grid_best", "thresholds", "inferred",
                                  "dfr"])
def test_save_after_pickling_loads_in_a_fresh_process(shipped, name):
    models, expected, read, folder = shipped
    got = read[f"{name}.keras"]
    assert got["class"] == type(models[name]).__name__
    assert got["pred"] == expected[name]
    with zipfile.ZipFile(folder / f"{name}.keras") as archive:
        config = archive.read("config.json").decode()
    # the network's class keeps the name it is registered under
    assert '"registered_name": "skface>FaceNetwork"' in config
    assert ">FaceNetwork" not in config.replace("skface>FaceNetwork", "")


@pytest.mark.parametrize("kind", [".pkl", ".joblib", ".keras"])
def test_the_threshold_fit_chose_travels_with_the_model(shipped, kind):
    models, _, read, _ = shipped
    chosen = models["plain"].threshold_  # threshold="auto", the default
    assert chosen != 0.5  # chosen on the hold-out, so that losing it would show
    assert read[f"plain{kind}"]["threshold_"] == chosen
    assert read[f"fixed_threshold{kind}"]["threshold_"] == 0.4


def test_threshold_file_holds_both_networks_and_the_thresholds(shipped):
    models, _, read, folder = shipped
    with zipfile.ZipFile(folder / "inferred.keras") as archive:
        names = set(archive.namelist())
        state = json.loads(archive.read("skface.json"))
    assert {"config.json", "model.weights.h5", "skface.json", "group_estimator.keras"} <= names
    assert state["wrapper"]["class"] == "FairThresholdClassifier"
    loaded = load(folder / "inferred.keras")
    assert loaded.thresholds_ == models["inferred"].thresholds_
    assert loaded.groups_at_predict_ == "inferred"
    assert load(folder / "thresholds.keras").groups_at_predict_ == "given"
    assert isinstance(loaded.group_estimator_, FaceCNNClassifier)
    assert loaded.get_params()["validation_fraction"] == 0.2


def test_parallel_search_and_cross_validate_return_usable_models(tmp_path):
    """n_jobs=2 runs in loky worker processes, which unpickle the estimator
    and send the fitted ones back: both directions cross a process."""
    X, y, gender = _faces(64)
    frame = pd.DataFrame({"filename": write_pngs(str(tmp_path), X), "gender": gender})
    scorer = make_fair_scorer(sensitive_column="gender")
    clf = FaceCNNClassifier(**{**TINY, "epochs": 1})
    result = cross_validate(clf, frame, y, cv=2, n_jobs=2, scoring=scorer, return_estimator=True)
    assert np.all(np.isfinite(result["test_score"]))
    # the models sent back predict here as they did in the workers that scored them
    folds = StratifiedKFold(2).split(frame, y)
    for fitted, score, (_, test) in zip(result["estimator"], result["test_score"], folds):
        pred = fitted.predict(frame.iloc[test])
        assert fair_metric(y[test], pred, sensitive_features=gender[test]) == pytest.approx(score, abs=1e-12)
    search = GridSearchCV(clf, {"dense_units": [4, 8]}, cv=2, n_jobs=2, scoring=scorer).fit(frame, y)
    assert search.best_estimator_.predict(frame).shape == (64,)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_save_refuses_estimators_that_are_not_skface():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    g = np.repeat([-1, 1], 40)
    y = (X[:, 0] > 0).astype(int)
    clf = FairThresholdClassifier(LogisticRegression(), random_state=0).fit(X, y, sensitive_features=g)
    with pytest.raises(TypeError, match="estimator_ must be a fitted FaceCNNClassifier; got LogisticRegression"):
        clf.save("x.keras")


def test_save_refuses_a_path_without_keras_suffix(shipped):
    models, *_ = shipped
    with pytest.raises(ValueError, match=r"path='m.pkl' must end in '.keras'"):
        models["thresholds"].save("m.pkl")


def test_load_refuses_an_unknown_meta_estimator(shipped, tmp_path):
    _, _, _, folder = shipped
    forged = tmp_path / "forged.keras"
    with zipfile.ZipFile(folder / "thresholds.keras") as src, zipfile.ZipFile(forged, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "skface.json":
                state = json.loads(data)
                state["wrapper"]["class"] = "SomethingNew"
                data = json.dumps(state)
            dst.writestr(item, data)
    with pytest.raises(ValueError, match="holds a 'SomethingNew', which this skface .* cannot read"):
        load(forged)


def test_frozen_group_estimator_is_saved_unwrapped(tmp_path):
    X, y, gender = _faces(64, seed=1)
    genders = FaceCNNClassifier(**TINY).fit(X, gender)
    clf = FairThresholdClassifier(FaceCNNClassifier(**TINY), group_estimator=FrozenEstimator(genders),
                                  random_state=0).fit(X, y, sensitive_features=gender)
    assert clf.group_estimator_.estimator is genders  # frozen: used as it is, not refitted
    back = load(clf.save(tmp_path / "m.keras"))
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))


def test_intersectional_groups_train_save_and_load_in_a_fresh_process(tmp_path):
    """gender x race as a two-column DataFrame: Group DRO over its cells, per-group
    thresholds over its groups, and the tuple group names read back by a new process."""
    X, y, _ = _faces(120)
    frame = pd.DataFrame({"gender": np.where(np.arange(120) % 2, "women", "men"),
                          "race": np.where(np.arange(120) % 3 == 0, "A", "B")})
    dro = FaceCNNClassifier(**TINY, fairness="group_dro").fit(X, y, sensitive_features=frame)
    groups = [("men", "A"), ("men", "B"), ("women", "A"), ("women", "B")]
    assert list(dro.sensitive_groups_) == groups
    assert f"val_accuracy[{('women', 'A')}]" in dro.history_
    fair = FairThresholdClassifier(FaceCNNClassifier(**TINY), random_state=0).fit(X, y, sensitive_features=frame)
    assert sorted(fair.thresholds_) == groups
    dro.save(tmp_path / "dro.keras")
    fair.save(tmp_path / "fair.keras")
    np.save(tmp_path / "X.npy", X)
    frame.to_csv(tmp_path / "groups.csv", index=False)
    expected = fair.predict(X, sensitive_features=frame).tolist()
    read = _run_fresh(
        """
        import json
        import numpy as np, pandas as pd, skface
        X, frame = np.load("X.npy"), pd.read_csv("groups.csv")
        dro, fair = skface.load("dro.keras"), skface.load("fair.keras")
        print(json.dumps({"groups": [list(g) for g in dro.sensitive_groups_],
                          "thresholds": [list(g) for g in fair.thresholds_],
                          "pred": fair.predict(X, sensitive_features=frame).tolist()}))
        """,
        tmp_path,
    )
    assert [tuple(g) for g in read["groups"]] == groups
    assert sorted(tuple(g) for g in read["thresholds"]) == groups
    assert read["pred"] == expected
