import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Chromium for the browser tests and the status benchmark, driven by playwright-core:
 * the system's /usr/bin/chromium when there is one (Debian's chromium), else the build inside the
 * `@sparticuz/chromium` package, unpacked on first use (about 2 s here, then reused) to a folder of
 * the temp dir named after its version, which runs with no system package at all.
 */

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

// Without these Chromium reaches for the network (updates, sync, QUIC), which is closed here.
const QUIET = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface LaunchedChromium {
  browser: Browser;
  /** Which build runs: the system's or the package's. */
  source: string;
}

export async function launchChromium(): Promise<LaunchedChromium> {
  if (existsSync(SYSTEM_CHROMIUM)) {
    const browser = await chromium.launch({ executablePath: SYSTEM_CHROMIUM, headless: true, args: QUIET });
    return { browser, source: SYSTEM_CHROMIUM };
  }
  const { default: packaged } = await import('@sparticuz/chromium');
  const executablePath = await unpacked(() => packaged.executablePath());
  // The package's flags (no sandbox nor zygote, as root) with ours; no WebGL, which no page here uses.
  packaged.setGraphicsMode = false;
  const browser = await chromium.launch({ executablePath, headless: true, args: [...packaged.args, ...QUIET] });
  return { browser, source: `@sparticuz/chromium (${executablePath})` };
}

/**
 * The package unpacks Chromium, its libraries and fonts straight into the temp dir (about 210 MB)
 * and reuses whatever `chromium` it finds there: it is given a folder of its own for the call.
 */
async function unpacked(executablePath: () => Promise<string>): Promise<string> {
  const main = fileURLToPath(import.meta.resolve('@sparticuz/chromium'));
  const { version } = JSON.parse(readFileSync(join(dirname(main), '../package.json'), 'utf8')) as { version: string };
  const dir = join(tmpdir(), `nodepool-chromium-${version}`);
  mkdirSync(dir, { recursive: true });
  // Test files run side by side: one process unpacks, the others wait for it to finish (a binary
  // still being written cannot be run: spawn fails with ETXTBSY).
  const complete = join(dir, '.complete');
  const lock = join(dir, '.unpacking');
  let mine = false;
  for (const deadline = Date.now() + 120_000; !existsSync(complete);) {
    try {
      closeSync(openSync(lock, 'wx'));
      mine = true;
      break;
    } catch {
      // A lock left by a process killed while unpacking is taken over after a minute.
      if (Date.now() - mtime(lock) > 60_000) rmSync(lock, { force: true });
      if (Date.now() > deadline) throw new Error(`Chromium still being unpacked into ${dir} after 2 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    const path = await executablePath();
    if (mine) writeFileSync(complete, '');
    return path;
  } finally {
    if (mine) rmSync(lock, { force: true });
    if (before === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = before;
  }
}

function mtime(path: string): number {
  try { return statSync(path).mtimeMs; } catch { return Date.now(); }
}
