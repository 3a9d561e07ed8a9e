import { NoteEditor } from './NoteEditor.jsx'
import { NoteList } from './NoteList.jsx'
import { Link, useLocation } from './router.js'

// The routes: / and /notes (the list), /notes/new, /notes/{id}; anything
// else is the app's own "not found" (Trellis served index.html for it).
function route(path) {
  if (path === '/' || path === '/notes' || path === '/notes/') return { page: 'list' }
  if (path === '/notes/new') return { page: 'new' }
  const m = /^\/notes\/([1-9][0-9]{0,17})$/.exec(path)
  if (m) return { page: 'note', id: Number(m[1]) }
  return { page: 'missing' }
}

export function App() {
  const { path, state } = useLocation()
  const flash = state?.flash ?? null
  const r = route(path)
  let page
  if (r.page === 'list') page = <NoteList flash={flash} />
  else if (r.page === 'new') page = <NoteEditor key="new" id={null} />
  else if (r.page === 'note') page = <NoteEditor key={`note-${r.id}`} id={r.id} flash={flash} />
  else
    page = (
      <section>
        <h1>Not found</h1>
        <p>
          Nothing lives at <code>{path}</code>. <Link to="/">All notes</Link>
        </p>
      </section>
    )
  return (
    <>
      <header className="top">
        <Link className="brand" to="/">Notes</Link>
        <nav aria-label="main">
          <Link to="/">All notes</Link>
          <Link to="/notes/new">New note</Link>
        </nav>
      </header>
      <main>{page}</main>
      <footer className="muted">Served by Trellis: the notes plugin at /api/notes, this app at /.</footer>
    </>
  )
}
