// SPDX-License-Identifier: GPL-2.0-only
// Real-browser test of viz/viewer.html: headless Debian chromium driven by playwright-core.
//
//   node viewer_test.mjs PASS_HTML FAIL_HTML SCREENSHOT_DIR
//
// PASS_HTML / FAIL_HTML: viewer pages with a passing / failing trace embedded (diosim run --html).
// playwright-core is resolved from $DIOSIM_BROWSER_DEPS/node_modules (run.sh installs it there).
// Every expectation is computed here from the embedded trace JSON, independently of the viewer's
// own code, and compared with what the page shows. Exits 1 with a message on the first failure.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [passHtml, failHtml, outDir] = process.argv.slice(2);
if (!passHtml || !failHtml || !outDir) {
  console.error('usage: node viewer_test.mjs PASS_HTML FAIL_HTML SCREENSHOT_DIR');
  process.exit(2);
}
const depsDir = process.env.DIOSIM_BROWSER_DEPS || path.resolve('browser-deps');
const require = createRequire(path.join(depsDir, 'node_modules', 'resolve-from-here.js'));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error(`viewer test: playwright-core not found under ${depsDir}/node_modules (run tests/browser/install.sh)`);
  process.exit(1);
}
fs.mkdirSync(outDir, { recursive: true });

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let passed = 0;
const screenshots = [];

class AssertionFailure extends Error {}
function check(cond, what, detail) {
  if (!cond) throw new AssertionFailure(`${what}${detail ? ` (${detail})` : ''}`);
  passed++;
  console.log(`  ok  ${what}`);
}
function checkEq(actual, expected, what) {
  check(actual === expected, what, `expected ${JSON.stringify(expected)}, page shows ${JSON.stringify(actual)}`);
}

// ---- expectations computed from the trace itself -----------------------------------------------
const TRACE_OPEN = '<script type="application/json" id="trace">';
function embeddedTrace(file) {
  const html = fs.readFileSync(file, 'utf8');
  const i = html.indexOf(TRACE_OPEN);
  if (i < 0) throw new Error(`${file}: no embedded trace script`);
  const j = html.indexOf('</script>', i);
  return JSON.parse(html.slice(i + TRACE_OPEN.length, j));
}
function analyse(trace) {
  const events = trace.traceEvents;
  const procName = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'process_name') procName.set(e.pid, e.args.name);
  // a lane per named thread, except the "objects" process whose counters become strips
  const lanes = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && procName.get(e.pid) !== 'objects');
  const body = events.filter((e) => e.ph !== 'M');
  const steps = [...new Set(body.map((e) => e.args.step))].sort((a, b) => a - b);
  const line = (src) => (typeof src === 'string' ? Number(src.split(':').pop()) : 0);
  const primarySrc = new Map();
  for (const s of steps) {
    const at = body.filter((e) => e.args.step === s);
    const x = at.find((e) => e.ph === 'X' && e.args.src);
    const any = at.find((e) => e.args.src);
    primarySrc.set(s, x ? line(x.args.src) : any ? line(any.args.src) : 0);
  }
  const dioEvents = body.filter((e) => e.name === 'dio_state' && e.args.field === 'refcount');
  const firstDio = dioEvents.length ? dioEvents[0].args.dio : undefined;
  const refcountAt = (n) => {
    let v;
    for (const e of dioEvents) if (e.args.dio === firstDio && e.args.step <= n) v = e.args.after;
    return v;
  };
  const refChangeSteps = dioEvents.filter((e) => e.args.dio === firstDio && e.args.before !== e.args.after).map((e) => e.args.step);
  return { od: trace.otherData || {}, lanes, steps, primarySrc, firstDio, refcountAt, refChangeSteps, nEvents: body.length };
}

// ---- page helpers ------------------------------------------------------------------------------
async function open(page, file, hash = '') {
  const t0 = Date.now();
  await page.goto(pathToFileURL(path.resolve(file)).href + hash);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const inPage = await page.evaluate(() => ({ loadMs: window.diosimViewer.loadMs, readyAt: window.diosimViewer.readyAt }));
  return { wallMs: Date.now() - t0, ...inPage };
}
const cursorStep = (page) => page.$eval('#step-input', (el) => Number(el.value));
const currentLine = (page) => page.evaluate(() => {
  const el = document.querySelector('#source .line.current');
  return el ? Number(el.dataset.line) : 0;
});
const laneCount = (page) => page.$$eval('#lanes [data-lane]', (els) => els.length);
async function shot(page, name) {
  const file = path.join(outDir, name);
  await page.screenshot({ path: file });
  screenshots.push(file);
}

