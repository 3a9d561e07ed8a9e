// Shared helper of Trellis' browser tests: Debian's chromium
// (/usr/bin/chromium, package chromium) driven by playwright-core, which never
// downloads a browser of its own.
//
//   import { withBrowser } from './browser.mjs'   // from tests/browser/
//
//   await withBrowser({ artifacts: process.argv[3], name: 'dashboard' }, async (session) => {
//     const page = await session.newPage()
//     await page.goto(url)
//     ...
//     await session.screenshot(page, 'dashboard')   // <artifacts>/dashboard.png
//   })
//
// withBrowser() launches chromium headless, runs the body, and then fails
// (throws, so the node process exits 1) when the body threw or when any page
// of the session logged a console error, threw an uncaught exception or had
// a request fail, except those the body declared expected with
// session.expectError(). When the body throws, every open page is saved as
// <artifacts>/<name>-failure-<n>.png first. The browser is always closed.
//
// Environment: TRELLIS_CHROMIUM overrides the browser's path;
// TRELLIS_BROWSER_HEADED=1 shows the window (needs a display).
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'

export const CHROMIUM = process.env.TRELLIS_CHROMIUM || '/usr/bin/chromium'

// --no-sandbox: chromium's sandbox refuses to start as root (CI runs as
// root). The others keep a headless run quiet and offline: no first-run
// pages, no background connections to Google's services (refused on a
// closed network, and logged), no GPU process, no QUIC.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
]

// Launches chromium; most tests want withBrowser() instead.
export async function launch({ headless = process.env.TRELLIS_BROWSER_HEADED !== '1' } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  })
}

// One browser and one context (fresh profile: no cookies or storage shared
// with anything else), the errors its pages reported, and the artifacts
// folder.
export class BrowserSession {
  constructor(browser, context, { artifacts, name, viewport }) {
    this.browser = browser
    this.viewport = viewport
    this.context = context
    this.artifacts = resolve(artifacts)
    this.name = name
    this.errors = []   // {kind: 'console'|'pageerror'|'requestfailed', text, url, page}
    this.expected = [] // {pattern, count, seen}
    mkdirSync(this.artifacts, { recursive: true })
  }

  // A new tab, watched for errors. A "fresh page" for a deep link: its own
  // document, loaded from the server (same context, so same origin storage).
  async newPage() {
    const page = await this.context.newPage()
    this.watch(page)
    return page
  }

  // A page from another context (no shared storage at all), watched too.
  async isolatedPage() {
    const context = await this.browser.newContext({ viewport: this.viewport, locale: 'en-GB', timezoneId: 'UTC' })
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    this.watch(page)
    return page
  }

  watch(page) {
    const where = () => page.url()
    page.on('console', (message) => {
      if (message.type() !== 'error') return
      const location = message.location()
      this.record({ kind: 'console', text: message.text(), url: location?.url || '', page: where() })
    })
    page.on('pageerror', (error) => {
      this.record({ kind: 'pageerror', text: String(error?.stack || error), url: '', page: where() })
    })
    page.on('requestfailed', (request) => {
      const failure = request.failure()?.errorText || 'failed'
      // A request cut short by a navigation or by closing the page is not
      // the application's failure.
      if (failure === 'net::ERR_ABORTED') return
      this.record({ kind: 'requestfailed', text: `${request.method()} ${request.url()}: ${failure}`, url: request.url(), page: where() })
    })
  }

  record(entry) {
    for (const e of this.expected) {
      if (e.pattern.test(`${entry.text} ${entry.url}`) && (e.count === Infinity || e.seen < e.count)) {
        e.seen += 1
        return
      }
    }
    this.errors.push(entry)
    console.error(`browser: ${entry.kind} on ${entry.page}: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`)
  }

  // Declares that up to `count` errors matching `pattern` (a RegExp tested on
  // "<text> <url>") are expected, for example the console line chromium
  // writes for a fetch answered 422:
  //   session.expectError(/status of 422 .*\/api\/notes\/\d+$/)
  expectError(pattern, count = 1) {
    this.expected.push({ pattern, count, seen: 0 })
  }

  // Saves a full-page PNG as <artifacts>/<file>.png and returns its path.
  async screenshot(page, file) {
    const path = join(this.artifacts, `${file}.png`)
    await page.screenshot({ path, fullPage: true })
    console.log(`browser: screenshot ${path}`)
    return path
  }

  // Throws when a page reported an error that was not expected.
  assertNoErrors() {
    if (this.errors.length === 0) return
    const lines = this.errors.map((e) => `  ${e.kind} on ${e.page}: ${e.text}${e.url ? ` (${e.url})` : ''}`)
    throw new Error(`${this.errors.length} unexpected browser error(s):\n${lines.join('\n')}`)
  }
}

export async function withBrowser({ artifacts, name = 'browser', viewport = { width: 1024, height: 768 } }, body) {
  if (!artifacts) throw new Error('withBrowser: `artifacts` (a folder for screenshots) is required')
  const browser = await launch()
  let session
  try {
    const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC' })
    context.setDefaultTimeout(10_000)
    session = new BrowserSession(browser, context, { artifacts, name, viewport })
    try {
      await body(session)
    } catch (error) {
      let n = 0
      for (const ctx of browser.contexts()) {
        for (const page of ctx.pages()) {
          n += 1
          await page
            .screenshot({ path: join(session.artifacts, `${name}-failure-${n}.png`), fullPage: true })
            .then(() => console.error(`browser: failure screenshot ${join(session.artifacts, `${name}-failure-${n}.png`)}`))
            .catch(() => {})
        }
      }
      if (session.errors.length) {
        console.error(`browser: also ${session.errors.length} unexpected error(s) before the failure`)
      }
      throw error
    }
    session.assertNoErrors()
    return session
  } finally {
    await browser.close().catch(() => {})
  }
}

// A step with its name and duration printed, so that a failure says where.
export async function step(title, fn) {
  const started = Date.now()
  try {
    const value = await fn()
    console.log(`ok   ${title} (${Date.now() - started} ms)`)
    return value
  } catch (error) {
    console.error(`FAIL ${title}: ${error?.message ?? error}`)
    throw error
  }
}
