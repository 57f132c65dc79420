import assert from 'node:assert/strict';
import { createLogger, type LoggerOptions, redact } from '../../../controllers/runtime/log.ts';

const fixed = new Date('2025-03-04T05:06:07.089Z');

function capture(opts: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger({ now: () => fixed, out: (l) => lines.push(l), ...opts });
  return { log, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('runtime/log', () => {
  it('writes one JSON object per line: level, ts, msg, then fields', () => {
    const { log, lines } = capture();
    log.info('Reconciliation finished in 1.2s, next run in 5m0s', {
      kind: 'GitRepository',
      revision: 'main@sha1:abc',
    });
    assert.equal(lines.length, 1);
    assert.equal(
      lines[0],
      '{"level":"info","ts":"2025-03-04T05:06:07.089Z","msg":"Reconciliation finished in 1.2s, next run in 5m0s",' +
        '"kind":"GitRepository","revision":"main@sha1:abc"}',
    );
  });

  it('default ts is RFC3339 with milliseconds', () => {
    const lines: string[] = [];
    createLogger({ out: (l) => lines.push(l) }).info('x');
    assert.match(JSON.parse(lines[0]!).ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('with() adds fields to every line and nests', () => {
    const { log, entries } = capture({ base: { controller: 'source' } });
    const obj = log.with({ kind: 'GitRepository', name: 'podinfo', namespace: 'default' });
    obj.with({ reconcileID: 'r-1' }).info('fetching');
    log.info('plain');
    const [a, b] = entries();
    assert.deepEqual(a, {
      level: 'info',
      ts: '2025-03-04T05:06:07.089Z',
      msg: 'fetching',
      controller: 'source',
      kind: 'GitRepository',
      name: 'podinfo',
      namespace: 'default',
      reconcileID: 'r-1',
    });
    assert.deepEqual(Object.keys(b!), ['level', 'ts', 'msg', 'controller']);
  });

  it('errors add the error message; fields cannot overwrite level, ts, msg or error', () => {
    const { log, entries } = capture();
    log.error('Reconciliation failed', new Error('dial tcp: connection refused'), { level: 'x', msg: 'y' });
    log.error('without error');
    assert.deepEqual(entries(), [
      {
        level: 'error',
        ts: '2025-03-04T05:06:07.089Z',
        msg: 'Reconciliation failed',
        error: 'dial tcp: connection refused',
      },
      { level: 'error', ts: '2025-03-04T05:06:07.089Z', msg: 'without error' },
    ]);
  });

  it('filters by level', () => {
    const levels = (level: 'debug' | 'info' | 'error') => {
      const { log, entries } = capture({ level });
      log.debug('d');
      log.info('i');
      log.error('e');
      return entries().map((e) => e.msg);
    };
    assert.deepEqual(levels('debug'), ['d', 'i', 'e']);
    assert.deepEqual(levels('info'), ['i', 'e']);
    assert.deepEqual(levels('error'), ['e']);
  });

  it('redacts credentials in URLs', () => {
    assert.equal(redact('https://user:pass@host/repo.git'), 'https://user:***@host/repo.git');
    assert.equal(
      redact('failed to clone https://x-access-token:ghp_abc@github.com/o/r and http://a:b@c:8080/x'),
      'failed to clone https://x-access-token:***@github.com/o/r and http://a:***@c:8080/x',
    );
    assert.equal(
      redact('GET https://bucket.s3/x?X-Amz-Signature=abc&part=1&token=t'),
      'GET https://bucket.s3/x?X-Amz-Signature=***&part=1&token=***',
    );
    assert.equal(redact('ssh://git@github.com/o/r'), 'ssh://git@github.com/o/r');
    assert.equal(redact('no url here'), 'no url here');
    assert.equal(redact(42), 42);
  });

  it('never writes secrets from errors or fields', () => {
    const { log, lines } = capture();
    log.error('fetch failed', new Error('GET https://bot:hunter2@git.example/r: 401'), {
      url: 'https://bot:hunter2@git.example/r',
      nested: { cause: new Error('at https://u:hunter2@h/') },
    });
    assert.doesNotMatch(lines[0]!, /hunter2/);
    assert.match(lines[0]!, /https:\/\/bot:\*\*\*@git\.example\/r: 401/);
  });

  it('keeps logging when fields cannot be serialized', () => {
    const { log, entries } = capture();
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    log.info('still here', { loop, big: 1n });
    assert.equal(entries()[0]!.msg, 'still here');
  });
});
