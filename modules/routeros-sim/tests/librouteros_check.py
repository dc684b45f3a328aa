"""Drives the lpsaring RouterOS simulator with PyPI `librouteros`, an independent client, to
prove the simulator speaks RouterOS and not just our own dialect.

Usage: librouteros_check.py HOST PORT USER PASSWORD   (exit status 0 = every check passed)
"""

import sys

from librouteros import connect
from librouteros.exceptions import TrapError
from librouteros.query import Key, Or


def main() -> int:
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

    # Wrong password: the router answers with a trap carrying the documented text.
    try:
        connect(host=host, port=port, username=user, password=password + "-wrong")
    except TrapError as error:
        assert "invalid user name or password" in str(error), error
    else:
        raise AssertionError("login with a wrong password succeeded")

    api = connect(host=host, port=port, username=user, password=password)
    bindings = api.path("ip", "hotspot", "ip-binding")

    ids = []
    for mac, kind in (("AA:BB:CC:00:00:01", "bypassed"), ("AA:BB:CC:00:00:02", "blocked"), ("AA:BB:CC:00:00:03", "regular")):
        new_id = bindings.add(**{"mac-address": mac, "type": kind, "comment": "lpsaring|uid=1"})
        assert new_id.startswith("*"), new_id
        ids.append(new_id)
    assert len(set(ids)) == 3, ids

    rows = list(bindings)
    assert [r[".id"] for r in rows] == ids, rows
    assert rows[0]["mac-address"] == "AA:BB:CC:00:00:01", rows[0]
    assert rows[0]["disabled"] is False, rows[0]  # librouteros parses API booleans

    # A query with ?# (OR of two equality tests) and a .proplist.
    type_key, id_key = Key("type"), Key(".id")
    picked = list(bindings.select(id_key, type_key).where(Or(type_key == "bypassed", type_key == "blocked")))
    assert sorted(r["type"] for r in picked) == ["blocked", "bypassed"], picked
    assert all(set(r) == {".id", "type"} for r in picked), picked

    # Duplicate MAC traps; the connection stays usable.
    try:
        bindings.add(**{"mac-address": "AA:BB:CC:00:00:01"})
    except TrapError as error:
        assert "already have" in str(error), error
    else:
        raise AssertionError("duplicate binding was accepted")

    bindings.update(**{".id": ids[2], "type": "bypassed"})
    assert [r["type"] for r in bindings if r[".id"] == ids[2]] == ["bypassed"]

    bindings.remove(ids[0])
    assert [r[".id"] for r in bindings] == ids[1:]

    api.close()
    print("librouteros: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
