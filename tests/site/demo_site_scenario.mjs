// The demo's example website (/demo-site/ on a Bellwether server with
// `[server] demo_site = true`) in headless Chromium: the home hero is the
// default one for a new visitor; answering the quiz with "compliance"
// shows the compliance result at once (read-your-writes), and the home
// hero then fits the visitor's new segment. Every request stays on
// 127.0.0.1. Screenshots go to OUT_DIR.
//
// usage: node demo_site_scenario.mjs BELLWETHER_BASE OUT_DIR
// Prints one JSON line {anonymousId, before, quiz, after}; exits non-zero
// with the failing step otherwise.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error("usage: node demo_site_scenario.mjs BELLWETHER_BASE OUT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

let step = "start";
function expect(condition, what) {
  if (!condition) throw new Error(`${step}: expected ${what}`);
}

const executablePath = process.env.BELLWETHER_CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const outside = [];
const problems = [];
let exitCode = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  async function open(path) {
    const response = await page.goto(base + path, { waitUntil: "load" });
    expect(response && response.status() === 200, `200 for ${path}`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 10000 });
  }
  const shown = (selector) => page.getAttribute(selector, "data-shown");

  step = "home for a new visitor";
  await open("/demo-site/");
  const before = await shown("section.hero");
  expect(before === "default", `the default hero, got ${before}`);
  await page.screenshot({ path: join(outDir, "demo-site-home.png") });

  step = "pricing";
  await open("/demo-site/pricing");

  step = "quiz";
  await open("/demo-site/quiz");
  await page.click('button[data-benefit="compliance"]');
  await page.waitForSelector('html[data-ready="true"]', { timeout: 10000 });
  const quiz = await shown("section.result");
  expect(quiz === "compliance_seeker", `the compliance result, got ${quiz}`);
  await page.screenshot({ path: join(outDir, "demo-site-quiz.png") });

  step = "home after the quiz";
  await open("/demo-site/");
  const after = await shown("section.hero");
  expect(after === "compliance_seeker", `the compliance hero, got ${after}`);
  await page.screenshot({ path: join(outDir, "demo-site-home-compliance.png") });

  step = "stay off the internet";
  expect(outside.length === 0, `no request outside 127.0.0.1, got ${outside.join(", ")}`);
  expect(problems.length === 0, `no script errors, got ${problems.join("; ")}`);
  const anonymousId = await page.evaluate(() => localStorage.getItem("bw_anonymous_id"));
  console.log(JSON.stringify({ anonymousId, before, quiz, after }));
} catch (error) {
  console.error(error.message || String(error));
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
