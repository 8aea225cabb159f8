// A real-browser test of the server's documentation pages, used as a new user would use them:
// in Swagger UI (/docs), check that "Try it out" pre-fills the login form and the
// registration body with the document's examples, register a user with "Try it out", log in
// with Authorize (the OAuth2 password form), list posts as that user; then check that ReDoc
// (/redoc) lists the operations. Every request either page makes is recorded, and any to a host other than this
// machine fails the test: both pages must work offline.
//
// BASE_URL (required): the running server, e.g. http://127.0.0.1:8000.
// ARTIFACTS_DIR (default target/e2e-artifacts): screenshots, one per step.
// E2E_WAIT_MS (default 15000): the bound on each wait.
// CHROMIUM (default /usr/bin/chromium): Debian's Chromium; no browser is ever downloaded.
//
// Plain node (no test framework): prints one line per check, then "N passed, N failed";
// exits non-zero on any failure. The browser is closed however this ends.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '');
if (!BASE_URL) {
  console.error('FATAL: set BASE_URL to the running server, e.g. BASE_URL=http://127.0.0.1:8000');
  process.exit(2);
}
const ARTIFACTS_DIR = resolve(process.env.ARTIFACTS_DIR || 'target/e2e-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Every single wait (E2E_WAIT_MS, default 15 s); the browser's start and the whole run are
// bounded too, at multiples of it.
const WAIT_MS = Number(process.env.E2E_WAIT_MS) || 15_000;
const LAUNCH_MS = WAIT_MS * 4;
const WHOLE_RUN_MS = WAIT_MS * 16;

mkdirSync(ARTIFACTS_DIR, { recursive: true });

// --- bookkeeping -------------------------------------------------------------------------

let passed = 0;
let failed = 0;
let shot = 0;

class CheckFailed extends Error {}

function ok(name) {
  passed += 1;
  console.log(`ok - ${name}`);
}

function fail(name, why) {
  failed += 1;
  console.log(`not ok - ${name}\n  ${String(why).replace(/\n/g, '\n  ')}`);
}

function check(cond, name, why) {
  if (cond) ok(name);
  else {
    fail(name, why);
    throw new CheckFailed(name);
  }
}

/** Waits for a locator, failing with a message that says what was awaited. */
async function waitFor(locator, what, state = 'visible') {
  try {
    await locator.first().waitFor({ state, timeout: WAIT_MS });
  } catch (e) {
    throw new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}: ${e.message.split('\n')[0]}`);
  }
}

async function screenshot(page, name) {
  shot += 1;
  const path = join(ARTIFACTS_DIR, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true, timeout: WAIT_MS });
  console.log(`# screenshot ${path}`);
}

// --- requests: every one the pages make, and none off this machine -----------------------

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const requests = [];
/** Content-Security-Policy violations the browser reported, and the pages served without one. */
const cspViolations = [];
const pagesWithoutCsp = [];

function isLocal(url) {
  const u = new URL(url);
  if (['data:', 'blob:', 'about:', 'chrome-error:'].includes(u.protocol)) return true;
  return LOCAL_HOSTS.has(u.hostname) || /^127\.\d+\.\d+\.\d+$/.test(u.hostname);
}

function recordRequests(page) {
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url(), headers: r.headers() }));
  page.on('requestfailed', (r) => {
    if (isLocal(r.url())) console.log(`# request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) console.log(`# ${r.status()} for ${r.request().method()} ${r.url()}`);
    if (r.request().resourceType() === 'document' && r.status() < 300 && !r.headers()['content-security-policy']) {
      pagesWithoutCsp.push(r.url());
    }
  });
  page.on('pageerror', (e) => console.log(`# page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`# console error on ${page.url()}: ${m.text()}`);
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(`${page.url()}: ${m.text()}`);
  });
}

/** The page ran under the server's Content-Security-Policy, and broke none of it. */
function checkCsp(label, violationsFrom, pagesFrom) {
  const violations = cspViolations.slice(violationsFrom);
  const bare = pagesWithoutCsp.slice(pagesFrom);
  const name = `${label}: served with a Content-Security-Policy, and no violation of it`;
  if (violations.length === 0 && bare.length === 0) ok(name);
  else fail(name, [...bare.map((u) => `no policy: ${u}`), ...violations].join('\n'));
}

