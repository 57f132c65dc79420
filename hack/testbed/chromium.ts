// Debian's chromium for the dashboard's browser tests and benchmark, driven by playwright-core (whose
// own browser download cannot work offline). The flags keep it off the network it would otherwise
// reach for (component updates, sync, QUIC); each launch gets a fresh temporary profile.
import { type Browser, chromium } from 'playwright-core';

export const chromiumPath = process.env.TIDE_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
