import assert from 'node:assert/strict';
import {
  diffCounts,
  parsePrometheusText,
  reconciledObjects,
  requestsByVerb,
} from '../../../../hack/bench/promtext.ts';

const apiserver = `# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1"} 10
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="namespace",subresource="",verb="PATCH",version="v1"} 4
apiserver_request_total{code="200",component="apiserver",dry_run="All",group="apps",resource="deployments",scope="namespace",subresource="",verb="PATCH",version="v1"} 7
apiserver_request_total{code="404",component="apiserver",dry_run="",group="",resource="secrets",scope="namespace",subresource="",verb="GET",version="v1"} 2
apiserver_request_duration_seconds_bucket{verb="GET",le="+Inf"} 12
`;

describe('bench Prometheus text reader', () => {
  it('reads names, labels (escapes included) and values, skipping comments', () => {
    const s = parsePrometheusText(
      '# HELP x y\nx_total{a="b",msg="say \\"hi\\"\\nthere",c="a\\\\b"} 3\nup 1 1700000000000\nbad line\n',
    );
    assert.deepEqual(s, [
      { name: 'x_total', labels: { a: 'b', msg: 'say "hi"\nthere', c: 'a\\b' }, value: 3 },
      { name: 'up', labels: {}, value: 1 },
    ]);
    assert.equal(parsePrometheusText('h_bucket{le="+Inf"} +Inf')[0]?.value, Infinity);
  });

  it('sums apiserver_request_total by verb with dry-run requests apart', () => {
    assert.deepEqual(requestsByVerb(parsePrometheusText(apiserver)), {
      GET: 12,
      PATCH: 4,
      'PATCH (dry-run)': 7,
    });
  });

  it('diffs counters and drops keys that did not move', () => {
    assert.deepEqual(diffCounts({ GET: 12, PATCH: 4, LIST: 1 }, { GET: 10, PATCH: 4 }), { GET: 2, LIST: 1 });
  });

  it('names the objects of one kind reconciled at least once', () => {
    const text = `gotk_reconcile_duration_seconds_count{kind="Kustomization",name="a",namespace="bench"} 2
gotk_reconcile_duration_seconds_count{kind="Kustomization",name="b",namespace="bench"} 0
gotk_reconcile_duration_seconds_count{kind="GitRepository",name="a",namespace="bench"} 1
gotk_reconcile_duration_seconds_sum{kind="Kustomization",name="c",namespace="bench"} 1.5
`;
    assert.deepEqual([...reconciledObjects(parsePrometheusText(text), 'Kustomization')], ['bench/a']);
  });
});
