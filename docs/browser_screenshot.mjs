// Screenshot of Neo4j Browser running a lineage query (for docs/). Not part of the package or tests.
// Usage: NODE_PATH=<dir with playwright-core> node docs/browser_screenshot.mjs URL PASSWORD QUERY_FILE OUT.png
// Drives Debian's /usr/bin/chromium headless: logs in, runs the query, waits for the graph, saves a PNG.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const [url, password, queryFile, out, grassFile] = process.argv.slice(2);
const query = readFileSync(queryFile, "utf8");
const grass = grassFile ? readFileSync(grassFile, "utf8") : null;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
await page.goto(url);
await page.waitForSelector("input[data-testid='password']", { timeout: 60000 });
await page.fill("input[data-testid='username']", "neo4j");
await page.fill("input[data-testid='password']", password);
await page.click("button[data-testid='connect']");
await page.waitForSelector("text=/connected as user/i", { timeout: 60000 });
await page.waitForTimeout(1500);
const editor = page.locator(".monaco-editor textarea").first();
async function run(text, wait) {
  await editor.focus();
  await page.keyboard.insertText(text);
  await page.keyboard.press("Control+Enter");
  await page.waitForTimeout(wait);
}
// Show only the relationships the query returns, in lineage's style.
await run(":config autoComplete: false", 1000);
if (grass) await run(":style " + grass.replace(/\n/g, " "), 1000);
await run(query, 6000);
// The newest frame is the query's result: capture just that frame.
const frame = page.locator("[data-testid='frame']").first();
await frame.screenshot({ path: out });
await browser.close();
console.log(`wrote ${out}`);
