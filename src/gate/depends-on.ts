/**
 * `Depends-On:` footers (Zuul's cross-project dependencies): each names a change by its URL
 * (`https://review.example.org/c/org/lib/+/123`, `…/#/c/123/`) or, the older way, by Change-Id.
 */

export type DependencyRef = { number: number } | { changeId: string };

const FOOTER = /^Depends-On:\s*(\S+)\s*$/gim;

export function dependsOn(message: string): DependencyRef[] {
  const out: DependencyRef[] = [];
  for (const m of message.matchAll(FOOTER)) {
    const v = m[1]!;
    const byUrl = /(?:\/\+\/|\/c\/|#\/c\/)(\d+)(?:\/\d+)?\/?$/.exec(v);
    if (/^I[0-9a-f]{40}$/.test(v)) out.push({ changeId: v });
    else if (byUrl && /^https?:\/\//.test(v)) out.push({ number: Number(byUrl[1]) });
  }
  return out;
}
