#!/usr/bin/env python3
"""The reference for credential creates: single-row durable inserts into SQLite, one transaction
per row, WAL with synchronous=FULL (as the server runs), a ~2 KB blob per row like a sealed
RSA key. Prints inserts per second.

usage: sqlite_insert.py DB_PATH SECONDS
"""
import os
import sqlite3
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, secret BLOB NOT NULL)")
blob = os.urandom(1300)
n = 0
start = time.perf_counter()
deadline = start + seconds
while time.perf_counter() < deadline:
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t (name, secret) VALUES (?, ?)", (f"row {n}", blob))
    db.execute("COMMIT")
    n += 1
elapsed = time.perf_counter() - start
print(f"RESULT inserts={n} duration_s={elapsed:.2f} rps={n / elapsed:.1f} sqlite={sqlite3.sqlite_version}")
