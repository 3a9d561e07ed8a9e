// A problem+json answer shown to the user: its title, detail and status, and
// (for a 422) the per-field messages that no form field displays itself.
export function Problem({ error, shownFields = [] }) {
  if (!error) return null
  const problem = error.problem ?? { title: String(error.message ?? error) }
  const others = (Array.isArray(problem.errors) ? problem.errors : [])
    .filter((entry) => !shownFields.includes(entry?.field))
  return (
    <div className="problem" role="alert" data-status={problem.status || undefined}>
      <strong className="problem-title">{problem.title || 'Something went wrong'}</strong>
      {problem.status ? <span className="problem-status"> ({problem.status})</span> : null}
      {problem.detail ? <p className="problem-detail">{problem.detail}</p> : null}
      {others.length > 0 && (
        <ul className="problem-errors">
          {others.map((entry, i) => (
            <li key={i}>
              {entry?.field ? <code>{entry.field}</code> : null} {entry?.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
