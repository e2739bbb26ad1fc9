// Drives the local Neo4j Browser in Debian's chromium (headless, through playwright-core) for
// tests/integration/test_neo4j_browser.py: logs in, applies a .grass style, sets the query's
// parameters, runs it, waits for the graph, saves the result frame as a PNG and prints, as JSON,
// what the graph view drew: each relationship's caption and colour, each node's caption.
// Usage: LINEAGE_BROWSER_PASSWORD=... node neo4j_browser.mjs URL USER QUERY_FILE GRASS_FILE PARAMS_JSON OUT.png
// Needs LINEAGE_CHROMIUM and LINEAGE_PLAYWRIGHT_DIR (scripts/browser_deps.sh exports both).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.LINEAGE_PLAYWRIGHT_DIR + "/");
const { chromium } = require("playwright-core");
const [url, user, queryFile, grassFile, paramsJson, out] = process.argv.slice(2);
// the shipped file's header is `//` comments: run the statement alone
const query = readFileSync(queryFile, "utf8").split("\n").filter((l) => !l.startsWith("//")).join("\n").trim();
const grass = readFileSync(grassFile, "utf8");

const browser = await chromium.launch({
  executablePath: process.env.LINEAGE_CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  await page.waitForSelector("input[data-testid='password']", { timeout: 90000 });
  await page.fill("input[data-testid='username']", user);
  await page.fill("input[data-testid='password']", process.env.LINEAGE_BROWSER_PASSWORD);
  await page.click("button[data-testid='connect']");
  await page.waitForSelector("text=/connected as user/i", { timeout: 90000 });
  const editor = page.locator(".monaco-editor textarea").first();
  async function run(text) {
    const before = await page.locator("[data-testid='frame']").count();
    await editor.focus();
    await page.keyboard.insertText(text);
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction((n) => document.querySelectorAll("[data-testid='frame']").length > n, before,
                               { timeout: 60000 });
  }
  // only the relationships the query returns (Browser otherwise adds those between result nodes)
  await run(":config autoComplete: false");
  await run(":style " + grass.replace(/\n/g, " "));
  for (const [key, value] of Object.entries(JSON.parse(paramsJson))) {
    await run(`:param ${key} => ${JSON.stringify(value)}`);
  }
  await run(query);
  // the newest frame is the query's result
  const frame = page.locator("[data-testid='frame']").first();
  await frame.locator("svg.neod3viz g.relationship").first().waitFor({ timeout: 60000 });
  await page.waitForTimeout(4000); // let the force layout settle before the picture
  await frame.screenshot({ path: out });
  const drawn = await frame.evaluate((el) => ({
    relationships: [...el.querySelectorAll("svg.neod3viz g.relationship")].map((g) => ({
      caption: g.querySelector("text")?.textContent ?? "",
      colour: g.querySelector("path.b-outline")?.getAttribute("fill") ?? "",
    })),
    nodes: [...el.querySelectorAll("svg.neod3viz g.node")].map((g) => ({
      caption: [...g.querySelectorAll("text")].map((t) => t.textContent).join(""),
      colour: g.querySelector("circle.b-outline")?.getAttribute("fill") ?? "",
    })),
  }));
  console.log(JSON.stringify(drawn));
} finally {
  await browser.close();
}
