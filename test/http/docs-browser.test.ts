import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/paths.js";
import { startTestServer, type TestServer } from "../support/server.js";

const CHROMIUM = "/usr/bin/chromium";
/** Kept after the run for a human to look at (gitignored). */
const SCREENSHOT = join(PROJECT_ROOT, "test-results", "docs-page.png");
// The machine's network is closed: without these Chromium waits on background connections.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe("/docs in a real browser (Debian's Chromium, headless)", () => {
  let t: TestServer;
  let profile: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return; // the test fails, saying so
    t = await startTestServer();
    profile = mkdtempSync(join(tmpdir(), "leasehold-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await t?.close();
  });

  it("renders the operations list from this server only, with no CSP violation, and takes a screenshot", async () => {
    if (!existsSync(CHROMIUM)) {
      expect.fail(`This test needs Chromium at ${CHROMIUM} and it is missing: apt-get install -y chromium (.ci/run does).`);
    }
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on("request", (r) => void requested.push(r.url()));
    page.on("pageerror", (e) => void problems.push(`page error: ${e.message}`));
    page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
    await page.addInitScript({
      content: `document.addEventListener("securitypolicyviolation",
        (e) => console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));`,
    });

    const res = await page.goto(`${t.url}/docs`, { waitUntil: "load" });
    expect(res?.status()).toBe(200);
    await page.waitForSelector(".opblock-summary-path", { timeout: 30_000 });

    expect(await page.locator(".info .title").innerText()).toMatch(/^Leasehold/);
    const secretsGet = page.locator(".opblock-get").filter({ has: page.locator('.opblock-summary-path[data-path="/v1/secrets/"]') });
    await expect.poll(() => secretsGet.isVisible()).toBe(true);
    expect(await secretsGet.locator(".opblock-summary-description").innerText()).toBe("List an environment's secrets");
    const paths = await page.locator(".opblock-summary-path").allInnerTexts();
    for (const p of ["/v1/secrets/", "/v1/secrets/dynamic/leases/", "/v1/apps/", "/v1/service-accounts/{id}/tokens/"]) {
      expect(paths.map((x) => x.replace(/\u200b/g, "").trim())).toContain(p);
    }
    // Aliases are not operations of their own.
    expect(paths.some((x) => x.includes("/public/v1/secrets/"))).toBe(false);
    for (const tag of ["Phase secrets", "Dynamic secrets", "Management", "Operations"]) {
      await expect.poll(() => page.locator(`.opblock-tag[data-tag="${tag}"]`).isVisible(), { message: tag }).toBe(true);
    }
    await expect.poll(() => page.locator(".btn.authorize").isVisible()).toBe(true);

    expect(problems).toEqual([]);
    expect(requested.filter((u) => !u.startsWith(`${t.url}/`) && !u.startsWith("data:"))).toEqual([]);

    mkdirSync(join(PROJECT_ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.readUInt32BE(16)).toBe(1280); // IHDR width
    expect(png.readUInt32BE(20)).toBeGreaterThan(900); // full page: taller than the viewport
    expect(png.length).toBeGreaterThan(50_000);

    // An operation opens with its parameters and reply schema, rendered from the document.
    await secretsGet.locator(".opblock-summary").click();
    await secretsGet.locator(".parameters").waitFor({ timeout: 10_000 });
    const names = (await secretsGet.locator(".parameter__name").allInnerTexts()).map((n) => n.replace(/[\s*]/g, ""));
    expect(names).toEqual(["app_id", "env", "path", "key", "tags", "dynamic", "lease", "lease_ttl"]);
    expect(problems).toEqual([]);
  }, 120_000);
});
