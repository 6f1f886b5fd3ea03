import type { Sample } from '../store/store.ts';

/**
 * The plots' data as the status page reads it: per series, its points as [ms, value] pairs,
 * oldest first. Points come from the sampler (src/metrics/sampler.ts).
 */
export interface SeriesView {
  from: string;
  to: string;
  series: Record<string, [number, number][]>;
}

export function seriesView(samples: readonly Sample[], from: number, to: number): SeriesView {
  const series: Record<string, [number, number][]> = {};
  for (const s of samples) {
    if (s.at < from || s.at > to) continue;
    (series[s.series] ??= []).push([s.at, s.value]);
  }
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), series };
}
