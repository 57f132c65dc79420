// image-automation-controller: ImageUpdateAutomation (image updates committed to Git).
//   node dist/controllers/image-automation/main.js --concurrent=4
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseFlags, runManager } from '../runtime/manager.ts';
import { imageUpdateAutomationController } from './imageupdateautomation.ts';

const name = 'image-automation-controller';

export const automationFlags = {
  'no-cross-namespace-refs': { type: 'boolean', default: false },
} satisfies ParseArgsOptionsConfig;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseFlags(argv, { extra: automationFlags });
  const controller = imageUpdateAutomationController({
    noCrossNamespaceRefs: values['no-cross-namespace-refs'] === true,
  });
  return runManager({ name, controllers: [controller], argv, extraFlags: automationFlags });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(JSON.stringify({ level: 'error', msg: `${name} failed to start`, error: err.message }));
      process.exit(1);
    },
  );
}