/** Records the result without throwing, so that later phases still run. */
function checkAllLocal(label, from) {
  const off = requests.slice(from).filter((r) => !isLocal(r.url));
  const name = `${label}: every request went to this machine (${requests.length - from} requests)`;
  if (off.length === 0) ok(name);
  else fail(name, `requests to other hosts:\n${off.map((r) => `${r.method} ${r.url}`).join('\n')}`);
}

// --- Swagger UI ----------------------------------------------------------------------------

/** The block of one operation, by Swagger UI's id `operations-<tag>-<operationId>`. */
function operation(page, tag, operationId) {
  return page.locator(`#operations-${tag}-${operationId}`);
}

async function expand(op, what) {
  await waitFor(op.locator('.opblock-summary'), `the ${what} operation`);
  if (!(await op.evaluate((el) => el.classList.contains('is-open')))) {
    await op.locator('.opblock-summary').first().click();
  }
  await waitFor(op.locator('.opblock-body'), `the ${what} operation to open`);
}

async function tryItOutAndExecute(op, what) {
  const tryOut = op.locator('.try-out__btn');
  await waitFor(tryOut, `the "Try it out" button of ${what}`);
  await tryOut.first().click();
  await waitFor(op.locator('.btn.execute'), `the "Execute" button of ${what}`);
}

/** After Execute: the live response's status code and body text, as the page shows them. */
async function liveResponse(op, what) {
  const live = op.locator('.responses-wrapper .live-responses-table');
  await waitFor(live.locator('.response-col_status'), `the live response of ${what}`);
  // The table's first row is its header ("Code", "Details"): read the response's own row.
  const row = live.locator('tbody tr.response');
  await waitFor(row.locator('.response-col_status'), `the live response row of ${what}`);
  const status = (await row.locator('.response-col_status').first().innerText()).trim();
  // The body is the first code block of the row (the headers come after it); the block's
  // "Download" button is not part of it.
  const bodyBlock = row.locator('.response-col_description .highlight-code pre');
  await waitFor(bodyBlock, `the response body of ${what}`);
  const body = (await bodyBlock.first().innerText()).trim();
  return { status, body };
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    fail(`${what}: the response body shown is JSON`, `shown: ${text.slice(0, 500)}`);
    throw new CheckFailed(what);
  }
}

// The example user of the OpenAPI document (UserCreate's, and the login form's fields).
const EXAMPLE_USER = { email: 'ann@example.com', password: 'correct horse' };