async function testPassing(browser) {
  const trace = embeddedTrace(passHtml);
  const A = analyse(trace);
  console.log(`passing trace: ${path.basename(passHtml)}: ${A.nEvents} events, ${A.steps.length} steps, ${A.lanes.length} lanes`);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const t = await open(page, passHtml);
  console.log(`  load: ${t.loadMs.toFixed(1)} ms in the viewer script, ${t.readyAt.toFixed(1)} ms from navigation start, ${t.wallMs} ms wall`);
  await shot(page, 'pass-overview.png');

  checkEq(await laneCount(page), A.lanes.length, 'one [data-lane] per context/device lane');
  checkEq(await page.$eval('#schedule', (el) => el.textContent), A.od.schedule, 'header shows the schedule token');
  check(await page.$eval('#banner', (el) => el.hidden), 'no failure banner on a passing trace');
  checkEq(await cursorStep(page), A.steps[0], 'cursor starts at the first step');

  // → moves the cursor one step; the highlighted source line is that step's src line
  await page.keyboard.press('Home');
  for (let i = 1; i <= Math.min(12, A.steps.length - 1); i++) {
    await page.keyboard.press('ArrowRight');
    const s = await cursorStep(page);
    checkEq(s, A.steps[i], `→ moves the cursor to step ${A.steps[i]}`);
    checkEq(await currentLine(page), A.primarySrc.get(s), `step ${s}: highlighted source line`);
  }
  checkEq(await page.evaluate(() => location.hash), `#step=${await cursorStep(page)}`, 'URL keeps #step=N');
  await page.keyboard.press('End');
  checkEq(await cursorStep(page), A.steps[A.steps.length - 1], 'End goes to the last step');
  await page.keyboard.press('ArrowLeft');
  checkEq(await cursorStep(page), A.steps[A.steps.length - 2], '← moves back one step');

  // refcount at a chosen step (the first step where it peaks), loaded through the URL hash
  if (A.firstDio !== undefined) {
    let best = A.steps[0];
    for (const s of A.steps) if ((A.refcountAt(s) ?? -1) > (A.refcountAt(best) ?? -1)) best = s;
    await open(page, passHtml, `#step=${best}`);
    checkEq(await cursorStep(page), best, `#step=${best} in the URL opens at that step`);
    const cell = await page.$eval('#state [data-field="refcount"]', (el) => ({ dio: el.dataset.dio, text: el.firstChild.textContent.trim(), changed: el.classList.contains('changed') }));
    checkEq(cell.dio, A.firstDio, 'state panel shows the dio');
    checkEq(cell.text, String(A.refcountAt(best)), `${A.firstDio}.refcount at step ${best}`);
    checkEq(cell.changed, A.refChangeSteps.includes(best), `refcount marked as changed iff step ${best} changed it`);
    await shot(page, 'pass-refcount-step.png');
  }

  // hiding a lane by clicking its label, and showing it again
  const n = await laneCount(page);
  await page.click('#lanes [data-lane]');
  checkEq(await laneCount(page), n - 1, 'clicking a lane label hides the lane');
  await page.click('#hidden-lanes button');
  checkEq(await laneCount(page), n, 'the hidden-lanes bar brings it back');

  // clicking a source line lists the steps that ran it; clicking one moves the cursor
  const stepsOfLine = new Map();
  for (const [s, l] of A.primarySrc) if (l) stepsOfLine.set(l, [...(stepsOfLine.get(l) || []), s]);
  const [ln, lnSteps] = [...stepsOfLine].sort((a, b) => b[1].length - a[1].length)[0];
  await page.click(`#source .line[data-line="${ln}"]`);
  await page.waitForSelector('#line-steps:not([hidden])');
  const listed = await page.$$eval('#line-steps .item', (els) => els.map((el) => Number(el.dataset.step)));
  check(lnSteps.every((s) => listed.includes(s)), `line ${ln} lists the steps that executed it`, `listed ${listed}`);
  const target = lnSteps[lnSteps.length - 1];
  await page.click(`#line-steps .item[data-step="${target}"]`);
  checkEq(await cursorStep(page), target, 'clicking a listed step moves the cursor there');
  checkEq(await currentLine(page), ln, 'and highlights that line');
  await shot(page, 'pass-line-steps.png');

  check(errors.length === 0, 'no JavaScript errors on the passing page', errors.join('; '));
  await page.close();
  return A;
}

