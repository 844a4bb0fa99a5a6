/**
 * Headless Chromium for the dashboard's page tests: Debian's package (/usr/bin/chromium) driven by
 * playwright-core, which never downloads a browser. `launch()` gives null (with the reason printed) when
 * the browser is absent and TESSERA_BROWSER is not set; with TESSERA_BROWSER set (CI), a missing
 * browser is a failure.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CHROMIUM = "/usr/bin/chromium";
/** where screenshots go for a person to look at (gitignored) */
export const OUTPUT = fileURLToPath(new URL("../../test-output/dashboard/", import.meta.url));

export async function launch() {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = "1";
  if (!existsSync(CHROMIUM)) {
    if (process.env.TESSERA_BROWSER) throw new Error(`TESSERA_BROWSER is set but ${CHROMIUM} is missing (bash scripts/install-browser.sh installs it)`);
    console.log(`  (skipped: ${CHROMIUM} is absent and TESSERA_BROWSER is not set; bash scripts/install-browser.sh installs it)`);
    return null;
  }
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "tessera-chromium-"));
  // a fresh profile each time (playwright passes it as --user-data-dir: it refuses that flag in args)
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1100 },
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  mkdirSync(OUTPUT, { recursive: true });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
