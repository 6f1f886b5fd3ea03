/**
 * The summary of a test run, from node:test's events: what test/run.ts prints as its last line
 * and keeps in test-results/summary.json.
 *
 * Unlike node's own totals, a skipped `describe` counts as a skip here, with its reason: node
 * counts no test at all for it, so a whole suite could go missing without a trace. A failed
 * suite counts only when its own hooks failed (a failed test in it is already counted).
 */

export interface TestOutcome {
  /** Where the test is defined (a test file, or a module of tests it shares). */
  file: string;
  name: string;
  /** Why it was skipped; for a failure, the error's first line. */
  reason?: string;
}

export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  failures: TestOutcome[];
  skips: TestOutcome[];
}

interface TestEvent {
  type: string;
  data: {
    name: string;
    file?: string;
    skip?: string | boolean;
    todo?: string | boolean;
    details?: { type?: string; error?: { message?: string; cause?: { message?: string } } };
  };
}

export async function summarize(events: AsyncIterable<TestEvent>): Promise<RunSummary> {
  const s: RunSummary = { passed: 0, failed: 0, skipped: 0, todo: 0, failures: [], skips: [] };
  for await (const { type, data: d } of events) {
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    const file = d.file ?? '';
    const suite = d.details?.type === 'suite';
    if (d.skip) {
      s.skipped++;
      s.skips.push({ file, name: d.name, reason: typeof d.skip === 'string' ? d.skip : undefined });
    } else if (d.todo) {
      s.todo++;
    } else if (type === 'test:fail') {
      const err = d.details?.error;
      const message = String(err?.cause?.message ?? err?.message ?? '').split('\n')[0];
      if (suite && /subtests? failed/.test(message)) continue;
      s.failed++;
      s.failures.push({ file, name: d.name, reason: message });
    } else if (!suite) {
      s.passed++;
    }
  }
  return s;
}