async function testFailing(browser) {
  const trace = embeddedTrace(failHtml);
  const A = analyse(trace);
  const f = A.od.failure || {};
  console.log(`failing trace: ${path.basename(failHtml)}: outcome ${A.od.outcome}, failure at step ${f.step}`);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await open(page, failHtml);
  check(await page.isVisible('#banner'), 'failure banner is visible');
  const banner = await page.$eval('#banner', (el) => el.textContent);
  if (f.invariant) check(banner.includes(f.invariant), 'banner names the invariant', banner);
  if (A.od.failed_expectations) for (const x of A.od.failed_expectations) check(banner.includes(String(x)), 'banner lists the failed expectation', x);
  await shot(page, 'fail-banner.png');
  checkEq(await laneCount(page), A.lanes.length, 'one [data-lane] per lane on the failing trace');
  // end-of-run findings (failure.step 0) and failed expectations belong to the last step
  const failStep = typeof f.step === 'number' && f.step > 0 ? f.step : A.steps[A.steps.length - 1];
  await page.keyboard.press('Home');
  await page.keyboard.press('f');
  checkEq(await cursorStep(page), failStep, '`f` jumps to the failing step');
  checkEq(await currentLine(page), A.primarySrc.get(failStep), 'failing step: highlighted source line');
  checkEq(await page.evaluate(() => location.hash), `#step=${failStep}`, 'URL keeps the failing step');
  check(await page.$$eval('#step-events .ev.viol', (els) => els.length) > 0 || !trace.traceEvents.some((e) => e.name === 'violation'),
    'the violation event is listed at the failing step');
  await shot(page, 'fail-at-failure.png');
  await page.keyboard.press('Home');
  await page.click('#jump-failure');
  checkEq(await cursorStep(page), failStep, 'the banner link jumps to the failing step');
  check(errors.length === 0, 'no JavaScript errors on the failing page', errors.join('; '));
  await page.close();
}

