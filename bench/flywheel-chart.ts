/** The bench:flywheel chart: median true success by week per scenario, its IQR, and the oracle. */

export interface ChartSeries {
  name: string;
  oracle: number;
  /** Draw its oracle and 90 %-of-oracle lines (default true; off for a scenario's second arm). */
  showOracle?: boolean;
  /** Week 0 is the starting production prompt; then one point per simulated week. */
  points: { week: number; median: number; q25: number; q75: number }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function flywheelChart(series: readonly ChartSeries[], title: string): string {
  // The legend's column is as wide as its longest line (about 6.6 px a character at 12 px).
  const longest = Math.max(0, ...series.map((s) => `${s.name} median (IQR)`.length));
  const m = { left: 60, right: Math.max(170, Math.ceil(40 + 6.6 * longest)), top: 40, bottom: 50 };
  const width = 550 + m.right;
  const height = 420;
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const weeks = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.week)));
  const x = (week: number) => m.left + (week / weeks) * plotW;
  const y = (v: number) => m.top + (1 - v) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.left}" y="22" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    out.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 8}" y="${y(v) + 4}" text-anchor="end">${t * 10}%</text>`,
    );
  }
  for (let w = 0; w <= weeks; w++)
    out.push(`<text x="${x(w)}" y="${m.top + plotH + 18}" text-anchor="middle">${w}</text>`);
  out.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle">week (0 = starting prompt)</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">true success (held-out)</text>`,
  );
  let ly = m.top + 10;
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const oracle = s.showOracle ?? true;
    const pts = [...s.points].sort((a, b) => a.week - b.week);
    if (pts.length > 1) {
      const band = [
        ...pts.map((p) => `${x(p.week)},${y(p.q75)}`),
        ...[...pts].reverse().map((p) => `${x(p.week)},${y(p.q25)}`),
      ].join(' ');
      out.push(`<polygon points="${band}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
    }
    out.push(
      `<polyline points="${pts.map((p) => `${x(p.week)},${y(p.median)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`,
      ...pts.map((p) => `<circle cx="${x(p.week)}" cy="${y(p.median)}" r="3" fill="${color}"/>`),
    );
    if (oracle) {
      out.push(
        `<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(s.oracle)}" y2="${y(s.oracle)}" stroke="${color}" stroke-dasharray="6 4"/>`,
        `<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(0.9 * s.oracle)}" y2="${y(0.9 * s.oracle)}" stroke="${color}" stroke-dasharray="2 3" stroke-opacity="0.6"/>`,
      );
    }
    const lx = m.left + plotW + 16;
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 28}" y="${ly + 4}">${escape(s.name)} median (IQR)</text>`,
    );
    if (oracle) {
      out.push(
        `<line x1="${lx}" x2="${lx + 22}" y1="${ly + 16}" y2="${ly + 16}" stroke="${color}" stroke-dasharray="6 4"/>`,
        `<text x="${lx + 28}" y="${ly + 20}">oracle ${(s.oracle * 100).toFixed(1)}%</text>`,
        `<line x1="${lx}" x2="${lx + 22}" y1="${ly + 32}" y2="${ly + 32}" stroke="${color}" stroke-dasharray="2 3"/>`,
        `<text x="${lx + 28}" y="${ly + 36}">90% of oracle</text>`,
      );
    }
    ly += oracle ? 54 : 22;
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
