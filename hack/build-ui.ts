// Bundles the dashboard's front-end (controllers/ui/web) into dist/controllers/ui/assets, beside the
// compiled server that serves it (part of `npm run build`).
import { join } from 'node:path';
import { writeUi } from '../controllers/ui/assets.ts';

const out = join(import.meta.dirname, '..', 'dist', 'controllers', 'ui', 'assets');
const files = await writeUi(out);
console.log(`dashboard bundle: ${files.join(', ')} in ${out}`);
