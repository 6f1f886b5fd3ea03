/**
 * limit/marker pagination as Nova (`servers_links`), Neutron (`networks_links`) and Glance
 * (`next`) do it.
 *
 * Nova and Neutron put a `next` link on every FULL page, the last one included (recorded:
 * `/flavors/detail?limit=6` with exactly 6 flavors had one), so the walk also stops on an empty
 * page or on a page shorter than the first (pages are cut at the server's max_limit, so only
 * the last one can be shorter). Only the query of a `next` link is used: the links carry the
 * host the service believes it has, which behind a proxy or TLS terminator is not ours.
 */

export interface Link {
  rel: string;
  href: string;
}

export interface Page<T> {
  items: T[];
  /** Nova/Neutron `<resource>_links`. */
  links?: Link[];
  /** Glance `next` (a relative URL). */
  next?: string;
}

export interface PageWalk<T, A> {
  /** Query of the first request (filters). */
  first?: Record<string, string>;
  fetch: (query: Record<string, string> | undefined) => Promise<A>;
  read: (answer: A) => Page<T>;
  /** A guard against a service that keeps answering `next`: 10,000 pages of 1000 servers. */
  maxPages?: number;
}

export async function collectPages<T, A>(walk: PageWalk<T, A>): Promise<T[]> {
  const all: T[] = [];
  const maxPages = walk.maxPages ?? 10_000;
  let query = walk.first;
  let firstSize: number | undefined;
  const seenMarkers = new Set<string>();
  for (let n = 0; n < maxPages; n++) {
    const page = walk.read(await walk.fetch(query));
    all.push(...page.items);
    firstSize ??= page.items.length;
    const href = page.next ?? page.links?.find((l) => l.rel === 'next')?.href;
    if (!href || page.items.length === 0 || page.items.length < firstSize) break;
    const next = queryOf(href);
    const marker = next.marker;
    // A next link without a marker, or with one already followed, would loop for ever.
    if (!marker || seenMarkers.has(marker)) break;
    seenMarkers.add(marker);
    query = next;
  }
  return all;
}

function queryOf(href: string): Record<string, string> {
  const u = new URL(href, 'http://relative.invalid');
  return Object.fromEntries(u.searchParams.entries());
}
