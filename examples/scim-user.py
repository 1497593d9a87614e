#!/usr/bin/python3
"""scim-user.py: a provisioned user and their groups, read straight from
the scimd store with python3-lmdb (docs/storage.md, docs/scripts.md).

    scim-user.py [--db DIR] NAME-OR-EMAIL

prints the user as JSON with "groups" (value, display, type "direct"),
as `scimctl user find NAME --json` does.  Exit status: 0 found, 3 not
found, 1 the store cannot be read, 2 usage.  Run as the store's user:
readers need write access to lock.mdb.
"""
import json
import os
import sys
import unicodedata

import lmdb


def fold(s):
    """The key of a case-insensitive index: Unicode case folding, NFC."""
    return unicodedata.normalize("NFC", s.casefold()).encode()


def find_user(txn, dbs, name):
    """The stored user (a dict) whose userName or email is name, or None."""
    uid = txn.get(fold(name), db=dbs["idx_username"])
    if uid is None:
        with txn.cursor(db=dbs["idx_email"]) as c:
            if c.set_key(fold(name)):
                uid = c.value()
    if uid is not None:
        raw = txn.get(uid, db=dbs["users"])
        if raw is not None:
            return json.loads(raw)
    # Folding in Python may differ from libunistring's for rare
    # characters: compare by scanning, as docs/storage.md suggests.
    want = fold(name)
    for _, raw in txn.cursor(db=dbs["users"]):
        user = json.loads(raw)
        if fold(user.get("userName", "")) == want:
            return user
    return None


def with_groups(txn, dbs, user):
    """user with "groups" from memberof, before "meta" (as scimctl)."""
    groups = []
    with txn.cursor(db=dbs["memberof"]) as c:
        if c.set_key(user["id"].encode()):
            for gid in c.iternext_dup():
                raw = txn.get(gid, db=dbs["groups"])
                name = json.loads(raw).get("displayName", "") if raw else ""
                groups.append({"value": gid.decode(), "display": name,
                               "type": "direct"})
    out = {k: v for k, v in user.items() if k != "meta"}
    out["groups"] = groups
    if "meta" in user:
        out["meta"] = user["meta"]
    return out


def main(argv):
    db = os.environ.get("SCIMD_DB", "/var/lib/scimd/example.org")
    if len(argv) == 3 and argv[0] == "--db":
        db, argv = argv[1], argv[2:]
    if len(argv) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        env = lmdb.open(db, readonly=True, max_dbs=16, create=False)
        dbs = {name: env.open_db(name.encode(), create=False,
                                 dupsort=name in ("idx_email", "memberof"))
               for name in ("users", "groups", "idx_username", "idx_email",
                            "memberof")}
        with env.begin() as txn:
            user = find_user(txn, dbs, argv[0])
            if user is None:
                print("no such user", file=sys.stderr)
                return 3
            print(json.dumps(with_groups(txn, dbs, user),
                             separators=(",", ":"), ensure_ascii=False))
        env.close()
    except lmdb.Error as e:
        print(f"scim-user.py: {db}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
