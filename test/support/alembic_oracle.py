"""Loads Alembic histories with Alembic itself: the oracle of test/unit/alembic-oracle.test.ts.

Reads a JSON list of versions directories on stdin; prints, for each, {"ok": true} when Alembic's
RevisionMap loads it, else {"ok": false, "error": "<ExceptionType>: <message>"}. Warnings
(e.g. "Revision X is present more than once") are collected, not raised.
"""
import json
import sys
import warnings

from alembic.script import ScriptDirectory


def load(versions):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            script = ScriptDirectory(versions, version_locations=[versions])
            script.revision_map.heads  # builds the whole map: every check Alembic makes on loading
            result = {"ok": True}
        except BaseException as err:  # noqa: BLE001 - KeyError, RevisionError, CommandError, SyntaxError, ...
            result = {"ok": False, "error": "%s: %s" % (type(err).__name__, err)}
    result["warnings"] = [str(w.message) for w in caught]
    return result


print(json.dumps([load(d) for d in json.load(sys.stdin)]))
