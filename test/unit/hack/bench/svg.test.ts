import assert from 'node:assert/strict';
import { escapeXml, niceTicks, renderCharts } from '../../../../hack/bench/svg.ts';

describe('bench SVG charts', () => {
  it('ticks are round steps from 0 that reach the maximum', () => {
    assert.deepEqual(niceTicks(9), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(niceTicks(250), [0, 50, 100, 150, 200, 250]);
    assert.deepEqual(niceTicks(0.7), [0, 0.2, 0.4, 0.6, 0.8]);
    assert.deepEqual(niceTicks(0), [0, 1]);
  });

  it('draws one line per series, scaled into its panel, with a legend and escaped text', () => {
    const svg = renderCharts(
      [
        {
          title: 'Time <all Ready>',
          xLabel: 'N',
          yLabel: 's',
          series: [
            {
              label: 'Tide & co',
              color: '#111',
              points: [
                { x: 100, y: 10 },
                { x: 500, y: 50 },
              ],
            },
            {
              label: 'Flux',
              color: '#222',
              dashed: true,
              points: [
                { x: 500, y: 20 },
                { x: 100, y: 5 },
              ],
            },
          ],
        },
        {
          title: 'Memory',
          xLabel: 'N',
          yLabel: 'MiB',
          series: [{ label: 'Flux', color: '#222', points: [{ x: 100, y: 80 }] }],
        },
      ],
      'Fan-out',
      'a "note"',
    );
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="800"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 3);
    assert.ok(
      svg.includes('Time &lt;all Ready&gt;') &&
        svg.includes('a &quot;note&quot;') &&
        svg.includes('Tide &amp; co'),
    );
    // The legend names each label once, though Flux is in both panels.
    assert.equal((svg.match(/>Flux<\/text>/g) ?? []).length, 1);
    // Points are sorted by x: Flux's line goes from N=100 to N=500 (left to right).
    const flux =
      /<polyline points="([^"]+)" fill="none" stroke="#222" stroke-width="2" stroke-dasharray/.exec(svg)?.[1];
    const xs = flux?.split(' ').map((p) => Number(p.split(',')[0]));
    assert.ok(xs && xs[0]! < xs[1]!);
    // The highest point of the first panel (50 s) sits on its top tick (50), the lowest y coordinate.
    const ys = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)" r="3" fill="#111"/g)].map((m) =>
      Number(m[1]),
    );
    assert.equal(ys.length, 2);
    assert.ok(ys[1]! < ys[0]!);
    assert.equal(escapeXml(`<a href='x'>`), '&lt;a href=&apos;x&apos;&gt;');
  });
});
