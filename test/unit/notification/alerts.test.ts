// Which Alerts an event goes to: event sources (kind, namespace, name or `*`, matchLabels), severity,
// suspend, inclusionList and exclusionList as Go regular expressions.
import assert from 'node:assert/strict';
import type { Alert } from '../../../controllers/api/notification.ts';
import {
  alertMatches,
  alertProblems,
  goRegExp,
  type LabelsOf,
  sourceKeys,
} from '../../../controllers/notification/alerts.ts';
import { event } from './fixtures.ts';

type Spec = Partial<Alert['spec']>;
const alert = (spec: Spec): Alert =>
  ({
    apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
    kind: 'Alert',
    metadata: { name: 'a', namespace: 'flux-system' },
    spec: { providerRef: { name: 'p' }, eventSources: [{ kind: 'Kustomization', name: '*' }], ...spec },
  }) as Alert;

const noLabels: LabelsOf = async () => ({});
const reports: string[] = [];
const report = (reason: string, message: string) => reports.push(`${reason}: ${message}`);
const matches = (spec: Spec, e = event(), labels = noLabels) => alertMatches(alert(spec), e, labels, report);

describe('notification: alert matching', () => {
  beforeEach(() => {
    reports.length = 0;
  });

  it('matches kind and name (or *), in the namespace of the source or else the Alert', async () => {
    assert.equal(await matches({}), true);
    assert.equal(await matches({ eventSources: [{ kind: 'Kustomization', name: 'apps' }] }), true);
    assert.equal(await matches({ eventSources: [{ kind: 'Kustomization', name: 'other' }] }), false);
    assert.equal(await matches({ eventSources: [{ kind: 'GitRepository', name: '*' }] }), false);
    assert.equal(
      await matches({ eventSources: [{ kind: 'Kustomization', name: '*', namespace: 'apps' }] }),
      false,
    );
    const elsewhere = event({ involvedObject: { ...event().involvedObject, namespace: 'apps' } });
    assert.equal(
      await matches({ eventSources: [{ kind: 'Kustomization', name: '*', namespace: 'apps' }] }, elsewhere),
      true,
    );
    assert.equal(await matches({}, elsewhere), false, "defaults to the Alert's namespace");
    assert.deepEqual(
      sourceKeys(
        alert({
          eventSources: [
            { kind: 'Kustomization', name: '*', namespace: 'apps' },
            { kind: 'GitRepository', name: 'x' },
          ],
        }),
      ),
      ['Kustomization/apps', 'GitRepository/flux-system'],
    );
  });

  it('forwards everything at info severity and only errors at error; never when suspended', async () => {
    const info = event({ severity: 'info' });
    assert.equal(await matches({ eventSeverity: 'info' }, info), true);
    assert.equal(await matches({ eventSeverity: 'error' }, info), false);
    assert.equal(await matches({ eventSeverity: 'error' }), true);
    assert.equal(await matches({ suspend: true }), false);
  });

  it('reads the labels of the object for matchLabels, and reports an object it cannot read', async () => {
    const labelled = async () => ({ team: 'ops', tier: 'web' });
    const src = (matchLabels: Record<string, string>) => ({
      eventSources: [{ kind: 'Kustomization' as const, name: '*', matchLabels }],
    });
    assert.equal(await matches(src({ team: 'ops' }), event(), labelled), true);
    assert.equal(await matches(src({ team: 'dev' }), event(), labelled), false);
    assert.equal(await matches(src({ team: 'ops' }), event(), async () => undefined), false);
    assert.match(
      reports[0] ?? '',
      /^SourceFetchFailed: error getting source object Kustomization\/flux-system\/apps/,
    );
  });

  it('includes only what inclusionList matches and drops what exclusionList matches', async () => {
    assert.equal(await matches({ inclusionList: ['path not found'] }), true);
    assert.equal(await matches({ inclusionList: ['^health'] }), false);
    assert.equal(await matches({ exclusionList: ['(?i)PATH NOT'] }), false);
    assert.equal(await matches({ exclusionList: ['timeout'] }), true);
    assert.equal(await matches({ exclusionList: ['([bad'] }), true, 'a broken pattern excludes nothing');
    assert.match(reports[0] ?? '', /^InvalidConfig: failed to compile exclusion regex: \(\[bad/);
    assert.deepEqual(alertProblems(alert({ inclusionList: ['ok', '(?U)x'] })).length, 1);
  });

  it("translates Go's leading flags and text anchors", () => {
    assert.equal(goRegExp('(?i)error').test('ERROR'), true);
    assert.equal(goRegExp('(?s)a.b').test('a\nb'), true);
    assert.equal(goRegExp('\\Afoo\\z').test('foo'), true);
    assert.equal(goRegExp('\\Afoo\\z').test('foo\n'), false);
  });
});