// Context lanes in reading order: tasks, irq contexts by CPU number, workers. The passing trace's
// lanes are renamed and their sort indices scrambled (irq/10 first, the task last) so the order
// the page shows can only come from the viewer's own sorting.
function expectedLaneOrder(names) {
  const rank = (n) => (/^task /.test(n) ? 0 : /^irq\//.test(n) ? 1 : /worker/.test(n) ? 2 : 3);
  const cpu = (n) => { const m = /^irq\/(\d+)$/.exec(n); return m ? Number(m[1]) : -1; };
  return [...names].sort((a, b) => rank(a) - rank(b) || cpu(a) - cpu(b));
}
async function testLaneOrder(browser) {
  const trace = embeddedTrace(passHtml);
  const ctx = trace.traceEvents.filter((e) => e.ph === 'M' && e.pid === 1 && e.name === 'thread_name');
  const irqs = ctx.filter((e) => /^irq\//.test(e.args.name));
  check(irqs.length >= 2, 'the passing trace has two irq lanes to order', String(irqs.length));
  irqs[0].args.name = 'irq/10'; // CPU 10 must come after CPU 2 (numeric, not text, order)
  irqs[1].args.name = 'irq/2';
  const tids = ctx.map((e) => e.tid);
  for (const e of trace.traceEvents)
    if (e.ph === 'M' && e.pid === 1 && e.name === 'thread_sort_index')
      e.args.sort_index = /^task /.test(ctx.find((c) => c.tid === e.tid).args.name) ? 1000 : tids.length - tids.indexOf(e.tid);
  const html = fs.readFileSync(passHtml, 'utf8');
  const i = html.indexOf(TRACE_OPEN) + TRACE_OPEN.length, j = html.indexOf('</script>', i);
  const file = path.join(outDir, 'lane-order.html');
  fs.writeFileSync(file, html.slice(0, i) + JSON.stringify(trace).replace(/<\//g, '<\\/') + html.slice(j));
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await open(page, file);
  const shown = await page.$$eval('#lanes [data-lane][data-kind="ctx"] .name', (els) => els.map((el) => el.textContent));
  checkEq(JSON.stringify(shown), JSON.stringify(expectedLaneOrder(ctx.map((e) => e.args.name))),
          'context lanes: tasks, then irq by CPU number, then workers');
  await page.close();
  fs.rmSync(file);
}

// A large trace (>= 50,000 events) built from the passing one by repeating its request with new
// object ids and shifted steps: the viewer must load it quickly and stay responsive.
async function testLarge(browser) {
  const trace = embeddedTrace(passHtml);
  const meta = trace.traceEvents.filter((e) => e.ph === 'M');
  const body = trace.traceEvents.filter((e) => e.ph !== 'M');
  const maxStep = Math.max(...body.map((e) => e.args.step));
  const maxTs = Math.max(...body.map((e) => e.ts || 0));
  const copies = Math.ceil(50000 / body.length);
  const events = [...meta];
  for (let k = 0; k < copies; k++) {
    const text = JSON.stringify(body).replace(/\b(bio|dio|page)#(\d+)/g, (_, kind, n) => `${kind}#${Number(n) + k * 1000}`);
    for (const e of JSON.parse(text)) {
      e.args.step += k * maxStep;
      if (typeof e.ts === 'number') e.ts = Math.round((e.ts + k * (maxTs + 1)) * 1000) / 1000;
      events.push(e);
    }
  }
  const big = { ...trace, traceEvents: events };
  const html = fs.readFileSync(passHtml, 'utf8');
  const i = html.indexOf(TRACE_OPEN) + TRACE_OPEN.length, j = html.indexOf('</script>', i);
  const file = path.join(outDir, 'large-trace.html');
  fs.writeFileSync(file, html.slice(0, i) + JSON.stringify(big).replace(/<\//g, '<\\/') + html.slice(j));
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const t = await open(page, file, `#step=${Math.floor(copies / 2) * maxStep}`);
  const n = events.length - meta.length;
  console.log(`  large trace: ${n} events, ${copies * maxStep} steps: load ${t.loadMs.toFixed(1)} ms in the viewer script, ${t.readyAt.toFixed(1)} ms from navigation start, ${t.wallMs} ms wall`);
  const startStep = await cursorStep(page);
  const timing = await page.evaluate(async () => {
    const v = window.diosimViewer;
    let handler = 0, drawn = 0;
    const N = 60;
    for (let k = 0; k < N; k++) {
      const t0 = performance.now();
      document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
      handler += performance.now() - t0;
      await new Promise((r) => requestAnimationFrame(() => r()));
      drawn += v.drawMs || 0;
    }
    return { handler: handler / N, draw: drawn / N };
  });
  console.log(`  large trace: → key handler ${timing.handler.toFixed(2)} ms + redraw ${timing.draw.toFixed(2)} ms per step (avg of 60)`);
  check(n >= 50000, 'large trace has at least 50,000 events', String(n));
  // Load and step times are printed above, never asserted: on a shared, loaded machine a time
  // limit fails at random (house rule: speed is measured and printed, not tested). What is
  // checked is that the page works at this size.
  checkEq(await page.evaluate(() => document.body.dataset.ready), '1', 'large trace loads');
  check(await cursorStep(page) > startStep, 'stepping moves the cursor on the large trace', `${startStep} -> ${await cursorStep(page)}`);
  await shot(page, 'large-trace.png');
  await page.click('#zoom-fit');
  await page.waitForTimeout(100);
  await shot(page, 'large-trace-fit.png');
  check(errors.length === 0, 'no JavaScript errors on the large trace', errors.join('; '));
  await page.close();
  fs.rmSync(file);
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
let failed = 0;
try {
  await testPassing(browser);
  await testFailing(browser);
  await testLaneOrder(browser);
  await testLarge(browser);
} catch (e) {
  failed = 1;
  console.error(`viewer test FAILED: ${e instanceof AssertionFailure ? e.message : e.stack || e}`);
} finally {
  await browser.close();
}
console.log(`screenshots: ${screenshots.join(' ')}`);
console.log(`viewer test: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
