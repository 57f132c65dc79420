// Asserting on GitErrors in the Git layer's tests.
import assert from 'node:assert/strict';
import { isGitError } from '../../controllers/runtime/git/errors.ts';

/**
 * Awaits `p`, which must reject with a GitError of `kind` (whose message matches `message`), and
 * returns its message and stack, for checks that no secret appears in either.
 */
export async function rejectsKind(p: Promise<unknown>, kind: string, message?: RegExp): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isGitError(err), `not a GitError: ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (message) assert.match(err.message, message);
    return `${err.message}\n${err.stack ?? ''}`;
  }
  return assert.fail(`expected a ${kind} GitError`);
}
