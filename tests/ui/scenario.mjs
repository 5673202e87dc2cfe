// The web UI in a real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): open every page on demo data, click
// dashboard → segment → contact → explanation, create a segment in the
// editor, see an inline error for a bad expression, save a good one and
// find it on the dashboard; export a segment's members as CSV; search,
// filter and page the contacts and accounts directories. Screenshots of each page go to OUT_DIR.
//
// usage: node scenario.mjs BASE_URL ADMIN_TOKEN OUT_DIR
// Exits non-zero (with the failing step) on any failed expectation.

import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [base, token, outDir] = process.argv.slice(2);
if (!base || !token || !outDir) {
  console.error("usage: node scenario.mjs BASE_URL ADMIN_TOKEN OUT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const executablePath = process.env.BELLWETHER_CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
const problems = [];
page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
page.on("console", (message) => {
  if (message.type() === "error") problems.push(`console error: ${message.text()}`);
});

let step = "start";
function expect(condition, what) {
  if (!condition) throw new Error(`${step}: expected ${what}`);
}
async function shot(name) {
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
}
async function open(path) {
  const response = await page.goto(base + path, { waitUntil: "load" });
  expect(response && response.status() === 200, `200 for ${path}, got ${response && response.status()}`);
}

try {
  step = "dashboard";
  await open("/");
  expect((await page.textContent("h1")) === "Segments", "the Segments heading");
  const rows = await page.locator("#segments table.data tbody tr").count();
  expect(rows >= 10, `the demo's segments listed (got ${rows})`);
  expect((await page.locator("svg.spark").count()) === rows, "a trend sparkline per segment");
  expect((await page.locator("#health").count()) === 1, "the health panel");
  expect((await page.locator("#destinations").textContent()).includes("demo-inbox"), "the demo's destination");
  await shot("dashboard");

  step = "dashboard → segment";
  // The first segment with members, by its link (a real link, keyboard-usable).
  const segmentLink = page.locator("table.data tbody tr", { hasNot: page.locator("td.big:text-is('0')") }).first().locator("a.strong");
  const segmentName = (await segmentLink.textContent()).trim();
  await segmentLink.focus();
  await Promise.all([page.waitForURL(`**/segments/${segmentName}`), page.keyboard.press("Enter")]);
  expect((await page.textContent("h1")) === segmentName, `the ${segmentName} heading`);
  expect((await page.locator("pre.code .fn, pre.code .kw").count()) > 0, "a highlighted definition");
  expect((await page.locator("figure.chart svg").count()) >= 2, "size and entries charts");
  expect((await page.locator("figure.chart text.unit").first().textContent()) === "members", "a unit on the size axis");
  await page.waitForSelector("#live-status.on", { timeout: 10000 });
  if (segmentName === "hot_intent") {
    // The demo's destination subscribes to it: its deliveries are listed.
    expect((await page.locator("#deliveries").count()) === 1, "the segment's deliveries panel");
  }
  await shot("segment");

  step = "segment: Export CSV";
  {
    const pagerText = await page.locator("#members nav.pager span.muted").textContent();
    const listed = Number((pagerText.match(/([\d,]+) members/) || [])[1].replace(/,/g, ""));
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
    expect(download.suggestedFilename() === `${segmentName}-members.csv`, `a ${segmentName}-members.csv download (got ${download.suggestedFilename()})`);
    const csv = readFileSync(await download.path(), "utf8");
    const lines = csv.trimEnd().split("\n");
    expect(lines[0].startsWith("id,entered_at"), `the CSV header (got ${lines[0]})`);
    expect(lines.length - 1 === listed, `one row per member: ${lines.length - 1} rows for ${listed} members`);
    expect(/^[^,]+,\d{4}-\d\d-\d\dT/.test(lines[1]), `an id and an instant in the first row (got ${lines[1]})`);
  }

  step = "segment search and paging";
  const members = page.locator("#members tbody tr");
  expect((await members.count()) > 0, "members listed");
  const firstId = (await members.first().locator("td:nth-child(2) a").textContent()).trim();
  await page.fill("#q", firstId);
  await Promise.all([page.waitForURL(/q=/), page.click("#members button[type=submit]")]);
  expect((await members.first().locator("td:nth-child(2) a").textContent()).trim() === firstId, "search finds the member");

  step = "segment → contact → explanation";
  await Promise.all([page.waitForURL(/explain=/), members.first().locator("a", { hasText: "Why?" }).click()]);
  const explanation = page.locator(`details[open]`);
  expect((await explanation.count()) === 1, "the segment's explanation open");
  expect((await explanation.locator("ul.explain li.yes").count()) > 0, "a holding sub-expression (✓)");
  expect((await page.locator("#timeline tbody tr").count()) > 0, "the timeline");
  expect((await page.locator("figure.chart").count()) >= 1, "a score chart");
  // Another explanation opens with a click on its summary.
  const closedItem = page.locator("#segments li", { has: page.locator("details:not([open])") }).first();
  if ((await closedItem.count()) > 0) {
    const closed = page.locator(`#${await closedItem.getAttribute("id")} details`);
    await closed.locator("summary .why").click();
    expect(await closed.evaluate((d) => d.open), "a closed explanation opens on click");
    expect((await closed.locator("ul.explain li").count()) > 0, "its tree");
  }
  await shot("contact");

  step = "contact timeline filter";
  await page.selectOption("#type", "track");
  await Promise.all([page.waitForURL(/type=track/), page.click("#timeline button[type=submit]")]);
  const types = await page.locator("#timeline tbody td:nth-child(2)").allTextContents();
  expect(types.length > 0 && types.every((t) => t.trim() === "track"), "only track events");

  step = "account";
  const accountLink = page.locator(".heading-extra a.button", { hasText: "Account" });
  if ((await accountLink.count()) === 0) {
    await open("/accounts/" + encodeURIComponent(await firstAccount()));
  } else {
    await Promise.all([page.waitForURL(/\/accounts\//), accountLink.click()]);
  }
  expect((await page.locator("#committee tbody tr").count()) > 0, "the buying committee");
  expect((await page.locator("#stages").count()) === 1, "stage progression");
  await shot("account");

  step = "contacts directory: search, filter, order, pages";
  await Promise.all([page.waitForURL((url) => url.pathname === "/contacts"), page.click("header nav a:text-is('Contacts')")]);
  expect((await page.textContent("h1")) === "Contacts", "the Contacts heading");
  const contactRows = page.locator("#directory tbody tr");
  expect((await contactRows.count()) === 50, `a full first page (got ${await contactRows.count()})`);
  const someContact = (await contactRows.nth(3).locator("td:first-child a").textContent()).trim();
  await page.fill("#q", someContact);
  await Promise.all([page.waitForURL(/q=/), page.click("#directory button[type=submit]")]);
  const found = await contactRows.locator("td:first-child a").allTextContents();
  expect(found.map((t) => t.trim()).includes(someContact), `the search finds ${someContact}`);
  await page.fill("#q", "");
  const matchedCount = async () => Number((await page.textContent("#matched")).replace(/[^\d]/g, ""));
  const scoreOption = await page.locator("#sort option[value^='score:']").first().getAttribute("value");
  await page.selectOption("#sort", scoreOption);
  await Promise.all([page.waitForURL(/sort=score/), page.click("#directory button[type=submit]")]);
  const everyone = await matchedCount();
  const scores = (await page.locator("#directory tbody td.num").allTextContents()).map((t) => Number(t.replace(/[^\d.-]/g, "")));
  expect(scores.length > 0 && scores.every((v, i) => i === 0 || v <= scores[i - 1]), `scores highest first (got ${scores.slice(0, 5)})`);
  const firstOnPage = await contactRows.first().locator("td:first-child a").textContent();
  await Promise.all([page.waitForURL(/cursor=/), page.click("#directory a[rel=next]")]);
  expect((await contactRows.first().locator("td:first-child a").textContent()) !== firstOnPage, "the next page lists others");
  const contactSegment = await page.locator("#segment option:not([value=''])").first().getAttribute("value");
  await page.selectOption("#segment", contactSegment);
  await Promise.all([page.waitForURL(/segment=/), page.click("#directory button[type=submit]")]);
  expect((await matchedCount()) < everyone, `the ${contactSegment} filter narrows the list`);
  await shot("contacts");

  step = "accounts directory";
  await Promise.all([page.waitForURL((url) => url.pathname === "/accounts"), page.click("header nav a:text-is('Accounts')")]);
  expect((await page.textContent("h1")) === "Accounts", "the Accounts heading");
  expect((await page.locator("#directory tbody tr").count()) > 0, "accounts listed");
  const someAccount = (await page.locator("#directory tbody tr td:first-child a").first().textContent()).trim();
  await Promise.all([page.waitForURL(/\/accounts\//), page.click(`#directory tbody a:text-is("${someAccount}")`)]);
  await shot("accounts");

  step = "ingestion";
  await open("/ingestion");
  expect((await page.textContent("h1")) === "Ingestion", "the Ingestion heading");
  expect((await page.locator("#recent tbody tr").count()) > 0, "recent events");
  await shot("ingestion");

  step = "editor: inline error";
  await open("/editor");
  const name = `ui_test_${Date.now()}`;
  await page.fill("#name", name);
  await page.fill("#when", 'count(page where path = "/pricing", last 7d) >= ');
  await page.waitForSelector("#preview .diagnostics", { timeout: 10000 });
  const caret = await page.textContent("#preview pre.caret");
  expect(caret.includes("^"), "a caret under the error");
  await shot("editor-error");

  step = "editor: live preview";
  await page.fill("#when", 'count(page where path = "/pricing", last 30d) >= 1');
  await page.waitForSelector("#preview #preview-count", { timeout: 15000 });
  const count = Number((await page.textContent("#preview-count")).replace(/,/g, ""));
  expect(Number.isFinite(count), "a number that would match now");
  await shot("editor-preview");

  step = "editor: save needs an admin token";
  await page.fill("#owner", "growth");
  await page.fill("#action", "Nurture sequence");
  if ((await page.locator("#token").count()) > 0) {
    await page.fill("#token", token);
  }
  await Promise.all([page.waitForURL((url) => url.pathname === "/"), page.click("#save")]);

  step = "the saved segment on the dashboard";
  expect((await page.locator(".notice").textContent()).includes(name), "the saved notice");
  const saved = page.locator("table.data tbody tr", { has: page.locator(`a.strong:text-is("${name}")`) });
  expect((await saved.count()) === 1, `${name} listed`);
  const size = Number((await saved.locator("td.big").getAttribute("title")).replace(/,/g, ""));
  expect(size === count, `its size ${size} equal to the preview's ${count}`);
  await shot("dashboard-after-save");

  step = "the live feed shows an entry as it happens";
  await Promise.all([page.waitForURL(`**/segments/${name}`), saved.locator("a.strong").click()]);
  await page.waitForSelector("#live-status.on", { timeout: 10000 });
  const visitor = `ui-live-${Date.now()}`;
  const sent = await page.request.post(base + "/v1/page", {
    headers: { authorization: "Basic " + Buffer.from("demo-write-key:").toString("base64") },
    data: { userId: visitor, name: "Pricing", properties: { path: "/pricing" } },
  });
  expect(sent.status() === 200, `the page event accepted (got ${sent.status()})`);
  await page.waitForSelector(`#feed li.fresh a:text-is("${visitor}")`, { timeout: 10000 });
  await shot("segment-live");

  step = "keyboard focus is visible";
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  expect(outline !== "none", "an outline on the focused element");

  step = "no script errors";
  expect(problems.length === 0, `no browser errors, got: ${problems.join("; ")}`);
  console.log(`ui scenario passed; screenshots in ${outDir}`);
} catch (error) {
  await shot("failure").catch(() => {});
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}

async function firstAccount() {
  const response = await page.request.get(base + "/api/v1/segments", { headers: { authorization: `Bearer ${token}` } });
  const body = await response.json();
  const accountSegment = body.segments.find((s) => s.subject === "account" && s.size > 0);
  const members = await page.request.get(base + `/api/v1/segments/${accountSegment.name}/members?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  return (await members.json()).members[0].id;
}
