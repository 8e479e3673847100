"""The cache folder and the file hash every part of ganforge shares."""

import hashlib

from ganforge.files import cache_dir, sha256_file


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("GANFORGE_CACHE")
    assert cache_dir().parts[-2:] == (".cache", "ganforge")


def test_sha256_file_matches_hashlib(tmp_path) -> None:
    path = tmp_path / "blob"
    data = bytes(range(256)) * 5000  # more than one 1 MiB block
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