async function swagger(page) {
  const email = `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const password = 'browser-test-password';

  await page.goto(`${BASE_URL}/docs`, { waitUntil: 'load', timeout: WAIT_MS });
  check(/\/docs\/?$/.test(new URL(page.url()).pathname), '/docs opens Swagger UI', `landed on ${page.url()}`);
  await waitFor(page.locator('.swagger-ui .opblock'), 'Swagger UI to render the operations');
  const title = (await page.locator('.swagger-ui .info .title').first().innerText()).trim();
  check(/Posts API/.test(title), 'Swagger UI shows the API title', `title shown: ${title}`);
  const blocks = await page.locator('.swagger-ui .opblock').count();
  check(blocks >= 10, `Swagger UI lists the operations (${blocks})`, `only ${blocks} operation blocks`);
  await screenshot(page, 'swagger-loaded');

  // "Try it out" pre-fills the login form field by field from each field's schema: with no
  // example there, Swagger UI would generate text from the field's pattern.
  const login = operation(page, 'Authentication', 'login');
  await expand(login, 'POST /login');
  await tryItOutAndExecute(login, 'POST /login');
  const formField = (name) => login.locator(`tr[data-property-name="${name}"] input`);
  await waitFor(formField('username'), 'the username field of the POST /login form');
  const shownUsername = await formField('username').first().inputValue();
  const shownPassword = await formField('password').first().inputValue();
  await login.scrollIntoViewIfNeeded();
  await screenshot(page, 'swagger-login-form');
  check(
    shownUsername === EXAMPLE_USER.email && shownPassword === EXAMPLE_USER.password,
    `the POST /login form is pre-filled with the example credentials (${EXAMPLE_USER.email})`,
    `username shown: ${JSON.stringify(shownUsername)}; password shown: ${JSON.stringify(shownPassword)}`,
  );

  // Register: POST /users/ with a fresh email and password, typed into the example body.
  const createUser = operation(page, 'Users', 'create_user');
  await expand(createUser, 'POST /users/');
  await tryItOutAndExecute(createUser, 'POST /users/');
  const bodyInput = createUser.locator('textarea.body-param__text');
  await waitFor(bodyInput, 'the editable request body of POST /users/');
  // The JSON body starts as the schema's example.
  const exampleBody = await bodyInput.first().inputValue();
  let example = null;
  try {
    example = JSON.parse(exampleBody);
  } catch {}
  check(
    example?.email === EXAMPLE_USER.email && example?.password === EXAMPLE_USER.password,
    'the POST /users/ body is pre-filled with the example user',
    `body shown: ${exampleBody}`,
  );
  await bodyInput.first().fill(JSON.stringify({ email, password }, null, 2));
  await createUser.locator('.btn.execute').first().click();
  const created = await liveResponse(createUser, 'POST /users/');
  await createUser.scrollIntoViewIfNeeded();
  await screenshot(page, 'swagger-user-created');
  check(created.status === '201', 'POST /users/ answers 201 in the page', `status shown: ${created.status}; body: ${created.body}`);
  const user = parseJson(created.body, 'POST /users/');
  check(user.email === email, 'the created user\'s email is shown in the response body', `body shown: ${created.body}`);

  // Authorize: the OAuth2 password form, with the email as username.
  await page.locator('.auth-wrapper .btn.authorize').first().click();
  const modal = page.locator('.dialog-ux .modal-ux');
  await waitFor(modal, 'the Authorize dialog');
  await waitFor(modal.locator('#oauth_username'), 'the username field of the Authorize dialog');
  await modal.locator('#oauth_username').fill(email);
  await modal.locator('#oauth_password').fill(password);
  await screenshot(page, 'swagger-authorize-form');
  await modal.locator('.auth-btn-wrapper .btn.modal-btn.authorize').first().click();
  try {
    await waitFor(modal.locator('h6', { hasText: /^Authorized$/ }), 'the dialog to say "Authorized"');
  } catch (e) {
    const errors = await modal.locator('.errors').allInnerTexts().catch(() => []);
    await screenshot(page, 'swagger-authorize-failed');
    fail('the Authorize dialog logs in', `${e.message}\n  errors shown: ${errors.join(' | ') || '(none)'}`);
    throw new CheckFailed('authorize');
  }
  await screenshot(page, 'swagger-authorized');
  // Once authorized, the username field becomes a <code> beside its label.
  const shownUser = (await modal.locator('label[for="oauth_username"] + code').first().innerText().catch(() => '')).trim();
  check(shownUser === email, 'the Authorize dialog shows the logged-in username', `shown: ${shownUser}`);
  await modal.locator('.auth-btn-wrapper .btn-done').first().click();
  await waitFor(modal, 'the Authorize dialog to close', 'hidden');
  const locked = await page.locator('.auth-wrapper .btn.authorize').first().getAttribute('class');
  check(/\blocked\b/.test(locked || ''), 'the Authorize button shows the locked (authorized) state', `class: ${locked}`);

  // List posts as that user: GET /posts/.
  const listPosts = operation(page, 'Posts', 'list_posts');
  await expand(listPosts, 'GET /posts/');
  await tryItOutAndExecute(listPosts, 'GET /posts/');
  const from = requests.length;
  await listPosts.locator('.btn.execute').first().click();
  const listed = await liveResponse(listPosts, 'GET /posts/');
  await listPosts.scrollIntoViewIfNeeded();
  await screenshot(page, 'swagger-posts-listed');
  check(listed.status === '200', 'GET /posts/ answers 200 in the page', `status shown: ${listed.status}; body: ${listed.body}`);
  const posts = parseJson(listed.body, 'GET /posts/');
  check(Array.isArray(posts), `GET /posts/ shows a JSON list (${posts.length} posts)`, `body shown: ${listed.body}`);
  const sent = requests.slice(from).find((r) => r.method === 'GET' && new URL(r.url).pathname === '/posts/');
  check(
    sent && /^Bearer \S+$/.test(sent.headers.authorization || ''),
    'GET /posts/ was sent with the bearer token from Authorize',
    sent ? `Authorization header: ${sent.headers.authorization}` : 'no GET /posts/ request was seen',
  );

  // persistAuthorization: the token survives a reload of the page.
  await page.reload({ waitUntil: 'load', timeout: WAIT_MS });
  await waitFor(page.locator('.auth-wrapper .btn.authorize'), 'the Authorize button after a reload');
  const kept = await page.locator('.auth-wrapper .btn.authorize').first().getAttribute('class');
  check(/\blocked\b/.test(kept || ''), 'the authorization survives a reload of the page (persistAuthorization)', `class: ${kept}`);
}

// --- ReDoc ------------------------------------------------------------------------------

async function redoc(page, document) {
  await page.goto(`${BASE_URL}/redoc`, { waitUntil: 'load', timeout: WAIT_MS });
  await waitFor(page.locator('.redoc-wrap'), 'ReDoc to render');
  await waitFor(page.locator('.menu-content [role="menuitem"], .menu-content label').filter({ hasText: /\S/ }), 'ReDoc\'s menu');
  await waitFor(page.locator('[data-section-id*="operation/"]'), 'ReDoc\'s operations', 'attached');
  await screenshot(page, 'redoc-loaded');
  const title = (await page.locator('.api-info h1').first().innerText().catch(() => '')).trim();
  check(/Posts API/.test(title), 'ReDoc shows the API title', `title shown: ${title || '(none)'}`);

  // textContent, not innerText: the menu's tag groups are collapsed, their entries hidden.
  const menu = await page.locator('.menu-content').first().textContent();
  const text = await page.locator('.redoc-wrap').first().textContent();
  const missing = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!op || typeof op !== 'object' || !op.operationId) continue;
      const name = op.summary || op.operationId;
      if (!menu.includes(name)) missing.push(`menu entry "${name}" (${method.toUpperCase()} ${path})`);
      if (!(await page.locator(`[data-section-id$="operation/${op.operationId}"]`).count())) {
        missing.push(`section of ${op.operationId}`);
      }
    }
  }
  for (const path of ['/posts/', '/login', '/users/', '/vote/']) {
    if (!text.includes(path)) missing.push(`path ${path}`);
  }
  const count = await page.locator('[data-section-id*="operation/"]').count();
  check(missing.length === 0, `ReDoc lists every operation (${count} sections) and the paths /posts/, /login, /users/, /vote/`, `missing: ${missing.join(', ')}`);
}

// --- the run ------------------------------------------------------------------------------

let browser; // the persistent context
const userDataDir = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
const watchdog = setTimeout(() => {
  console.log(`not ok - the whole run finished within ${WHOLE_RUN_MS / 1000} s`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  // playwright-core kills the browsers it launched when this process exits.
  process.exit(1);
}, WHOLE_RUN_MS);

try {
  // The OpenAPI document, read once to know what ReDoc must list (not a step of the UI).
  const res = await fetch(`${BASE_URL}/openapi.json`, { signal: AbortSignal.timeout(WAIT_MS) });
  const document = await res.json();

  // Debian's Chromium, with its background networking off (this machine has no outside network)
  // and a fresh, empty profile. --no-zygote: on a busy 2-core machine the zygote's children
  // missed its ping deadline ("Did not receive ping from zygote child") and no page rendered;
  // without a zygote each process is started directly (allowed as the sandbox is off).
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: LAUNCH_MS,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--no-zygote',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  browser = context; // a persistent context: closing it closes the browser
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  recordRequests(page);

  const phases = [
    ['Swagger UI', swagger],
    ['ReDoc', (p) => redoc(p, document)],
  ];
  for (const [label, run] of phases) {
    const from = requests.length;
    const [violationsFrom, pagesFrom] = [cspViolations.length, pagesWithoutCsp.length];
    try {
      await run(page);
    } catch (e) {
      if (!(e instanceof CheckFailed)) fail(`${label} works`, e.stack || e);
      await screenshot(page, `${label.replace(/\W+/g, '-').toLowerCase()}-failure`).catch(() => {});
    }
    // Checked whatever happened above: a page that asked the internet for a script fails so.
    checkAllLocal(label, from);
    checkCsp(label, violationsFrom, pagesFrom);
  }
} catch (e) {
  if (!(e instanceof CheckFailed)) fail('the browser test runs', e.stack || e);
} finally {
  await browser?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  clearTimeout(watchdog);
}

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
