// Hostile inputs the abuse tests feed to Tide: YAML that explodes or lies, built small.

/** "Billion laughs": `levels` anchors, each a list of nine aliases of the one before (9^levels leaves). */
export function yamlBomb(levels = 9, indent = ''): string {
  const lines = [`${indent}l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
  for (let i = 1; i < levels; i++)
    lines.push(
      `${indent}l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\n`;
}
