// The notes REST resource (the notes plugin mounted at /api/notes):
//   GET    /api/notes?limit=&offset=&sort=  -> {items, total, limit, offset}
//   POST   /api/notes                       -> 201 the note
//   GET    /api/notes/{id}                  -> the note
//   PATCH  /api/notes/{id}                  -> the note, given fields changed
//   DELETE /api/notes/{id}                  -> 204
// Every failure is RFC 9457 problem+json ({type, title, status, detail,
// instance}); a 422 adds errors: [{field, message}].
export const API_BASE = '/api/notes'

// A failed call: `problem` is the server's problem+json object (or one made
// up here for a network failure or an answer that is not JSON).
export class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`)
    this.name = 'ApiError'
    this.problem = problem
    this.status = problem.status ?? 0
  }

  // {field: [message, ...]} from a 422's errors list.
  fieldErrors() {
    const byField = {}
    for (const entry of Array.isArray(this.problem.errors) ? this.problem.errors : []) {
      const field = String(entry?.field ?? '')
      ;(byField[field] ??= []).push(String(entry?.message ?? 'is invalid'))
    }
    return byField
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let response
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (error) {
    throw new ApiError({ title: 'The server cannot be reached', detail: String(error?.message ?? error), status: 0 })
  }
  if (response.status === 204) return null
  const text = await response.text()
  let data = null
  if (/json/i.test(response.headers.get('Content-Type') ?? '') && text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!response.ok) {
    const problem = data && typeof data === 'object' && !Array.isArray(data)
      ? data
      : { title: response.statusText || 'Request failed', detail: text.slice(0, 300) }
    throw new ApiError({ ...problem, status: problem.status ?? response.status })
  }
  return data
}

export function listNotes({ limit = 20, offset = 0 } = {}) {
  const query = new URLSearchParams({ limit: String(limit), offset: String(offset), sort: '-id' })
  return call('GET', `?${query}`)
}
export const getNote = (id) => call('GET', `/${encodeURIComponent(id)}`)
export const createNote = (fields) => call('POST', '', fields)
export const updateNote = (id, fields) => call('PATCH', `/${encodeURIComponent(id)}`, fields)
export const deleteNote = (id) => call('DELETE', `/${encodeURIComponent(id)}`)
