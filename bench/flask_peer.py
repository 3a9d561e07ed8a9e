"""The Flask peer: what a Flask developer would write for the two answers
trellis gives in bench/run.sh and bench/run-data.sh, served the way Flask is
deployed (gunicorn; bench/run-flask.sh starts it).

  GET /hello/<name>      200 {"message": "Hello, <name>!"}
  GET /api/notes/<id>    200 the note as a JSON object (table `notes_note` of
                         plugins/notes/notes.plugin.yaml), 404 problem JSON
                         when there is none

NOTES_DB names the SQLite file trellis created. Each thread of each worker
opens its own connection (sqlite3 connections stay on their thread) with the
pragmas trellis' host uses, and the query goes through the module's statement
cache. Nothing else is tuned.
"""
import os
import sqlite3
import threading

from flask import Flask, jsonify

app = Flask(__name__)
_local = threading.local()


def _db():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["NOTES_DB"])
        conn.execute("PRAGMA busy_timeout=5000")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise RuntimeError(f"cannot switch {os.environ['NOTES_DB']} to WAL (journal_mode {mode})")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        _local.conn = conn
    return conn


@app.get("/hello/<name>")
def hello(name):
    return jsonify(message=f"Hello, {name}!")


@app.get("/api/notes/<int:note_id>")
def note(note_id):
    row = _db().execute(
        "SELECT id, title, body, tag, pinned, created FROM notes_note WHERE id = ?", (note_id,)
    ).fetchone()
    if row is None:
        return jsonify(status=404, title="Not Found"), 404
    note_id, title, body, tag, pinned, created = row
    return jsonify(id=note_id, title=title, body=body, tag=tag,
                   pinned=None if pinned is None else bool(pinned), created=created)
