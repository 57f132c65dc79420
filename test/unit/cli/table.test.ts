import assert from 'node:assert/strict';
import { headers, row } from '../../../controllers/cli/commands/get.ts';
import { gitKind, kustomizationKind } from '../../../controllers/cli/kinds.ts';
import { renderTable, truncateHex } from '../../../controllers/cli/output.ts';
import { object } from './fake.ts';

const sha1 = '0123456789abcdef0123456789abcdef01234567';
const sha256 = 'c2448c95e262b10f9c1137bf1472f51c04dffca76966ff15eff409d0b300c0b0';

describe('cli/output renderTable', () => {
  it('upper-cases the header and pads every cell to its column width, each followed by a tab', () => {
    const text = renderTable(
      ['Name', 'Ready'],
      [
        ['a', 'True'],
        ['longer-name', 'False'],
      ],
    );
    assert.equal(text, 'NAME       \tREADY\t\na          \tTrue \t\nlonger-name\tFalse\t\n');
  });

  it('sizes columns by characters, not UTF-16 units', () => {
    const text = renderTable(['Message'], [['héllo 𝔘𝔘'], ['x']]);
    assert.deepEqual(text.split('\n').slice(0, 3), ['MESSAGE \t', 'héllo 𝔘𝔘\t', 'x       \t']);
  });

  it('spreads a cell with newlines over several lines, keeping the other columns aligned', () => {
    const text = renderTable(['Name', 'Message'], [['ks', 'build failed:\nfile a.yaml']]);
    assert.deepEqual(text.split('\n').slice(0, 3), [
      'NAME\tMESSAGE      \t',
      'ks  \tbuild failed:\t',
      '    \tfile a.yaml  \t',
    ]);
  });

  it('prints only rows without a header', () => {
    assert.equal(renderTable(undefined, [['a', 'b']]), 'a\tb\t\n');
  });
});

describe('cli/output truncateHex', () => {
  it('shortens 40 to 128 character hex words to 8 characters, wherever they are', () => {
    assert.equal(truncateHex(`main@sha1:${sha1}`), 'main@sha1:01234567');
    assert.equal(truncateHex(`tag@sha256:${sha256}`), 'tag@sha256:c2448c95');
    assert.equal(
      truncateHex(`stored artifact for revision 'main@sha1:${sha1}'`),
      "stored artifact for revision 'main@sha1:01234567'",
    );
  });

  it('leaves short hex, over-long hex and other words alone', () => {
    assert.equal(truncateHex('ffffffffffffff'), 'ffffffffffffff');
    assert.equal(truncateHex('f'.repeat(130)), 'f'.repeat(130));
    assert.equal(truncateHex('which should not be modified'), 'which should not be modified');
  });
});

describe('cli get rows', () => {
  it('has flux columns, with NAMESPACE first only for --all-namespaces', () => {
    assert.deepEqual(headers(false), ['Name', 'Revision', 'Suspended', 'Ready', 'Message']);
    assert.deepEqual(headers(true), ['Namespace', 'Name', 'Revision', 'Suspended', 'Ready', 'Message']);
  });

  it('shows a source artifact revision and a Kustomization lastAppliedRevision, shortened', () => {
    const repo = object('GitRepository', 'ns1', 'podinfo', {
      ready: ['True', `stored artifact for revision 'main@sha1:${sha1}'`],
      status: { artifact: { revision: `main@sha1:${sha1}` } },
    });
    assert.deepEqual(row(gitKind, repo, { allNamespaces: true, withKind: false }), [
      'ns1',
      'podinfo',
      'main@sha1:01234567',
      'False',
      'True',
      "stored artifact for revision 'main@sha1:01234567'",
    ]);
    const ks = object('Kustomization', 'ns1', 'apps', {
      suspend: true,
      ready: ['False', 'kustomize build failed'],
      status: { lastAppliedRevision: `v1@sha1:${sha1}` },
    });
    assert.deepEqual(row(kustomizationKind, ks, { allNamespaces: false, withKind: true }), [
      'kustomization/apps',
      'v1@sha1:01234567',
      'True',
      'False',
      'kustomize build failed',
    ]);
  });

  it('reports an object without a Ready condition as False, waiting to be reconciled', () => {
    const fresh = object('GitRepository', 'ns1', 'new');
    assert.deepEqual(row(gitKind, fresh, { allNamespaces: false, withKind: false }), [
      'new',
      '',
      'False',
      'False',
      'waiting to be reconciled',
    ]);
  });
});
