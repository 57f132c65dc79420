// A headless Chromium for browser tests: Debian's chromium (hack/system-deps.sh installs it) driven by
// playwright-core (hack/testbed/chromium.ts).
// Screenshots go to test-output/ui/ (gitignored). serve() and startTideUi() run the dashboard as a user does.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../hack/testbed/chromium.ts';
import { toolPaths } from '../../hack/testbed/tools.ts';
import { testbed } from './testbed.ts';

const root = join(import.meta.dirname, '..', '..');

export const screenshotDir = join(import.meta.dirname, '..', '..', 'test-output', 'ui');

/** A browser with one page (1440×900) that has opened `url`. */
export async function openDashboard(url: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url);
  return { browser, page };
}

/** Saves a full-page screenshot as test-output/ui/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface Served {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a program and resolves once a line of its output gives the address (`match`). */
export function serve(
  args: string[],
  env: NodeJS.ProcessEnv,
  match: (line: string) => string | undefined,
): Promise<Served> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address after 60 s:\n${out}`)), 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      for (const line of out.split('\n')) {
        const url = match(line);
        if (!url) continue;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (c: Buffer) => {
          out += c.toString('utf8');
        });
        resolve({
          child,
          url,
          output: () => out,
          async stop() {
            if (child.exitCode === null) child.kill('SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
            if (child.exitCode === null) child.kill('SIGKILL');
          },
        });
        return;
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before serving:\n${out}`)));
  });
}

/** `tide ui 127.0.0.1:0 -n <namespace>` as a user runs it, with the test bed's admin kubeconfig. */
export async function startTideUi(namespace: string): Promise<Served> {
  const tools = await toolPaths(['kustomize', 'sops']);
  return serve(
    ['controllers/cli/main.ts', 'ui', '127.0.0.1:0', '-n', namespace],
    {
      KUBECONFIG: testbed().controlPlane.kubeconfig,
      TIDE_KUSTOMIZE_BIN: tools.kustomize,
      TIDE_SOPS_BIN: tools.sops,
    },
    (line) => (/^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/.test(line.trim()) ? line.trim() : undefined),
  );
}
