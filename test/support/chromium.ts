import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await executablePath();
  } finally {
    if (before === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = before;
  }
}
