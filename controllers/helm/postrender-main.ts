// The program of Tide's Helm post-renderer plugin: manifests on stdin, the spec file as argument,
// post-rendered manifests on stdout; an error goes to stderr with a non-zero exit, which fails the
// Helm action.
import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { type PostRenderSpec, postRender } from './postrender.ts';

try {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as PostRenderSpec;
  process.stdout.write(await postRender(spec, await text(process.stdin)));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
