import { useEffect, useState } from 'react'
import { listNotes } from './api.js'
import { Problem } from './Problem.jsx'
import { Link, useLocation } from './router.js'

const PAGE = 20

function offsetFrom(query) {
  const n = Number.parseInt(query.get('offset') ?? '0', 10)
  return Number.isFinite(n) && n > 0 ? n : 0
}

// GET /api/notes, newest first, a page at a time (?offset= in the URL, so a
// page can be linked and reloaded).
export function NoteList({ flash }) {
  const { query } = useLocation()
  const offset = offsetFrom(query)
  const [page, setPage] = useState(null)
  const [error, setError] = useState(null)

  useEffect(() => {
    let live = true
    setError(null)
    listNotes({ limit: PAGE, offset })
      .then((data) => live && setPage(data))
      .catch((e) => live && setError(e))
    return () => {
      live = false
    }
  }, [offset])

  useEffect(() => {
    document.title = 'Notes'
  }, [])

  return (
    <section aria-labelledby="list-heading">
      <div className="toolbar">
        <h1 id="list-heading">Notes</h1>
        <Link className="button" to="/notes/new">New note</Link>
      </div>
      {flash && <p className="flash" role="status">{flash}</p>}
      <Problem error={error} />
      {!page && !error && <p className="muted">Loading…</p>}
      {page && page.total === 0 && <p className="muted">No notes yet.</p>}
      {page && page.items.length > 0 && (
        <>
          <ul className="notes" aria-label="notes">
            {page.items.map((note) => (
              <li key={note.id}>
                <Link to={`/notes/${note.id}`}>{note.title}</Link>
                {note.pinned && <span className="badge">pinned</span>}
                {note.tag && <span className="tag">#{note.tag}</span>}
                {note.created && <time dateTime={note.created}>{new Date(note.created).toLocaleString()}</time>}
              </li>
            ))}
          </ul>
          <nav className="pager" aria-label="pages">
            <span className="muted">
              {page.offset + 1}–{page.offset + page.items.length} of {page.total}
            </span>
            {offset > 0 && <Link to={offset - PAGE > 0 ? `/?offset=${offset - PAGE}` : '/'}>Newer</Link>}
            {offset + PAGE < page.total && <Link to={`/?offset=${offset + PAGE}`}>Older</Link>}
          </nav>
        </>
      )}
    </section>
  )
}
