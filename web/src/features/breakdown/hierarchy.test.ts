import { describe, expect, it } from 'vitest';
import { sumDecimals } from '../../shared/lib/decimal';
import { SANKEY_MIN_SHARE, buildSankey, buildTree, sankeyDrill, sankeyId } from './hierarchy';

const g = (keys: string[], amount: string) => ({ keys, amount: { amount, currency: 'USD' }, events: 1, percentage: null });

const THREE = [
  g(['hosting', 'compute', 'ec2'], '12.5'),
  g(['hosting', 'compute', 'compute-engine'], '0.00000000503'),
  g(['hosting', 'cdn', 'cloudfront'], '20'),
  g(['api', 'requests', 'api-gateway'], '0.1'),
  g(['api', 'requests', 'ec2'], '0.2'),
];

describe('buildTree', () => {
  it('nests category → sub-kind → service with exact inner sums, largest first', () => {
    const t = buildTree(THREE);
    expect(t.map((n) => [n.name, n.amount])).toEqual([
      ['hosting', '32.50000000503'],
      ['api', '0.3'],
    ]);
    const hosting = t[0];
    expect(hosting.children!.map((n) => [n.name, n.amount])).toEqual([
      ['cdn', '20'],
      ['compute', '12.50000000503'],
    ]);
    expect(hosting.children![1].children!.map((n) => n.name)).toEqual(['ec2', 'compute-engine']);
    expect(hosting.children![1].children![0]).toEqual({ name: 'ec2', amount: '12.5', value: 12.5 });
    expect(t[1].value).toBeCloseTo(0.3);
  });
  it('merges duplicate paths and names empty keys', () => {
    const t = buildTree([g(['a', ''], '1'), g(['a', ''], '2')]);
    expect(t).toEqual([{ name: 'a', amount: '3', value: 3, children: [{ name: '(none)', amount: '3', value: 3 }] }]);
  });
  it('is empty for no groups', () => {
    expect(buildTree([])).toEqual([]);
  });
});

describe('buildSankey', () => {
  const s = buildSankey('acme', THREE);
  const two = THREE;
  const sum = (pred: (l: (typeof s.links)[number]) => boolean) => sumDecimals(s.links.filter(pred).map((l) => l.amount));

  it('roots every flow at the tenant and keeps node ids unique', () => {
    expect(s.nodes[0]).toEqual({ name: 't:acme', label: 'acme', depth: 0 });
    expect(new Set(s.nodes.map((n) => n.name)).size).toBe(s.nodes.length);
    // ec2 is reached from two categories but is one node.
    expect(s.nodes.filter((n) => n.label === 'ec2')).toHaveLength(1);
    expect(s.links.filter((l) => l.target === sankeyId('s', 'ec2')).map((l) => l.amount)).toEqual(['12.5', '0.2']);
  });
  it('has links that sum to the totals, exactly, at every level', () => {
    const total = sumDecimals(two.map((x) => x.amount.amount));
    expect(s.total).toBe(total);
    expect(sum((l) => l.source === 't:acme')).toBe(total);
    expect(sum((l) => l.source.startsWith('c:'))).toBe(total);
    for (const cat of ['hosting', 'api']) {
      const inflow = sum((l) => l.target === sankeyId('c', cat));
      expect(sum((l) => l.source === sankeyId('c', cat))).toBe(inflow);
    }
    expect(sum((l) => l.target === 'c:hosting')).toBe('32.50000000503');
  });
  it('draws tiny flows at a minimum thickness, keeping their exact amounts', () => {
    const tiny = s.links.find((l) => l.target === sankeyId('s', 'compute-engine'));
    expect(tiny?.amount).toBe('0.00000000503');
    expect(tiny?.value).toBeCloseTo(32.80000000503 * SANKEY_MIN_SHARE);
    expect(s.links.find((l) => l.target === 'c:hosting')?.value).toBeCloseTo(32.50000000503);
  });
  it('keeps a category and a service of the same name apart', () => {
    const x = buildSankey('t', [g(['monitoring', 'general', 'monitoring'], '1')]);
    expect(x.nodes.map((n) => n.name)).toEqual(['t:t', 'c:monitoring', 's:monitoring']);
    expect(x.links).toHaveLength(2);
  });
});

describe('sankeyDrill', () => {
  const s = buildSankey('acme', [
    ...THREE,
    g(['hosting', 'storage', 'ec2'], '1'), // ec2 under hosting is now two sub-kinds
    g(['database', 'queries', 'rds'], '3'),
  ]);
  const node = (name: string) => ({ dataType: 'node', name });
  const edge = (source: string, target: string) => ({ dataType: 'edge', name: `${source} > ${target}`, data: { source, target } });

  it('drills to the clicked category, or back to the top from the tenant', () => {
    expect(sankeyDrill(s, node('c:hosting'))).toEqual(['hosting']);
    expect(sankeyDrill(s, edge('t:acme', 'c:api'))).toEqual(['api']);
    expect(sankeyDrill(s, node('t:acme'))).toEqual([]);
  });
  it('drills to category, sub-kind and service when a flow is one sub-kind', () => {
    expect(sankeyDrill(s, edge('c:hosting', 's:cloudfront'))).toEqual(['hosting', 'cdn', 'cloudfront']);
    expect(sankeyDrill(s, node('s:rds'))).toEqual(['database', 'queries', 'rds']);
  });
  it('stops at the category when a flow spans sub-kinds, and names no path for a shared service', () => {
    expect(sankeyDrill(s, edge('c:hosting', 's:ec2'))).toEqual(['hosting']);
    expect(sankeyDrill(s, edge('c:api', 's:ec2'))).toEqual(['api', 'requests', 'ec2']);
    expect(sankeyDrill(s, node('s:ec2'))).toBeNull();
  });
});
