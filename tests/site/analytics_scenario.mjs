// analytics.js in a real headless Chromium against a real Bellwether, on
// two origins (CORS for real): @segment/analytics-next from npm, bundled
// here with esbuild and given its settings inline (`cdnSettings`), so it
// never fetches anything from the internet (every request to a host
// other than 127.0.0.1 is aborted and fails the run). A quiz page served
// on its own port sends a page view and a quiz answer, then asks
// GET /v1/personalize (a preflighted request: it carries the write key as
// HTTP Basic) and shows the result that fits the visitor's segment.
//
// usage: node analytics_scenario.mjs BELLWETHER_BASE WRITE_KEY SITE_PORT
// Prints one JSON line {anonymousId, personalize, result} and exits 0;
// exits non-zero with the failing step otherwise.

import { build } from "esbuild";
import { createServer } from "node:http";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const [base, writeKey, sitePort] = process.argv.slice(2);
if (!base || !writeKey || !sitePort) {
  console.error("usage: node analytics_scenario.mjs BELLWETHER_BASE WRITE_KEY SITE_PORT");
  process.exit(2);
}

let step = "bundle analytics.js";
function expect(condition, what) {
  if (!condition) throw new Error(`${step}: expected ${what}`);
}

const bundled = await build({
  stdin: {
    contents: "import { AnalyticsBrowser } from '@segment/analytics-next'; window.AnalyticsBrowser = AnalyticsBrowser;",
    resolveDir: dirname(fileURLToPath(import.meta.url)),
    loader: "js",
  },
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2018",
  minify: true,
  write: false,
  logLevel: "silent",
});
const analyticsJs = bundled.outputFiles[0].text;

const page_html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Which plan fits you?</title>
<script src="/analytics.js"></script></head>
<body><h1>Quiz</h1><p id="result">…</p></body></html>`;

const site = createServer((request, response) => {
  if (request.url === "/analytics.js") {
    response.writeHead(200, { "content-type": "text/javascript" });
    response.end(analyticsJs);
  } else if (request.url === "/quiz") {
    response.writeHead(200, { "content-type": "text/html" });
    response.end(page_html);
  } else {
    response.writeHead(404);
    response.end();
  }
});
await new Promise((resolve) => site.listen(Number(sitePort), "127.0.0.1", resolve));

const executablePath = process.env.BELLWETHER_CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const outside = [];
const problems = [];
let exitCode = 0;
try {
  const context = await browser.newContext();
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));

  step = "open the quiz page";
  const opened = await page.goto(`http://127.0.0.1:${sitePort}/quiz`, { waitUntil: "load" });
  expect(opened && opened.status() === 200, "the quiz page");

  step = "load analytics.js with inline settings and send a page view";
  const apiHost = `${new URL(base).host}/v1`;
  const pageSent = page.waitForResponse((r) => r.url().endsWith("/v1/p"));
  const anonymousId = await page.evaluate(
    async ({ writeKey, apiHost }) => {
      const settings = {
        integrations: { "Segment.io": { apiKey: writeKey, apiHost, protocol: "http" } },
        metrics: { sampleRate: 0 },
      };
      const [analytics] = await window.AnalyticsBrowser.load({ writeKey, cdnSettings: settings });
      window.analytics = analytics;
      await analytics.page("Quiz", { path: "/quiz" });
      return analytics.user().anonymousId();
    },
    { writeKey, apiHost },
  );
  const pageResponse = await pageSent;
  expect(pageResponse.status() === 200, `200 for the page view, got ${pageResponse.status()}`);
  expect(typeof anonymousId === "string" && anonymousId.length > 0, "an anonymous id");

  step = "answer the quiz";
  const trackSent = page.waitForResponse((r) => r.url().endsWith("/v1/t"));
  await page.evaluate(() => window.analytics.track("Quiz Answered", { benefit: "compliance" }));
  const trackResponse = await trackSent;
  expect(trackResponse.status() === 200, `200 for the quiz answer, got ${trackResponse.status()}`);

  step = "personalize the result page";
  const answer = await page.evaluate(
    async ({ base, writeKey, anonymousId }) => {
      const response = await fetch(`${base}/v1/personalize?anonymousId=${encodeURIComponent(anonymousId)}`, {
        headers: { authorization: `Basic ${btoa(`${writeKey}:`)}` },
      });
      const personalize = await response.json();
      const result = personalize.segments.includes("compliance_seeker")
        ? "SOC 2 and GDPR, handled for you"
        : "Start your free trial";
      document.getElementById("result").textContent = result;
      return { status: response.status, personalize };
    },
    { base, writeKey, anonymousId },
  );
  expect(answer.status === 200, `200 from /v1/personalize, got ${answer.status}`);
  const result = await page.textContent("#result");

  step = "stay off the internet";
  expect(outside.length === 0, `no request outside 127.0.0.1, got ${outside.join(", ")}`);
  expect(problems.length === 0, `no script errors, got ${problems.join("; ")}`);
  console.log(JSON.stringify({ anonymousId, personalize: answer.personalize, result }));
} catch (error) {
  console.error(error.message || String(error));
  exitCode = 1;
} finally {
  await browser.close();
  site.close();
}
process.exit(exitCode);
