#!/usr/bin/env python
"""Fix "Can't locate revision identified by '...'" before running `alembic upgrade head`.

user_service and budget_service share the crm_ditual database, and therefore the
alembic_version table: after one service upgrades, the other one finds a revision id it
does not know and refuses to start. Run this before upgrading a service: it keeps that
service's rows, moves the other rows to a stash file, and puts them back with --restore.

    python fix_cross_contamination.py budget_service   # before: cd services/budget_service && alembic upgrade head
    python fix_cross_contamination.py --restore        # after

(third version of this script: fix_alembic_version.py and fix_budget_heads.py came before it)
"""
import json
import os
import re
import sys

import psycopg2

DATABASE_URL = os.getenv("DATABASE_URL", "postgresql://crm_user:crm_password@localhost:5432/crm_ditual")
HERE = os.path.dirname(os.path.abspath(__file__))
STASH = os.path.join(HERE, ".alembic_version_stash.json")
SERVICES = ("user_service", "budget_service")

# Left by the January 2025 incident runbook; budget_service's healthcheck looks for it. Do not delete.
KEEP = {"fix_2025_contamination"}

REVISION_RE = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def revisions_of(service):
    versions = os.path.join(HERE, "services", service, "alembic", "versions")
    ids = set()
    for name in os.listdir(versions):
        if name.endswith(".py"):
            with open(os.path.join(versions, name), encoding="utf-8") as f:
                ids.update(REVISION_RE.findall(f.read()))
    return ids


def stash(service):
    mine = revisions_of(service)
    with psycopg2.connect(DATABASE_URL) as conn, conn.cursor() as cur:
        cur.execute("SELECT version_num FROM alembic_version")
        rows = [r[0] for r in cur.fetchall()]
        others = [v for v in rows if v not in mine and v not in KEEP]
        for v in others:
            cur.execute("DELETE FROM alembic_version WHERE version_num = %s", (v,))
    with open(STASH, "w", encoding="utf-8") as f:
        json.dump(others, f)
    print(f"{service}: kept {sorted(set(rows) - set(others))}, stashed {others}")


def restore():
    if not os.path.exists(STASH):
        print("nothing to restore")
        return
    with open(STASH, encoding="utf-8") as f:
        rows = json.load(f)
    with psycopg2.connect(DATABASE_URL) as conn, conn.cursor() as cur:
        for v in rows:
            cur.execute(
                "INSERT INTO alembic_version (version_num) VALUES (%s) ON CONFLICT DO NOTHING", (v,)
            )
    os.remove(STASH)
    print(f"restored {rows}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--restore"]:
        restore()
    elif len(sys.argv) == 2 and sys.argv[1] in SERVICES:
        stash(sys.argv[1])
    else:
        sys.exit(__doc__)
