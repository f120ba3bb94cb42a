"""Download code on local file:// URLs: checksums, decompression, archives,
and nothing kept on a mismatch. Nothing here touches the network."""

import gzip
import hashlib
import os
import re
import zipfile

import pytest

from rnnzoo import data
from rnnzoo.data import downloads
from rnnzoo.data.downloads import RemoteFile, fetch_file


def _url(path):
    return "file://" + os.path.abspath(path)


def test_fetch_verifies_sha256_and_uses_the_cache(tmp_path):
    source = tmp_path / "input.txt"
    source.write_text("To be, or not to be\n")
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    path = fetch_file(RemoteFile(_url(source), "input.txt", sha), tmp_path / "cache")
    assert open(path).read() == "To be, or not to be\n"
    source.write_text("changed")  # the verified copy is reused, not fetched again
    assert open(fetch_file(RemoteFile(_url(source), "input.txt", sha), tmp_path / "cache")).read().startswith("To be")


def test_checksum_mismatch_raises_and_keeps_nothing(tmp_path):
    source = tmp_path / "input.txt"
    source.write_text("tampered")
    with pytest.raises(ValueError, match="checksum mismatch"):
        fetch_file(RemoteFile(_url(source), "input.txt", "0" * 64), tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []


def test_gz_checksum_is_of_the_text_inside(tmp_path):
    text = b"A dog runs.\nTwo cats sleep.\n"
    with gzip.open(tmp_path / "train.en.gz", "wb") as f:
        f.write(text)
    remote = RemoteFile(_url(tmp_path / "train.en.gz"), "train.en", hashlib.sha256(text).hexdigest(), unpack="gz")
    path = fetch_file(remote, tmp_path / "multi30k")
    assert open(path, "rb").read() == text


def test_zip_folder_is_checked_by_its_content_digest(tmp_path):
    with zipfile.ZipFile(tmp_path / "fsdd.zip", "w") as archive:
        archive.writestr("repo-abc/recordings/0_a_0.wav", b"RIFF...")
        archive.writestr("repo-abc/recordings/1_a_0.wav", b"RIFF,,,")
        archive.writestr("repo-abc/README.md", b"readme")
    os.makedirs(tmp_path / "expected")
    (tmp_path / "expected" / "0_a_0.wav").write_bytes(b"RIFF...")
    (tmp_path / "expected" / "1_a_0.wav").write_bytes(b"RIFF,,,")
    digest = downloads.folder_digest(tmp_path / "expected")
    remote = RemoteFile(_url(tmp_path / "fsdd.zip"), "recordings", digest, unpack="zip:repo-abc/recordings")
    folder = fetch_file(remote, tmp_path / "fsdd")
    assert sorted(os.listdir(folder)) == ["0_a_0.wav", "1_a_0.wav"]
    assert sorted(os.listdir(tmp_path / "fsdd")) == ["recordings"]  # no scratch left


def test_sources_are_pinned_and_checksummed():
    for name, remotes in downloads.SOURCES.items():
        assert name in data.DATASETS
        for remote in remotes:
            assert remote.url.startswith("https://")
            digests = [d for d in (remote.sha256, remote.archive_sha256) if d]
            assert digests and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests), remote
            if "github" in remote.url:  # pinned to a commit, never a moving branch
                assert re.search(r"/[0-9a-f]{40}[/.]", remote.url), remote.url


def test_missing_dataset_error_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNZOO_DATA", raising=False)
    monkeypatch.setenv("RNNZOO_CACHE", str(tmp_path / "cache"))
    message = r"dataset 'sst2' not found \(looked in .*sst2.*--download \(download=True\)"
    with pytest.raises(FileNotFoundError, match=message):
        data.load_dataset("sst2", "train", root=str(tmp_path))
    with pytest.raises(ValueError, match="has splits"):
        data.load_dataset("sst2", "validation", root=str(tmp_path))


def test_a_failed_download_leaves_no_dataset_folder_and_a_retry_completes(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("RNNZOO_CACHE", str(cache))
    monkeypatch.delenv("RNNZOO_DATA", raising=False)
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("one")
    remotes = [RemoteFile(_url(first), "a.txt", hashlib.sha256(b"one").hexdigest()),
               RemoteFile(_url(second), "b.txt", hashlib.sha256(b"two").hexdigest())]
    monkeypatch.setitem(downloads.SOURCES, "tinyshakespeare", remotes)
    with pytest.raises(downloads.DownloadError, match="could not download file://.*b.txt"):
        downloads.download("tinyshakespeare")  # the second file is missing: as with no network
    assert not os.path.exists(cache / "tinyshakespeare")
    assert data.datasets.dataset_folder("tinyshakespeare") is None
    os.makedirs(cache / "tinyshakespeare")  # an empty folder, as older versions left after a failure
    assert data.datasets.dataset_folder("tinyshakespeare") is None
    with pytest.raises(FileNotFoundError, match=f"looked in .*{cache / 'tinyshakespeare'}.* --download"):
        data.load_dataset("tinyshakespeare", "all")
    second.write_text("two")
    folder = downloads.download("tinyshakespeare")
    assert sorted(os.listdir(folder)) == ["a.txt", "b.txt"] and sorted(os.listdir(cache)) == ["tinyshakespeare"]
    assert data.datasets.dataset_folder("tinyshakespeare") == folder
