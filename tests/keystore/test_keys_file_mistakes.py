"""The keys-file mistakes a newcomer makes each get a message naming the file and the fix."""

from collections.abc import Callable
from pathlib import Path

import pytest

from keystore.errors import KeysFileError
from keystore.store import KeyStore, read_keys_file
from keystore.verify import KeyVerifier
from tests.keystore.conftest import cheap_key

# The unreadable file and folder are made for real in tests/e2e/test_setup_mistakes.py, where
# the commands run without root's file-mode override (chmod 000 does not stop root in-process).


def messages(*readers: Callable[[], object]) -> set[str]:
    """The KeysFileError text each reader raises (one text when they all agree)."""
    texts = set()
    for read in readers:
        with pytest.raises(KeysFileError) as exc:
            read()
        texts.add(str(exc.value))
    return texts


def test_reading_a_missing_file_says_where_it_looked(store: KeyStore, keys_path: Path) -> None:
    with pytest.raises(KeysFileError) as exc:
        store.read()
    assert str(exc.value).startswith(f"keys file not found: {keys_path} (from $FUTU_KEYS_FILE)")


def test_revoking_in_a_missing_file_creates_nothing(store: KeyStore, keys_path: Path) -> None:
    for change in (lambda: store.revoke("bot"), lambda: store.replace_hash("bot", "k", "h")):
        with pytest.raises(KeysFileError, match=f"^keys file not found: {keys_path} "):
            change()
    assert not keys_path.parent.exists()


def test_the_first_key_still_creates_the_file(store: KeyStore, keys_path: Path) -> None:
    cheap_key(store, "first")
    assert [r.id for r in store.read().records] == ["first"]


def test_the_verifier_says_where_it_looked(keys_path: Path) -> None:
    with pytest.raises(KeysFileError, match=f"^keys file not found: {keys_path} \\(from"):
        KeyVerifier(keys_path)


def test_a_folder_where_the_file_should_be(store: KeyStore, keys_path: Path) -> None:
    keys_path.mkdir(parents=True)
    expected = (
        f"keys file {keys_path} is a folder, not a file; point --keys-file or FUTU_KEYS_FILE "
        f"at the keys.json file (e.g. {keys_path / 'keys.json'})"
    )
    readers = (store.read, lambda: read_keys_file(keys_path), lambda: KeyVerifier(keys_path))
    assert messages(*readers) == {expected}


def test_a_too_open_file_names_the_chmod(store: KeyStore, keys_path: Path) -> None:
    cheap_key(store, "bot")
    keys_path.chmod(0o644)
    with pytest.raises(KeysFileError) as exc:
        KeyVerifier(keys_path)
    assert str(exc.value) == (
        f"refusing to trust keys file {keys_path} can be read or written by other users "
        f"(mode 0644). Fix: chmod 600 {keys_path}"
    )
