// make testbed-up / testbed-down / testbed-status: the local control plane in .testbed/ (or $TIDE_TESTBED_DIR).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isHealthy, readState, startControlPlane, stopControlPlane } from './testbed/controlplane.ts';
import { hackDir } from './testbed/tools.ts';

export const defaultTestbedDir = resolve(process.env.TIDE_TESTBED_DIR ?? join(hackDir, '..', '.testbed'));

async function main(cmd: string | undefined): Promise<number> {
  const dir = defaultTestbedDir;
  const log = (m: string) => console.error(`testbed: ${m}`);
  switch (cmd) {
    case 'up': {
      const st = await startControlPlane({ dir, log });
      console.error(`testbed: kubeconfig ${st.kubeconfig}  (export KUBECONFIG=${st.kubeconfig})`);
      process.stdout.write(await readFile(st.kubeconfig, 'utf8'));
      return 0;
    }
    case 'down':
      await stopControlPlane(dir);
      log('stopped');
      return 0;
    case 'status': {
      const st = await readState(dir);
      const ok = st ? await isHealthy(st) : false;
      console.log(ok ? `running: ${st?.server} (KUBECONFIG=${st?.kubeconfig})` : 'not running');
      return ok ? 0 : 1;
    }
    default:
      console.error('usage: node hack/testbed.ts up|down|status');
      return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`testbed: ${err.message}`);
      process.exit(1);
    },
  );
}
