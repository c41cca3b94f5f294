"""The static files' addresses worked out once per process (aid_alliance/storage.py): the
same addresses as whitenoise's manifest storage gives, a missing file refused every time."""

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from whitenoise.storage import CompressedManifestStaticFilesStorage

from aid_alliance.storage import KeptURLStaticStorage


def test_the_project_serves_static_files_through_it():
    assert isinstance(staticfiles_storage, KeptURLStaticStorage)


@pytest.mark.parametrize("name", ["css/app.css", "js/app.js", "css/reports.css"])
def test_the_addresses_are_the_manifests(name, monkeypatch):
    kept = KeptURLStaticStorage()
    theirs = CompressedManifestStaticFilesStorage().url(name)
    assert ".css" in theirs or ".js" in theirs
    assert kept.url(name) == theirs
    assert theirs != f"/static/{name}"  # the hashed name, from the manifest

    # Kept: asked again, the manifest is not read again.
    def no_more(*args, **kwargs):
        raise AssertionError("read the manifest again")

    monkeypatch.setattr(kept, "stored_name", no_more)
    assert kept.url(name) == theirs


def test_a_file_missing_from_the_manifest_is_refused_each_time():
    kept = KeptURLStaticStorage()
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            kept.url("css/nowhere.css")
