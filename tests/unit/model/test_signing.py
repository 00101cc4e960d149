"""Bundle signing: a manifest of every file's digest and an HMAC over it; a changed, missing or
added file, another key or no manifest at all is refused before anything is parsed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalepredict.model.bundle import META_FILE, BundleError, ModelBundle
from scalepredict.model.signing import MANIFEST, sign, verify

KEY = b"a key the registry never sees"


@pytest.fixture()
def signed(small_fit, tmp_path) -> tuple[Path, str]:
    d = small_fit[1].bundle.save(tmp_path / "bundle")
    return d, sign(d, KEY)


def test_a_signed_bundle_verifies_and_loads(signed):
    d, digest = signed
    assert verify(d, KEY) == digest and len(digest) == 64
    assert ModelBundle.load(d).catalogue.fingerprint


def test_a_changed_file_is_refused_by_name(signed):
    d, _ = signed
    meta = json.loads((d / META_FILE).read_text())
    meta["calibrator"]["method"] = "none"
    (d / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=rf"changed since signing: {META_FILE}"):
        verify(d, KEY)


def test_another_key_an_unsigned_or_a_reforged_bundle_is_refused(signed):
    d, _ = signed
    with pytest.raises(BundleError, match="not valid under this signing key"):
        verify(d, b"another key")
    with pytest.raises(BundleError, match="not valid under this signing key"):
        verify(d, b"")
    # whoever rewrites the manifest to match changed files cannot compute its HMAC
    (d / "extra.json").write_text("{}")
    manifest = json.loads((d / MANIFEST).read_text())
    sign(d, b"the attacker's key")
    forged = json.loads((d / MANIFEST).read_text())
    assert forged["digest"] != manifest["digest"]
    with pytest.raises(BundleError, match="not valid under this signing key"):
        verify(d, KEY)
    (d / MANIFEST).unlink()
    with pytest.raises(BundleError, match="not signed"):
        verify(d, KEY)


def test_a_malformed_manifest_is_refused_not_a_crash(signed):
    d, _ = signed
    for text in ("", "[]", '{"files": 3, "digest": "x", "hmac": "y"}', "{not json"):
        (d / MANIFEST).write_text(text)
        with pytest.raises(BundleError, match=MANIFEST):
            verify(d, KEY)


@settings(max_examples=40, deadline=None)
@given(
    files=st.dictionaries(
        st.sampled_from(["a.json", "b.json", "sub/c.json"]), st.binary(max_size=40), min_size=1
    ),
    data=st.data(),
)
def test_any_edit_added_or_removed_file_is_refused(tmp_path_factory, files, data):
    d = tmp_path_factory.mktemp("b")
    for name, content in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_bytes(content)
    sign(d, KEY)
    verify(d, KEY)
    target = data.draw(st.sampled_from(sorted(files)))
    action = data.draw(st.sampled_from(["edit", "remove", "add"]))
    if action == "edit":
        (d / target).write_bytes(files[target] + b"\x00")
    elif action == "remove":
        (d / target).unlink()
    else:
        (d / "new.json").write_bytes(b"{}")
    with pytest.raises(BundleError, match="since signing"):
        verify(d, KEY)
