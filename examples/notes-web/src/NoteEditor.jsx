import { useEffect, useState } from 'react'
import { createNote, deleteNote, getNote, updateNote } from './api.js'
import { Problem } from './Problem.jsx'
import { Link, navigate } from './router.js'

const FIELDS = ['title', 'body', 'tag', 'pinned']
const EMPTY = { title: '', body: '', tag: '', pinned: false }

function formFrom(note) {
  return { title: note.title ?? '', body: note.body ?? '', tag: note.tag ?? '', pinned: Boolean(note.pinned) }
}

// What the form sends: empty optional text is null, the title as typed (the
// server checks it: required, at most 200 characters).
function payloadFrom(form) {
  return { title: form.title, body: form.body === '' ? null : form.body, tag: form.tag === '' ? null : form.tag, pinned: form.pinned }
}

function FieldError({ id, messages }) {
  if (!messages?.length) return null
  return (
    <p className="field-error" id={id}>
      {messages.join('; ')}
    </p>
  )
}

// /notes/new (id null): POST, then on to the new note's own URL.
// /notes/{id}: GET, PATCH on save, DELETE after a confirmation.
export function NoteEditor({ id, flash: initialFlash }) {
  const isNew = id === null
  const [form, setForm] = useState(EMPTY)
  const [loaded, setLoaded] = useState(isNew)
  const [note, setNote] = useState(null)
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  const [flash, setFlash] = useState(initialFlash ?? null)
  const [confirming, setConfirming] = useState(false)

  useEffect(() => {
    if (isNew) return undefined
    let live = true
    getNote(id)
      .then((row) => {
        if (!live) return
        setNote(row)
        setForm(formFrom(row))
        setLoaded(true)
      })
      .catch((e) => live && setError(e))
    return () => {
      live = false
    }
  }, [id, isNew])

  useEffect(() => {
    document.title = isNew ? 'New note · Notes' : note ? `${note.title} · Notes` : 'Note · Notes'
  }, [isNew, note])

  const fieldErrors = error?.fieldErrors?.() ?? {}
  const set = (field) => (event) => {
    const value = event.target.type === 'checkbox' ? event.target.checked : event.target.value
    setForm((f) => ({ ...f, [field]: value }))
  }

  async function save(event) {
    event.preventDefault()
    setBusy(true)
    setError(null)
    setFlash(null)
    try {
      if (isNew) {
        const row = await createNote({ ...payloadFrom(form), created: new Date().toISOString() })
        navigate(`/notes/${row.id}`, { state: { flash: 'Note created.' } })
        return
      }
      const row = await updateNote(id, payloadFrom(form))
      setNote(row)
      setForm(formFrom(row))
      setFlash('Saved.')
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }

  async function remove() {
    setBusy(true)
    setError(null)
    try {
      await deleteNote(id)
      navigate('/', { state: { flash: `Deleted “${note?.title ?? `note ${id}`}”.` } })
    } catch (e) {
      setError(e)
      setConfirming(false)
      setBusy(false)
    }
  }

  if (!loaded) {
    return (
      <section>
        <p><Link to="/">← All notes</Link></p>
        {error ? <Problem error={error} /> : <p className="muted">Loading…</p>}
      </section>
    )
  }

  const invalid = (field) => (fieldErrors[field] ? { 'aria-invalid': true, 'aria-describedby': `${field}-error` } : {})
  return (
    <section aria-labelledby="editor-heading">
      <p><Link to="/">← All notes</Link></p>
      <h1 id="editor-heading">{isNew ? 'New note' : `Note ${id}`}</h1>
      {flash && <p className="flash" role="status">{flash}</p>}
      <Problem error={error} shownFields={FIELDS} />
      <form onSubmit={save} noValidate>
        <label htmlFor="title">Title</label>
        <input id="title" name="title" value={form.title} onChange={set('title')} autoFocus={isNew} {...invalid('title')} />
        <FieldError id="title-error" messages={fieldErrors.title} />

        <label htmlFor="body">Body</label>
        <textarea id="body" name="body" rows={6} value={form.body} onChange={set('body')} {...invalid('body')} />
        <FieldError id="body-error" messages={fieldErrors.body} />

        <label htmlFor="tag">Tag</label>
        <input id="tag" name="tag" value={form.tag} onChange={set('tag')} {...invalid('tag')} />
        <FieldError id="tag-error" messages={fieldErrors.tag} />

        <label className="check">
          <input type="checkbox" name="pinned" checked={form.pinned} onChange={set('pinned')} /> Pinned
        </label>
        <FieldError id="pinned-error" messages={fieldErrors.pinned} />

        <div className="actions">
          <button type="submit" disabled={busy}>{isNew ? 'Create note' : 'Save'}</button>
          {!isNew && !confirming && (
            <button type="button" className="danger" disabled={busy} onClick={() => setConfirming(true)}>Delete</button>
          )}
          {!isNew && confirming && (
            <span className="confirm" role="group" aria-label="confirm deletion">
              Delete this note?{' '}
              <button type="button" className="danger" disabled={busy} onClick={remove}>Yes, delete</button>{' '}
              <button type="button" disabled={busy} onClick={() => setConfirming(false)}>Cancel</button>
            </span>
          )}
        </div>
      </form>
      {note?.created && <p className="muted">Created {new Date(note.created).toLocaleString()}</p>}
    </section>
  )
}
