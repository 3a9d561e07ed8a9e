// Client-side routes on the History API: no router package.
//
// useLocation() re-renders on navigate() and on the browser's back/forward
// (popstate). navigate() pushes a real URL (/notes/42), so a reload or a
// link opened in a new tab asks the server for that path: Trellis answers it
// with index.html (the plugin's `spa: true`) and the app renders the route.
import { createElement, useSyncExternalStore } from 'react'

const listeners = new Set()

function subscribe(listener) {
  listeners.add(listener)
  window.addEventListener('popstate', listener)
  return () => {
    listeners.delete(listener)
    window.removeEventListener('popstate', listener)
  }
}

function snapshot() {
  return window.location.pathname + window.location.search
}

export function useLocation() {
  const href = useSyncExternalStore(subscribe, snapshot)
  const url = new URL(href, window.location.origin)
  return { path: url.pathname, query: url.searchParams, state: window.history.state }
}

// state: carried in history.state (a message for the next page, say).
export function navigate(to, { replace = false, state = null } = {}) {
  window.history[replace ? 'replaceState' : 'pushState'](state, '', to)
  for (const listener of [...listeners]) listener()
  window.scrollTo(0, 0)
}

// An <a> that navigates without a page load for a plain left click, and
// behaves as a normal link otherwise (new tab, copy link, middle click).
export function Link({ to, onClick, ...rest }) {
  return createElement('a', {
    ...rest,
    href: to,
    onClick(event) {
      onClick?.(event)
      if (event.defaultPrevented || event.button !== 0 || rest.target) return
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
      event.preventDefault()
      navigate(to)
    },
  })
}
