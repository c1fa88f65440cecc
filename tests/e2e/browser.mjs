// A headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core from
// .cache/e2e/browser (tests/e2e/browser-setup.sh installs both). For the chat-view case.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { cache } from "./gateway.mjs";

export const CHROMIUM = process.env.E2E_CHROMIUM ?? "/usr/bin/chromium";

// Launch a fresh browser (its own profile dir, removed on close). Returns {page, logs, close}:
// `logs` collects the page's console and errors. Playwright takes the profile dir as
// launchPersistentContext's argument (it refuses --user-data-dir among the args).
export async function launchBrowser({ width = 1280, height = 800 } = {}) {
  const require = createRequire(path.join(cache, "browser", "package.json"));
  const { chromium } = require("playwright-core");
  const profile = mkdtempSync(path.join(os.tmpdir(), "e2e-chromium-"));
  const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, viewport: { width, height }, timeout: 120000 });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const logs = [];
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  return {
    page,
    logs,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
