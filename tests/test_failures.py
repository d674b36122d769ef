"""Chapter 13's failure catalogue: what its stored outputs cannot show.

nbval re-runs the chapter and compares every output, so every error class and
message the catalogue prints is checked already; this module repeats none of
them. It checks properties over many damaged inputs, where the chapter shows a
few, and statements of the chapter's prose that no output of a single run
can show:

- another bit of every byte of the good checkpoint flipped (the chapter flips
  the lowest; bits 1 to 7 take turns along the file): each restore is refused
  or gives the right values;
- an `.index` cut at any length, the state a kill during the index write can
  leave (the chapter's kills leave only the empty file), is refused;
- new `.data` beside the old `.index`, the state between the rename of the data
  and the rewrite of the index, is refused;
- `fingerprint.pb` differs between two saves of the same model, the reason the
  chapter prints no digests;
- `safe_mode` refuses a lambda in a legacy `.h5` file too (the chapter shows
  `.keras`).

The helpers come from the chapter's cells tagged `helpers`
(support/helper_cells.py runs them).
"""

import pathlib
import shutil

import pytest
from support.helper_cells import chapter_helpers


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    """The chapter's helpers, run in a folder that then holds its good checkpoint."""
    folder = tmp_path_factory.mktemp("chapter13")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        helpers = chapter_helpers()
    helpers["folder"] = folder
    return helpers


@pytest.fixture
def work(chapter, tmp_path, monkeypatch):
    """A copy of the good checkpoint in tmp_path, the working directory."""
    shutil.copytree(chapter["folder"] / "good", tmp_path / "good")
    monkeypatch.chdir(tmp_path)
    return chapter


def restore_outcome(chapter, prefix):
    tf = chapter["tf"]
    try:
        v1, v2 = chapter["read_v1_v2"](prefix, strict=True)
    except (tf.errors.OpError, IndexError, AssertionError):
        return "refused"
    right = v1.tolist() == [1.0] and v2.tolist() == [2.0]
    return "right values" if right else "WRONG VALUES"


def test_no_bit_flip_restores_wrong_values(work):
    outcomes = {}
    for suffix in (work["DATA"], ".index"):
        path = pathlib.Path("good/model" + suffix)
        original = path.read_bytes()
        for offset in range(len(original)):
            bit = 1 + offset % 7
            work["flip_bit"](path, offset, bit)
            outcome = restore_outcome(work, "good/model")
            outcomes.setdefault(outcome, []).append((suffix, offset, bit))
            path.write_bytes(original)
    assert "WRONG VALUES" not in outcomes, outcomes["WRONG VALUES"][:10]
    assert len(outcomes["refused"]) > len(outcomes.get("right values", []))


def test_an_index_cut_anywhere_is_refused(work):
    index = pathlib.Path("good/model.index")
    original = index.read_bytes()
    restored = []
    for length in range(len(original)):
        index.write_bytes(original[:length])
        if restore_outcome(work, "good/model") != "refused":
            restored.append(length)
    assert not restored, f"restored from an index cut at {restored}"


def test_new_data_beside_the_old_index_is_refused(work):
    tf = work["tf"]
    newer = tf.train.Checkpoint(
        v1=tf.Variable([3.0], name="v1"), v2=tf.Variable([4.0], name="v2")
    )
    newer.write("newer/model")
    shutil.copy("newer/model" + work["DATA"], "good/model" + work["DATA"])
    with pytest.raises(
        tf.errors.DataLossError, match="Checksum does not match"
    ):
        work["read_v1_v2"]("good/model")


def test_fingerprint_differs_between_two_saves_of_one_model(work):
    tf = work["tf"]
    module = tf.Module()
    module.v = tf.Variable([1.0])
    tf.saved_model.save(module, "first")
    tf.saved_model.save(module, "second")
    first = pathlib.Path("first/fingerprint.pb").read_bytes()
    assert first != pathlib.Path("second/fingerprint.pb").read_bytes()


def test_safe_mode_refuses_a_python_lambda_in_an_h5_file(work):
    keras = work["keras"]
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Lambda(lambda x: 2.0 * x)]
    )
    model.save("lambda.h5")
    with pytest.raises(
        ValueError, match="whose `function` is a Python lambda"
    ):
        keras.models.load_model("lambda.h5")
