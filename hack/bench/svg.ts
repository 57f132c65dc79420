// A small SVG line-chart renderer for docs/benchmarks/: panels side by side (e.g. time and memory
// against N), one line per series, a shared legend. No dependencies; the output is plain, diffable text.

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: Point[];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const panelWidth = 400;
const panelHeight = 280;
const margin = { left: 62, right: 18, top: 34, bottom: 46 };
const headerHeight = 52;
const legendRow = 20;

export const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/** Round tick values from 0 to at least max: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : String(v));

function renderPanel(p: Panel, x0: number, y0: number): string {
  const w = panelWidth - margin.left - margin.right;
  const h = panelHeight - margin.top - margin.bottom;
  const pts = p.series.flatMap((s) => s.points);
  const xs = [...new Set(pts.map((q) => q.x))].sort((a, b) => a - b);
  const xMax = Math.max(1, ...xs);
  const yTicks = niceTicks(Math.max(0, ...pts.map((q) => q.y)));
  const yMax = yTicks.at(-1)!;
  const sx = (x: number) => x0 + margin.left + (x / xMax) * w;
  const sy = (y: number) => y0 + margin.top + h - (y / yMax) * h;
  const out: string[] = [];
  out.push(`<text x="${x0 + margin.left + w / 2}" y="${y0 + 20}" class="title">${escapeXml(p.title)}</text>`);
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${sx(0)}" y1="${y}" x2="${sx(xMax)}" y2="${y}" class="grid"/>`);
    out.push(`<text x="${sx(0) - 6}" y="${y}" class="ytick">${fmt(t)}</text>`);
  }
  for (const x of xs) {
    out.push(`<text x="${sx(x).toFixed(1)}" y="${y0 + margin.top + h + 16}" class="xtick">${fmt(x)}</text>`);
  }
  out.push(
    `<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(xMax)}" y2="${sy(0)}" class="axis"/>`,
    `<text x="${x0 + margin.left + w / 2}" y="${y0 + panelHeight - 8}" class="xlabel">${escapeXml(p.xLabel)}</text>`,
    `<text transform="translate(${x0 + 14} ${y0 + margin.top + h / 2}) rotate(-90)" class="ylabel">${escapeXml(p.yLabel)}</text>`,
  );
  for (const s of p.series) {
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    if (sorted.length === 0) continue;
    const d = sorted.map((q) => `${sx(q.x).toFixed(1)},${sy(q.y).toFixed(1)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const q of sorted) {
      out.push(
        `<circle cx="${sx(q.x).toFixed(1)}" cy="${sy(q.y).toFixed(1)}" r="3" fill="${s.color}"><title>${escapeXml(`${s.label}: ${fmt(q.y)} at ${fmt(q.x)}`)}</title></circle>`,
      );
    }
  }
  return out.join('\n');
}

/** Renders panels in one row under a title, with one legend for every series label. */
export function renderCharts(panels: Panel[], title: string, subtitle = ''): string {
  const legend = new Map<string, Series>();
  for (const s of panels.flatMap((p) => p.series)) if (!legend.has(s.label)) legend.set(s.label, s);
  const width = Math.max(1, panels.length) * panelWidth;
  const perRow = Math.max(1, Math.floor(width / 200));
  const legendHeight = Math.ceil(legend.size / perRow) * legendRow + 10;
  const height = headerHeight + panelHeight + legendHeight;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    '<style>.title{font-weight:bold;text-anchor:middle}.xtick,.xlabel,.ylabel{text-anchor:middle}.ytick{text-anchor:end;dominant-baseline:middle}.grid{stroke:#e5e5e5}.axis{stroke:#444}.head{font-size:15px;font-weight:bold}.sub{fill:#555}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="22" class="head">${escapeXml(title)}</text>`,
    `<text x="12" y="40" class="sub">${escapeXml(subtitle)}</text>`,
  ];
  panels.forEach((p, i) => {
    out.push(renderPanel(p, i * panelWidth, headerHeight));
  });
  [...legend.values()].forEach((s, i) => {
    const x = 16 + (i % perRow) * 200;
    const y = headerHeight + panelHeight + 10 + Math.floor(i / perRow) * legendRow;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${x + 34}" y="${y + 4}">${escapeXml(s.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
