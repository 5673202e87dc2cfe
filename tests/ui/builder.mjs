// The editor's visual builder in a real headless Chromium: build the
// shipped `hot_intent` segment by clicking (selects, inputs, add buttons),
// check the text area shows the shipped expression (as the server prints
// it), that the live preview counts the shipped segment's size and shows
// the backtest line, then save it and compare the members with the
// shipped segment's, id for id. Typing text the builder cannot show makes
// it say which part; references, "not" and a nested group print too.
//
// usage: node builder.mjs BASE_URL ADMIN_TOKEN OUT_DIR
// Exits non-zero (with the failing step) on any failed expectation.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, token, outDir] = process.argv.slice(2);
if (!base || !token || !outDir) {
  console.error("usage: node builder.mjs BASE_URL ADMIN_TOKEN OUT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const executablePath = process.env.BELLWETHER_CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1366, height: 1000 } });
const problems = [];
page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
page.on("console", (message) => {
  if (message.type() === "error") problems.push(`console error: ${message.text()}`);
});
const auth = { authorization: `Bearer ${token}` };

let step = "start";
function expect(condition, what) {
  if (!condition) throw new Error(`${step}: expected ${what}`);
}
async function shot(name) {
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
}
async function api(path) {
  const response = await page.request.get(base + path, { headers: auth });
  expect(response.status() === 200, `200 for ${path}, got ${response.status()}`);
  return response.json();
}
async function members(segment) {
  const ids = [];
  let cursor = null;
  do {
    const query = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const body = await api(`/api/v1/segments/${segment}/members?${query}`);
    ids.push(...body.members.map((m) => m.id));
    cursor = body.next_cursor;
  } while (cursor);
  return ids.sort();
}
// The shipped text as the server's printer writes it (layout aside, the
// same expression): text → model → text.
async function printed(text) {
  const post = async (body) => (await page.request.post(base + "/editor/builder", { data: body })).json();
  const read = await post({ text });
  expect(read.model, `the shipped text to fit the builder (got ${JSON.stringify(read)})`);
  return (await post({ model: read.model })).text;
}
// Waits until the builder has printed and the text area holds `text`.
async function textBecomes(text) {
  await page.waitForFunction(
    (want) => document.getElementById("builder").dataset.synced === "true" && document.getElementById("when").value === want,
    text,
    { timeout: 10000 },
  ).catch(async () => {
    const got = await page.inputValue("#when");
    const said = await page.textContent("#builder-status");
    throw new Error(`${step}: expected the text ${JSON.stringify(text)}, got ${JSON.stringify(got)} (builder says: ${said})`);
  });
}

try {
  step = "the shipped hot_intent";
  const shipped = (await api("/api/v1/segments")).segments.find((s) => s.name === "hot_intent");
  expect(shipped && shipped.size > 0, "hot_intent in the demo, with members");
  const expected = await printed(shipped.definition);
  expect(expected.includes("each(last 3"), `the printed text keeps each(...) (got ${expected})`);

  step = "the builder opens on /editor";
  await page.goto(base + "/editor", { waitUntil: "load" });
  await page.waitForSelector("#builder:not([hidden]) #builder-root", { timeout: 10000 });
  const name = `built_hot_intent_${Date.now()}`;
  await page.fill("#name", name);
  const root = "#builder-root";
  const item = (i) => page.locator(`${root} > ol.b-items > li`).nth(i);

  step = "pricing viewed at least twice in 7 days";
  await page.click(`${root} > .b-adders button[data-add=measure]`);
  const pricing = item(0);
  const pageOption = await pricing.locator("select[aria-label=event] option[value=page]").textContent();
  expect(/page views \([\d,]+\)/.test(pageOption), `page views offered with a count (got ${pageOption})`);
  await pricing.locator("select[aria-label=aggregate]").selectOption("count");
  await pricing.locator("select[aria-label=event]").selectOption("page");
  await pricing.locator("button.b-add-where").click();
  await pricing.locator(".b-where input.b-property").fill("path");
  await pricing.locator(".b-where select[aria-label=operator]").selectOption("=");
  const suggested = await pricing.locator(".b-where datalist option").evaluateAll((options) => options.map((o) => o.value));
  expect(suggested.includes("/pricing"), `/pricing suggested from the data (got ${suggested.slice(0, 12)})`);
  await pricing.locator(".b-where input.b-value").fill("/pricing");
  await pricing.locator("select[aria-label=window]").selectOption("last");
  await pricing.locator("input.b-length").fill("7d");
  await pricing.locator(".b-compare select").selectOption(">=");
  await pricing.locator("input.b-number").fill("2");
  await textBecomes('count(page where path = "/pricing", last 7d) >= 2');

  step = "the last 3 emails opened";
  await page.click(`${root} > .b-adders button[data-add=each]`);
  const emails = item(1);
  await emails.locator("input.b-count").fill("3");
  await emails.locator("select[aria-label='lead event']").selectOption("event:Email Sent");
  await emails.locator("select[aria-label='following event']").selectOption("event:Email Opened");
  await emails.locator("input.b-on").fill("email_id");
  await textBecomes(expected);

  step = "the live preview counts the shipped segment's members";
  await page.waitForFunction(
    (want) => {
      const count = document.getElementById("preview-count");
      return count && Number(count.textContent.replace(/,/g, "")) === want && document.getElementById("backtest");
    },
    shipped.size,
    { timeout: 20000 },
  ).catch(async () => {
    throw new Error(`${step}: expected ${shipped.size} in the preview, got: ${await page.textContent("#preview")}`);
  });
  const backtest = await page.textContent("#backtest");
  expect(/Would have caught [\d,]+ contacts? in the last 90 days/.test(backtest), `the backtest line (got ${backtest})`);
  const caught = Number((backtest.match(/caught ([\d,]+)/) || [])[1].replace(/,/g, ""));
  if (caught > 0) expect(/converting at [\d.]+%/.test(backtest), `a conversion rate: the demo has Deal Won events (got ${backtest})`);
  await shot("builder-hot-intent");

  step = "saved, it has the shipped segment's members";
  if ((await page.locator("#token").count()) > 0) await page.fill("#token", token);
  await Promise.all([page.waitForURL((url) => url.pathname === "/"), page.click("#save")]);
  const built = await members(name);
  const original = await members("hot_intent");
  expect(built.length === shipped.size, `${shipped.size} members (got ${built.length})`);
  expect(JSON.stringify(built) === JSON.stringify(original), "the same members, id for id");

  step = "text the builder cannot show";
  await page.goto(base + "/editor", { waitUntil: "load" });
  await page.waitForSelector("#builder:not([hidden]) #builder-root", { timeout: 10000 });
  await page.fill("#when", "exists(any) and trait.seats >= 3 * past(trait.seats, 60d)");
  await page.waitForFunction(() => document.getElementById("builder-status").textContent.includes("can't show"), null, { timeout: 10000 });
  const said = await page.textContent("#builder-status");
  expect(said.includes("3 * past(trait.seats, 60d)"), `the part named (got ${said})`);
  expect(await page.locator("#builder fieldset").evaluate((f) => f.disabled), "the builder disabled while the text does not fit");
  await shot("builder-unfit");

  step = "text that fits goes back into the builder";
  await page.fill("#when", shipped.definition);
  await page.waitForFunction(() => document.querySelectorAll("#builder-root > ol.b-items > li").length === 2 && !document.querySelector("#builder fieldset").disabled, null, { timeout: 10000 });
  expect((await item(1).locator("input.b-on").inputValue()) === "email_id", "the each condition shown");

  step = "references, negation and a nested group";
  await page.goto(base + "/editor", { waitUntil: "load" });
  await page.waitForSelector("#builder:not([hidden]) #builder-root", { timeout: 10000 });
  await page.fill("#name", `built_refs_${Date.now()}`);
  await page.click(`${root} > .b-adders button[data-add=score]`);
  await page.click(`${root} > .b-adders button[data-add=in_segment]`);
  await item(1).locator("input.b-not").check();
  await page.click(`${root} > .b-adders button[data-add=group]`);
  await item(2).locator(".b-adders button[data-add=tier]").click();
  await item(2).locator(".b-adders button[data-add=trait]").click();
  const traitRow = item(2).locator("ol.b-items > li").nth(1);
  await traitRow.locator("input[aria-label^=trait]").fill("trait.plan");
  await traitRow.locator("input[aria-label=value]").fill("pro");
  const shape = /^score\("intent"\) >= 50\nand not in_segment\("hot_intent"\)\nand \(tier\("\w+"\) = "\w+" or trait\.plan = "pro"\)$/;
  await page.waitForFunction(
    (source) => document.getElementById("builder").dataset.synced === "true" && new RegExp(source).test(document.getElementById("when").value),
    shape.source,
    { timeout: 10000 },
  ).catch(async () => {
    throw new Error(`${step}: expected text like ${shape}, got ${JSON.stringify(await page.inputValue("#when"))} (builder says: ${await page.textContent("#builder-status")})`);
  });
  await page.waitForSelector("#preview #preview-count", { timeout: 20000 });

  step = "no script errors";
  expect(problems.length === 0, `no browser errors, got: ${problems.join("; ")}`);
  console.log(`builder scenario passed (${built.length} members); screenshots in ${outDir}`);
} catch (error) {
  await shot("builder-failure").catch(() => {});
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
