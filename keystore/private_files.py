"""The one rule for the files that hold keys, usage and trades: private to the user running us.

keys.json (token hashes, limits), the ledger (what each key spent) and the audit log (accounts,
orders) are refused, not silently used, when another user owns them or can read or write them:
a file others can write lets them grant a key more, and one others can read leaks the trades.
"""

import os
import stat
from pathlib import Path


def privacy_problem(path: Path, st: os.stat_result) -> str | None:
    """Why `path` (with its stat `st`) is not private to this user, with the fix; None if it is."""
    if os.name != "posix":
        return None
    uid = os.getuid()
    if st.st_uid != uid:
        return (
            f"{path} is owned by uid {st.st_uid}, not by you (uid {uid}). "
            f"Fix: chown {uid} {path} && chmod 600 {path}"
        )
    if st.st_mode & 0o077:
        return (
            f"{path} can be read or written by other users "
            f"(mode {stat.S_IMODE(st.st_mode):04o}). Fix: chmod 600 {path}"
        )
    return None


def unreadable_fix(path: Path) -> str:
    """The command that makes `path` readable by this user again (chmod, or chown if not ours)."""
    try:
        st = os.stat(path)
    except OSError:
        return f"make its folder {path.parent} readable and searchable by you (chmod 700)"
    uid = os.getuid()
    if st.st_uid != uid:
        return f"chown {uid} {path} && chmod 600 {path}"
    return f"chmod 600 {path}"
