import type { CostGroup } from '../../shared/api/types';
import { compareDecimals, sumDecimals } from '../../shared/lib/decimal';
import { NONE, extendDrill } from '../../shared/lib/drill';

export interface TreeNode {
  name: string;
  /** Exact decimal amount (the sum of the children for inner nodes). */
  amount: string;
  /** `Number(amount)`, for chart geometry only. */
  value: number;
  children?: TreeNode[];
}

const byAmountDesc = (a: { amount: string; name: string }, b: { amount: string; name: string }) =>
  compareDecimals(b.amount, a.amount) || a.name.localeCompare(b.name);

/**
 * Builds a tree from groups whose keys are a path (e.g. [category, sub-kind, service]). Inner
 * amounts are exact sums of their children; siblings are ordered by amount, largest first.
 */
export function buildTree(groups: CostGroup[]): TreeNode[] {
  interface Draft {
    amounts: string[];
    children: Map<string, Draft>;
  }
  const root: Draft = { amounts: [], children: new Map() };
  for (const g of groups) {
    let node = root;
    for (const key of g.keys) {
      const name = key || NONE;
      if (!node.children.has(name)) node.children.set(name, { amounts: [], children: new Map() });
      node = node.children.get(name)!;
    }
    node.amounts.push(g.amount.amount);
  }
  const finish = (d: Draft): TreeNode[] =>
    [...d.children.entries()]
      .map(([name, c]) => {
        const children = finish(c);
        const amount = sumDecimals([...c.amounts, ...children.map((k) => k.amount)]);
        return { name, amount, value: Number(amount), ...(children.length ? { children } : {}) };
      })
      .sort(byAmountDesc);
  return finish(root);
}

export interface SankeyNode {
  /** Unique id (prefixed by level, since a category and a service may share a name). */
  name: string;
  label: string;
  depth: number;
}
export interface SankeyLink {
  source: string;
  target: string;
  amount: string;
  value: number;
}
export interface Sankey {
  nodes: SankeyNode[];
  links: SankeyLink[];
  /** Exact sum of every flow out of the tenant. */
  total: string;
  /** Sub-kinds each category → service flow is made of, keyed by `flowKey(category, service)`. */
  subKinds: Map<string, string[]>;
}

/** Node id of a level: t = tenant, c = category, s = service. */
export const sankeyId = (level: 't' | 'c' | 's', name: string) => `${level}:${name}`;
const flowKey = (category: string, service: string) => JSON.stringify([category, service]);

/**
 * Cost flow tenant → category → service from groups keyed [category, sub-kind, service]. The
 * tenant is the single root; each tenant → category link carries the exact sum of that
 * category's services. The sub-kinds are kept aside so a click can become a drill path.
 */
export function buildSankey(tenant: string, groups: CostGroup[]): Sankey {
  const subKinds = new Map<string, string[]>();
  for (const g of groups) {
    const [category = '', subKind = '', service = ''] = g.keys;
    const k = flowKey(category || NONE, service || NONE);
    const list = subKinds.get(k) ?? [];
    if (!list.includes(subKind)) list.push(subKind);
    subKinds.set(k, list);
  }
  const tree = buildTree(groups.map((g) => ({ ...g, keys: [g.keys[0] ?? '', g.keys[2] ?? ''] })));
  const root = sankeyId('t', tenant);
  const nodes: SankeyNode[] = [{ name: root, label: tenant, depth: 0 }];
  const links: SankeyLink[] = [];
  const services = new Set<string>();
  for (const cat of tree) {
    const c = sankeyId('c', cat.name);
    nodes.push({ name: c, label: cat.name, depth: 1 });
    links.push({ source: root, target: c, amount: cat.amount, value: cat.value });
    for (const svc of cat.children ?? []) {
      const s = sankeyId('s', svc.name);
      if (!services.has(s)) {
        services.add(s);
        nodes.push({ name: s, label: svc.name, depth: 2 });
      }
      links.push({ source: c, target: s, amount: svc.amount, value: svc.value });
    }
  }
  const total = sumDecimals(tree.map((t) => t.amount));
  // Geometry only: a flow is drawn at least SANKEY_MIN_SHARE of the total thick, so a tiny cost
  // stays visible and clickable. Amounts (tooltips, totals) stay exact.
  const floor = Number(total) * SANKEY_MIN_SHARE;
  for (const l of links) l.value = Math.max(l.value, floor);
  return { nodes, links, total, subKinds };
}

/** The thinnest flow drawn, as a share of the total. */
export const SANKEY_MIN_SHARE = 0.02;

const unprefix = (id: string) => id.slice(2);

/**
 * The drill path a Sankey click leads to: the tenant → the top; a category → that category; a
 * category → service flow → category, sub-kind and service when the flow is one sub-kind (else
 * just the category); a service node → the same, when only one category reaches it. Null when
 * the click names no single path.
 */
export function sankeyDrill(s: Sankey, click: { dataType?: string; name: string; data?: unknown }): string[] | null {
  const toService = (category: string, service: string) => {
    const kinds = s.subKinds.get(flowKey(category, service)) ?? [];
    return extendDrill([], kinds.length === 1 ? [category, kinds[0], service] : [category]);
  };
  if (click.dataType === 'edge') {
    const { source = '', target = '' } = (click.data ?? {}) as { source?: string; target?: string };
    if (source.startsWith('t:')) return extendDrill([], [unprefix(target)]);
    return toService(unprefix(source), unprefix(target));
  }
  if (click.name.startsWith('t:')) return [];
  if (click.name.startsWith('c:')) return extendDrill([], [unprefix(click.name)]);
  const into = s.links.filter((l) => l.target === click.name);
  return into.length === 1 ? toService(unprefix(into[0].source), unprefix(click.name)) : null;
}
