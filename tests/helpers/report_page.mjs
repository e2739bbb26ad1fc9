// Opens a report in Debian's chromium (headless, through playwright-core) at a given width, for
// tests/integration/test_export.py: saves a full-page screenshot and the page printed to PDF (A4,
// the print stylesheet), and prints as JSON what a reviewer would see go wrong: how wide the page
// and its widest table are, and where each section starts.
// Usage: node report_page.mjs REPORT.html WIDTH OUT.png OUT.pdf
// Needs LINEAGE_CHROMIUM and LINEAGE_PLAYWRIGHT_DIR (scripts/browser_deps.sh exports both).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(process.env.LINEAGE_PLAYWRIGHT_DIR + "/");
const { chromium } = require("playwright-core");
const [file, width, png, pdf] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: process.env.LINEAGE_CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
  await page.goto(pathToFileURL(file).href);
  await page.screenshot({ path: png, fullPage: true });
  const layout = await page.evaluate(() => ({
    viewport: window.innerWidth,
    page_width: document.documentElement.scrollWidth,
    widest_table_right: Math.max(0, ...[...document.querySelectorAll("table")].map((t) => t.getBoundingClientRect().right)),
    overflowing_cells: [...document.querySelectorAll("td, th")].filter((c) => c.scrollWidth > c.clientWidth + 1).length,
    sections: [...document.querySelectorAll("body > section, body > details")].map((s) => s.id),
    technical_open: document.querySelector("details.technical")?.open ?? null,
  }));
  await page.emulateMedia({ media: "print" });
  const printed = await page.evaluate(() => ({
    page_width: document.documentElement.scrollWidth,
    raw_evidence_shown: [...document.querySelectorAll("details:not(.technical)")].some((d) => d.offsetParent !== null),
  }));
  await page.pdf({ path: pdf, format: "A4", printBackground: true });
  console.log(JSON.stringify({ ...layout, print: printed }));
} finally {
  await browser.close();
}
